//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import Testing
@testable import VibesModels

/// Foundation's decoder of a reply, as the reference the one reader (``OllamaWire/ChatReply/read(_:)``)
/// is checked against: the same fields, the same types, `null` as absent.
extension OllamaWire.ChatReply: Decodable {
    enum CodingKeys: String, CodingKey {
        case error, model, message, done
        case createdAt = "created_at"
        case doneReason = "done_reason"
        case totalDuration = "total_duration"
        case loadDuration = "load_duration"
        case promptEvalCount = "prompt_eval_count"
        case promptEvalDuration = "prompt_eval_duration"
        case evalCount = "eval_count"
        case evalDuration = "eval_duration"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        error = try container.decodeIfPresent(String.self, forKey: .error)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        createdAt = try container.decodeIfPresent(String.self, forKey: .createdAt)
        message = try container.decodeIfPresent(OllamaWire.Message.self, forKey: .message)
        done = try container.decodeIfPresent(Bool.self, forKey: .done)
        doneReason = try container.decodeIfPresent(String.self, forKey: .doneReason)
        totalDuration = try container.decodeIfPresent(Int64.self, forKey: .totalDuration)
        loadDuration = try container.decodeIfPresent(Int64.self, forKey: .loadDuration)
        promptEvalCount = try container.decodeIfPresent(Int.self, forKey: .promptEvalCount)
        promptEvalDuration = try container.decodeIfPresent(Int64.self, forKey: .promptEvalDuration)
        evalCount = try container.decodeIfPresent(Int.self, forKey: .evalCount)
        evalDuration = try container.decodeIfPresent(Int64.self, forKey: .evalDuration)
    }
}

@Suite struct ChatReplyReaderTests {
    /// What the reader reads, described field by field; `nil`: refused (or an error object).
    static func read(_ bytes: [UInt8]) -> String? {
        (bytes.withUnsafeBytes { try? OllamaWire.ChatReply.read($0) }).map { String(describing: $0) }
    }

    /// What Foundation's decoder reads; `nil`: not a reply.
    static func decoded(_ bytes: [UInt8]) -> String? {
        (try? JSONDecoder().decode(OllamaWire.ChatReply.self, from: Data(bytes))).map { String(describing: $0) }
    }

    static let replies = [
        #"{"model":"gemma3:270m","created_at":"2025-01-02T03:04:05.123456789Z","message":{"role":"assistant","content":"Hello there"},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
        #"{"model":"m","created_at":"x","message":{"role":"assistant","content":"","thinking":"let me see"},"done":false}"#,
        #"{"done_reason":"length","message":{"thinking":"","content":"a\"b\\c\/d\n\t\r\b\f","role":"assistant"},"done":true,"model":"m","eval_count":0}"#,
        #"{"model":"m","message":{"role":"assistant","content":"\u003cb\u003e \u0026 \u2028 \ud83c\udf89 \u00e9 héllo 世界 🎉"},"done":true}"#,
        #" { "model" : "m" , "message" : { "role" : "assistant" , "content" : "spaced" } , "done" : true , "eval_count" : 7 } "#,
        #"{"model":"m","message":{"role":"assistant","content":"","thinking":"x","tool_calls":[{"id":"a","function":{"index":0,"name":"get","arguments":{"q":[1,null]}}},{"function":{"name":"f"}}]},"done":false}"#,
        #"{"message":{"role":"assistant","content":"x","images":null,"tool_name":"t"},"done":null,"unknown":[1,{"a":2}]}"#,
        #"{"m\u006fdel":"escaped key","message":{"r\u006fle":"assistant","content":"x"}}"#,
        #"{"eval_duration":999999999999999999,"prompt_eval_count":0}"#,
        #"{"message":null,"eval_count":null}"#,
        #"{}"#,
    ]

    @Test(arguments: replies)
    func aReplyReadsAsFoundationDecodesIt(_ reply: String) throws {
        let read = try #require(Self.read(Array(reply.utf8)), "accepted")
        #expect(read == Self.decoded(Array(reply.utf8)))
    }

    @Test(arguments: [
        #"{"done":"yes"}"#, #"{"model":1}"#, #"{"eval_count":1.5}"#, #"{"eval_count":"3"}"#,
        #"{"message":{"role":"assistant"}}"#, #"{"message":{"content":"x"}}"#, #"{"message":"x"}"#,
        #"{"message":{"role":"a","content":"x","images":[1]}}"#,
        #"{"message":{"role":"a","content":"x","tool_calls":[{"function":{}}]}}"#,
        #"{"message":{"role":"a","content":"x","tool_calls":{}}}"#, #"[]"#, #""x""#,
        #"{"done":true} x"#, #"{"done":true"#, #"{"done":true,}"#, #"{"eval_count":01}"#, "",
    ])
    func aReplyThatIsNotOneIsRefusedSayingSo(_ reply: String) {
        #expect(throws: ModelError.self) { try Array(reply.utf8).withUnsafeBytes { try OllamaWire.ChatReply.read($0) } }
        do {
            _ = try Array(reply.utf8).withUnsafeBytes { try OllamaWire.ChatReply.read($0) }
        } catch {
            #expect("\(error)".contains("not Ollama's JSON"), "\(error)")
        }
    }

    @Test func anErrorObjectIsAServerErrorWhateverElseItHolds() {
        for line in [#"{"error":"boom"}"#, #"{"error":"boom","done":"x"}"#, #"{"model":"m","error":"boom","message":{"role":"assistant"}}"#] {
            #expect(throws: ModelError.serverError(status: 200, message: "boom", midStream: true)) {
                try OllamaProvider.decodeChatReply(ByteBuffer(string: line))
            }
        }
    }

    @Test func invalidUTF8InTheTextIsRefused() {
        var bytes = Array(#"{"message":{"role":"assistant","content":"ab"}}"#.utf8)
        bytes.insert(0xFF, at: 41)
        #expect(Self.read(bytes) == nil)
    }

    /// Every reply one byte away from a usual one (a byte left out, or put in its place from a
    /// set that breaks JSON in many ways): where the reader accepts, Foundation decodes the same.
    @Test(arguments: replies.prefix(5))
    func nearbyRepliesAgreeWhereAccepted(_ reply: String) {
        let bytes = Array(reply.utf8)
        let swaps: [UInt8] = Array(#""\{}[],:0-.eE x"#.utf8) + [0x00, 0x1F, 0xC3, 0xA9, 0xFF]
        var accepted = 0
        for index in bytes.indices {
            var variants: [[UInt8]] = [bytes]
            variants[0].remove(at: index)
            for byte in swaps where byte != bytes[index] {
                var swapped = bytes
                swapped[index] = byte
                variants.append(swapped)
            }
            for variant in variants {
                guard let read = Self.read(variant) else { continue }
                accepted += 1
                #expect(read == Self.decoded(variant), "\(String(decoding: variant, as: UTF8.self))")
            }
        }
        #expect(accepted > 0)
    }
}
