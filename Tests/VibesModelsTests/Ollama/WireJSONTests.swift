//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import Testing
@testable import VibesModels

/// The chat body written with the project's JSON writer (`OllamaWire+JSON`) against the
/// `Encodable` conformance, which stays as the reference.
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
            let written = try JSONValue.parse(utf8: body.jsonBytes)
            let encoded = try JSONValue.parse(utf8: Array(try JSONEncoder().encode(body)))
            #expect(written == encoded)
        }
    }
}
