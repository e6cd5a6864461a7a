//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import Testing
@testable import VibesModels

/// The chat body written and the chat reply read by hand (`OllamaWire+JSON`) against the
/// `Codable` conformances they replace, which stay as the reference.
@Suite struct WireJSONTests {
    static let requests: [ChatRequest] = [
        ChatRequest(model: "m", messages: [.user("hi")]),
        ChatRequest(
            model: "qwen2.5:7b",
            messages: [
                .system("be \"brief\"\n"),
                ChatMessage(role: .user, content: "look / see", images: ["aGVsbG8=", "d29ybGQ="]),
                ChatMessage(
                    role: .assistant, content: "", thinking: "hmm",
                    toolCalls: [ToolCall(id: "c1", name: "get", arguments: ["city": "Paris", "n": 2]), ToolCall(name: "none", arguments: [:])]),
                ChatMessage(role: .tool, content: "{\"t\": 20}", toolName: "get"),
            ],
            temperature: 0.7, maxTokens: 12, stop: ["\n\n", "END"], seed: 42,
            tools: [ToolDefinition(name: "get", description: "weather", parameters: ["type": "object"]), ToolDefinition(name: "raw", raw: ["type": "function"])],
            ollama: OllamaSettings(options: ["num_ctx": 4096, "top_p": 0.9], format: .schema(["type": "object"]), keepAlive: .seconds(1.5), think: .level("high"))),
        ChatRequest(model: "m", messages: [.user("é 👍🏽 \u{1}")], ollama: OllamaSettings(format: .json, keepAlive: .duration("5m"), think: .enabled(false))),
    ]

    @Test(arguments: requests)
    func theBodyIsTheJSONTheEncoderWrites(_ request: ChatRequest) throws {
        for stream in [true, false] {
            let body = OllamaWire.ChatBody(request, stream: stream)
            let written = try #require(JSONValue.parse(utf8: body.jsonBytes))
            let encoded = try #require(JSONValue.parse(utf8: Array(try JSONEncoder().encode(body))))
            #expect(written == encoded)
        }
    }

    static let replies = [
        #"{"model":"m","created_at":"2025-01-02T03:04:05Z","message":{"role":"assistant","content":"hi"},"done":true,"done_reason":"stop","total_duration":5,"load_duration":1,"prompt_eval_count":3,"prompt_eval_duration":2,"eval_count":4,"eval_duration":1}"#,
        #"{"model":"m","message":{"role":"assistant","content":"","thinking":"x","tool_calls":[{"id":"a","function":{"index":0,"name":"get","arguments":{"q":[1,null]}}},{"function":{"name":"f"}}]},"done":false}"#,
        #"{"message":{"role":"assistant","content":"x","images":null,"tool_name":"t"},"done":null,"unknown":[1,{"a":2}]}"#,
        #"{}"#,
        #"{"error":"boom"}"#,
        #"{"message":null,"eval_count":null}"#,
    ]

    @Test(arguments: replies)
    func theReplyReadsAsTheDecoderReadsIt(_ text: String) throws {
        let read = try #require(JSONValue.parse(utf8: Array(text.utf8)).flatMap(OllamaWire.ChatReply.init(json:)))
        let decoded = try JSONDecoder().decode(OllamaWire.ChatReply.self, from: Data(text.utf8))
        #expect("\(read)" == "\(decoded)")
    }

    static let invalidReplies = [
        #"{"done":"yes"}"#, #"{"model":1}"#, #"{"eval_count":1.5}"#, #"{"eval_count":"3"}"#,
        #"{"message":{"role":"assistant"}}"#, #"{"message":{"content":"x"}}"#, #"{"message":"x"}"#,
        #"{"message":{"role":"a","content":"x","images":[1]}}"#,
        #"{"message":{"role":"a","content":"x","tool_calls":[{"function":{}}]}}"#,
        #"{"message":{"role":"a","content":"x","tool_calls":{}}}"#, #"[]"#, #""x""#,
    ]

    @Test(arguments: invalidReplies)
    func aFieldOfTheWrongTypeIsRefusedByBoth(_ text: String) {
        #expect(JSONValue.parse(utf8: Array(text.utf8)).flatMap(OllamaWire.ChatReply.init(json:)) == nil)
        #expect((try? JSONDecoder().decode(OllamaWire.ChatReply.self, from: Data(text.utf8))) == nil)
    }

    @Test func anErrorBesideFieldsOfTheWrongTypeIsStillAnError() {
        #expect(throws: ModelError.self) { try OllamaProvider.decodeChatReply(ByteBuffer(string: #"{"error":"no","done":"x"}"#)) }
        do {
            _ = try OllamaProvider.decodeChatReply(ByteBuffer(string: #"{"error":"no","done":"x"}"#))
        } catch let error as ModelError {
            #expect("\(error)".contains("no"))
        } catch {
            Issue.record("\(error)")
        }
    }
}
