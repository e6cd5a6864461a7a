//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import Glibc

/// A plain HTTP/1.1 exchange on a loopback socket, byte by byte as the test writes it: for
/// process tests that must cut a request off half way (a client that stops, a server killed).
package final class RawHTTP {
    package let fd: Int32

    package init(port: Int) throws {
        guard let fd = loopbackConnect(port: port) else { throw POSIXError(.ECONNREFUSED) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends `bytes`; `false` when the peer is gone.
    @discardableResult
    package func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    package func send(_ text: String) { send(Array(text.utf8)) }

    /// Everything until the peer closes (send requests with `Connection: close`).
    package func receiveAll() -> String {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            result += buffer[0..<count]
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// One request with `Connection: close`: the status and the body.
    package static func exchange(port: Int, _ method: String, _ path: String, headers: [String] = [], body: [UInt8] = []) throws -> (status: Int, body: String) {
        let connection = try RawHTTP(port: port)
        let head = ([ "\(method) \(path) HTTP/1.1", "Host: 127.0.0.1", "Connection: close", "Content-Length: \(body.count)"] + headers)
            .joined(separator: "\r\n") + "\r\n\r\n"
        connection.send(Array(head.utf8) + body)
        let response = connection.receiveAll()
        let status = response.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        let body = response.range(of: "\r\n\r\n").map { String(response[$0.upperBound...]) } ?? ""
        return (status, body)
    }
}

/// A multipart upload's parts around the file's bytes: what comes before and after them.
package func multipartFrame(boundary: String, filename: String = "in.jsonl") -> (head: String, tail: String) {
    ("--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--\(boundary)\r\n"
        + "Content-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: application/jsonl\r\n\r\n",
     "\r\n--\(boundary)--\r\n")
}
