//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import NIOCore
import Testing
@testable import VibesModels

/// The hand-written reader of the usual whole reply agrees with the full reader on every reply
/// it accepts, and leaves every other reply to it.
@Suite struct ReplyScannerTests {
    /// What the scanner reads, described field by field; `nil`: left to the full reader.
    static func scanned(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { OllamaLineScanner.reply($0) }.map { String(describing: $0) }
    }

    /// What the full reader (JSON values, then the reply's fields) reads; `nil`: not a reply.
    static func full(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { JSONValue.parse(utf8: $0) }.flatMap(OllamaWire.ChatReply.init(json:)).map { String(describing: $0) }
    }

    static let usual = [
        #"{"model":"gemma3:270m","created_at":"2025-01-02T03:04:05.123456789Z","message":{"role":"assistant","content":"Hello there"},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
        #"{"model":"m","created_at":"x","message":{"role":"assistant","content":"","thinking":"let me see"},"done":false}"#,
        #"{"done_reason":"length","message":{"thinking":"","content":"a\"b\\c\/d\n\t\r\b\f","role":"assistant"},"done":true,"model":"m","eval_count":0}"#,
        #"{"model":"m","message":{"role":"assistant","content":"\u003cb\u003e \u0026 \u2028 \ud83c\udf89 \u00e9 héllo 世界 🎉"},"done":true}"#,
        #" { "model" : "m" , "message" : { "role" : "assistant" , "content" : "spaced" } , "done" : true , "eval_count" : 7 } "#,
        #"{"eval_duration":999999999999999999,"prompt_eval_count":0}"#,
        #"{}"#,
    ]

    @Test(arguments: usual)
    func theUsualReplyIsReadAsTheFullReaderReadsIt(_ reply: String) throws {
        let scanned = try #require(Self.scanned(Array(reply.utf8)), "accepted")
        #expect(scanned == Self.full(Array(reply.utf8)))
    }

    @Test(arguments: [
        #"{"error":"model 'x' not found"}"#,
        #"{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{}}}]},"done":true}"#,
        #"{"model":"m","message":{"role":"assistant","content":"x","images":["aGk="]},"done":true}"#,
        #"{"model":"m","message":null,"done":true}"#,
        #"{"model":null}"#,
        #"{"model":"m","extra":1}"#,
        #"{"model":"m","model":"n"}"#,
        #"{"message":{"role":"assistant","content":"a","content":"b"}}"#,
        #"{"message":{"role":"assistant"}}"#,
        #"{"message":{"content":"x"}}"#,
        #"{"eval_count":-1}"#,
        #"{"eval_count":1.5}"#,
        #"{"eval_count":1e3}"#,
        #"{"eval_count":1E3}"#,
        #"{"eval_count":01}"#,
        #"{"eval_count":1234567890123456789}"#,
        #"{"eval_count":"3"}"#,
        #"{"model":"m\u0041"}"#,
        #"{"model":"é"}"#,
        #"{"done":"yes"}"#,
        #"{"done":true} x"#,
        #"{"done":true"#,
        #"{"m\u006fdel":"m"}"#,
    ])
    func otherRepliesAreLeftToTheFullReader(_ reply: String) {
        #expect(Self.scanned(Array(reply.utf8)) == nil)
    }

    @Test func invalidUTF8InTheTextIsLeftToTheFullReader() {
        var bytes = Array(#"{"message":{"role":"assistant","content":"ab"}}"#.utf8)
        bytes.insert(0xFF, at: 41)
        #expect(Self.scanned(bytes) == nil)
        #expect(Self.full(bytes) == nil)
    }

    /// Every reply one byte away from a usual one (a byte left out, or put in its place from a
    /// set that breaks JSON in many ways): where the scanner accepts, the full reader reads the same.
    @Test(arguments: usual.dropLast())  // not `{}`: nothing one byte away is a reply
    func nearbyRepliesAgreeWhereAccepted(_ reply: String) {
        let bytes = Array(reply.utf8)
        let swaps: [UInt8] = Array(#""\{}[],:0-.eE x"#.utf8) + [0x00, 0x1F, 0xC3, 0xA9, 0xFF]
        var variants: [[UInt8]] = []
        for index in bytes.indices {
            var cut = bytes
            cut.remove(at: index)
            variants.append(cut)
            for byte in swaps where byte != bytes[index] {
                var swapped = bytes
                swapped[index] = byte
                variants.append(swapped)
            }
        }
        var accepted = 0
        for variant in variants {
            guard let scanned = Self.scanned(variant) else { continue }
            accepted += 1
            #expect(scanned == Self.full(variant), "\(String(decoding: variant, as: UTF8.self))")
        }
        #expect(accepted > 0)
    }

    @Test func decodingTakesTheScannedReplyOrFallsBack() throws {
        let usual = try OllamaProvider.decodeChatReply(ByteBuffer(string: Self.usual[0]))
        #expect(usual.message?.content == "Hello there" && usual.evalCount == 282 && usual.doneReason == "stop")
        #expect(throws: ModelError.serverError(status: 200, message: "boom", midStream: true)) {
            try OllamaProvider.decodeChatReply(ByteBuffer(string: #"{"error":"boom"}"#))
        }
        let tools = try OllamaProvider.decodeChatReply(ByteBuffer(string: #"{"message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},"done":true}"#))
        #expect(tools.message?.toolCalls?.first?.function.name == "f")
    }
}
