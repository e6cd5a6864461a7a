//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import VibesModels

/// Our request encoder: a request in one buffer, written at its end, with its length.
@Suite struct PlainRequestEncoderTests {
    static func encoded(_ parts: [HTTPClientRequestPart]) throws -> [String] {
        let channel = EmbeddedChannel(handler: PlainRequestEncoder())
        for part in parts { try channel.writeOutbound(part) }
        var written: [String] = []
        while let buffer = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let bytes) = buffer else { throw ChannelError.operationUnsupported }
            written.append(String(buffer: bytes))
        }
        _ = try channel.finish()
        return written
    }

    @Test func aPostIsOneWriteWithItsLength() throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Host", value: "127.0.0.1:11434")
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/api/chat", headers: headers)
        let written = try Self.encoded([.head(head), .body(.byteBuffer(ByteBuffer(string: #"{"a":1}"#))), .end(nil)])
        #expect(written == ["POST /api/chat HTTP/1.1\r\nContent-Type: application/json\r\nHost: 127.0.0.1:11434\r\nContent-Length: 7\r\n\r\n{\"a\":1}"])
    }

    @Test func withoutABodyAGetHasNoLengthAndAPostHasZero() throws {
        let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/tags", headers: ["Host": "h:1"])
        #expect(try Self.encoded([.head(get), .end(nil)]) == ["GET /api/tags HTTP/1.1\r\nHost: h:1\r\n\r\n"])
        let post = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/x", headers: ["Host": "h:1"])
        #expect(try Self.encoded([.head(post), .end(nil)]) == ["POST /x HTTP/1.1\r\nHost: h:1\r\nContent-Length: 0\r\n\r\n"])
    }

    @Test func twoRequestsOnOneConnectionAreEachWhole() throws {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/a", headers: ["Host": "h:1"])
        let written = try Self.encoded([
            .head(head), .body(.byteBuffer(ByteBuffer(string: "1"))), .end(nil),
            .head(head), .body(.byteBuffer(ByteBuffer(string: "22"))), .end(nil),
        ])
        #expect(written == ["POST /a HTTP/1.1\r\nHost: h:1\r\nContent-Length: 1\r\n\r\n1", "POST /a HTTP/1.1\r\nHost: h:1\r\nContent-Length: 2\r\n\r\n22"])
    }

    @Test func sendIsOneWriteAndTheResponseDecoderSeesTheHead() throws {
        let encoder = PlainRequestEncoder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(encoder)
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/api/chat", headers: ["Host": "h:1"])
        encoder.send(head, body: Array("{}".utf8), on: channel)
        let written = try #require(try channel.readOutbound(as: IOData.self))
        guard case .byteBuffer(let bytes) = written else { throw ChannelError.operationUnsupported }
        #expect(String(buffer: bytes) == "POST /api/chat HTTP/1.1\r\nHost: h:1\r\nContent-Length: 2\r\n\r\n{}")
        #expect(try channel.readOutbound(as: IOData.self) == nil, "one write")
        // Without the head seen, the decoder refuses a reply as unsolicited.
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        let part = try #require(try channel.readInbound(as: HTTPClientResponsePart.self))
        guard case .head(let response) = part else { throw ChannelError.operationUnsupported }
        #expect(response.status == .ok)
        _ = try channel.finish()
    }
}
