//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import Testing
@testable import VibesModels

/// The hand-written reader of the usual stream line agrees with the full reader
/// (`decodeChatReply`) on every line it accepts, and leaves every other line to it.
@Suite struct LineScannerTests {
    static func scan(_ line: String) -> (text: String, thinking: String, model: String?)? {
        var text: [UInt8] = Array("before|".utf8)
        var thinking: [UInt8] = []
        let bytes = Array(line.utf8)
        return bytes.withUnsafeBytes { raw in
            guard let fields = OllamaLineScanner.scan(raw, text: &text, thinking: &thinking) else {
                #expect(text == Array("before|".utf8) && thinking.isEmpty, "a refused line leaves the output as it was")
                return nil
            }
            #expect(text.starts(with: Array("before|".utf8)), "appends")
            let model = fields.model.map { String(decoding: bytes[$0], as: UTF8.self) }
            return (String(decoding: text.dropFirst(7), as: UTF8.self), String(decoding: thinking, as: UTF8.self), model)
        }
    }

    static func decoded(_ line: String) throws -> ChatChunk {
        try OllamaProvider.decodeChatReply(ByteBuffer(string: line)).chunk
    }

    @Test(arguments: [
        #"{"model":"gemma3:270m","created_at":"2025-01-02T03:04:05.5Z","message":{"role":"assistant","content":"Hello"},"done":false}"#,
        #"{"model":"m","created_at":"x","message":{"role":"assistant","content":"","thinking":"let me see"},"done":false}"#,
        #"{"message":{"content":"a\"b\\c\/d\n\t\r\b\f","role":"assistant"},"done":false,"model":"m"}"#,
        #"{"model":"m","message":{"role":"assistant","content":"\u003cb\u003e \u0026 \u2028 \ud83c\udf89 \u00e9"},"done":false}"#,
        #"{"model":"m","message":{"role":"assistant","content":"héllo 世界 🎉"},"done":false}"#,
        #" { "model" : "m" , "message" : { "role" : "assistant" , "content" : "spaced" } , "done" : false } "#,
        #"{"model":"m","message":{"role":"assistant","content":"\u0000"}}"#,
        #"{}"#,
    ])
    func agreesWithTheFullReaderOnTheUsualLine(line: String) throws {
        let scanned = try #require(Self.scan(line), "the usual shape is read by the scanner")
        let chunk = try Self.decoded(line)
        #expect(scanned.text == chunk.textDelta)
        #expect(scanned.thinking == chunk.thinkingDelta)
        #expect(scanned.model == chunk.model)
    }

    @Test(arguments: [
        // Left to the full reader: the final line, errors, tool calls, unknown or repeated keys.
        #"{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}"#,
        #"{"error":"boom"}"#,
        #"{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{}}}]},"done":false}"#,
        #"{"model":"m","message":{"role":"assistant","content":"a"},"done":false,"new_field":1}"#,
        #"{"model":"m","message":{"role":"assistant","content":"a","content":"b"},"done":false}"#,
        #"{"model":"m\u0041","message":{"role":"assistant","content":"a"},"done":false}"#,
        #"{"model":"m","message":{"role":"assistant"},"done":false}"#,
        #"{"model":"m","message":null,"done":false}"#,
        // Not JSON, or not whole.
        #"{"model":"m","message":{"role":"assistant","content":"a"},"done":false} x"#,
        #"{"model":"m","message":{"role":"assistant","content":"a"},"done":false"#,
        #"{"model":"m","message":{"role":"assistant","content":"a"#,
        #"{"model":"m","message":{"role":"assistant","content":"bad \x escape"}}"#,
        #"{"model":"m","message":{"role":"assistant","content":"lone \udc00"}}"#,
        #"{"model":"m","message":{"role":"assistant","content":"cut \ud83c"}}"#,
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"raw \u{01} control\"}}",
        #"{"model":"m",}"#,
        "",
    ])
    func leavesEverythingElseToTheFullReader(line: String) {
        #expect(Self.scan(line) == nil)
    }

    @Test func refusesInvalidUTF8() {
        let prefix = Array(#"{"model":"m","message":{"role":"assistant","content":""#.utf8)
        let suffix = Array(#""}}"#.utf8)
        let bad: [[UInt8]] = [[0x80], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE4, 0xB8], [0xFF]]
        for sequence in bad {
            var text: [UInt8] = []
            var thinking: [UInt8] = []
            let line = prefix + sequence + suffix
            #expect(line.withUnsafeBytes { OllamaLineScanner.scan($0, text: &text, thinking: &thinking) } == nil, "\(sequence)")
        }
        var text: [UInt8] = []
        var thinking: [UInt8] = []
        let good = prefix + [0xF0, 0x9F, 0x8E, 0x89] + suffix
        #expect(good.withUnsafeBytes { OllamaLineScanner.scan($0, text: &text, thinking: &thinking) } != nil)
        #expect(text == [0xF0, 0x9F, 0x8E, 0x89])
    }
}
