//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// Batch lines through `OllamaProvider` against the loopback fake: every URL ends up on Ollama's
/// `/api/chat` or `/api/embed`, translated, not streamed.
@Suite struct BatchOllamaTests {
    static let handler: FakeOllama.Handler = { request in
        let ollama = FakeOllama.ollamaLike(models: ["m:latest", "emb:latest"]) { request in
            .chatReply(model: request.model ?? "", content: "hello")
        }
        guard request.path == "/api/embed" else { return await ollama(request) }
        guard request.model == "emb" else { return .error(404, "model '\(request.model ?? "")' not found") }
        return .json(200, #"{"model":"emb","embeddings":[[0.5,-0.25]],"total_duration":100,"load_duration":10,"prompt_eval_count":3}"#)
    }

    func line(_ text: String) throws -> BatchLine {
        try BatchLine.parse(Array(text.utf8), number: 1)
    }

    func withProvider(_ body: (OllamaProvider, FakeOllama) async throws -> Void) async throws {
        try await FakeOllama.with(Self.handler) { fake in
            try await withOllamaProvider(configuration: .init(baseURL: fake.baseURL)) { provider in
                try await body(provider, fake)
            }
        }
    }

    @Test func anOpenAIChatLineIsTranslatedForApiChatAndBack() async throws {
        try await withProvider { provider, fake in
            let chat = try line(TestSpool.line("c", body: #"""
                {"model":"m","max_tokens":12,"stop":"END","temperature":0,"response_format":{"type":"json_object"},"reasoning_effort":"low",
                 "messages":[{"role":"user","content":[{"type":"text","text":"describe"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}
                """#))
            guard case .succeeded(let body, let usage) = try await runLine(chat, provider: provider) else {
                Issue.record("expected a reply")
                return
            }
            let sent = try #require(fake.requests.last)
            #expect(sent.path == "/api/chat")
            let json = try #require(sent.json)
            #expect(json["stream"] as? Bool == false)
            #expect(json["format"] as? String == "json")
            #expect(json["think"] as? String == "low")
            let options = try #require(json["options"] as? [String: Any])
            #expect(options["num_predict"] as? Int == 12)
            #expect(options["stop"] as? [String] == ["END"])
            #expect(options["temperature"] as? Double == 0)
            let message = try #require((json["messages"] as? [[String: Any]])?.first)
            #expect(message["content"] as? String == "describe")
            #expect(message["images"] as? [String] == ["AAAA"])
            #expect(body["object"] == "chat.completion")
            #expect(body["choices"]?.arrayValue?.first?["message"]?["content"] == "hello")
            #expect(body["usage"] == ["prompt_tokens": 26, "completion_tokens": 3, "total_tokens": 29])
            #expect(usage == Usage(promptTokens: 26, completionTokens: 3))
        }
    }

    @Test func embeddingLinesGoToApiEmbed() async throws {
        try await withProvider { provider, fake in
            let openAI = try line(TestSpool.line("e", url: "/v1/embeddings", body: #"{"model":"emb","input":"one","dimensions":2}"#))
            guard case .succeeded(let list, _) = try await runLine(openAI, provider: provider) else {
                Issue.record("expected vectors")
                return
            }
            #expect(fake.requests.last?.path == "/api/embed")
            #expect(fake.requests.last?.json?["input"] as? [String] == ["one"])
            #expect(fake.requests.last?.json?["dimensions"] as? Int == 2)
            #expect(list["data"]?.arrayValue?.first?["embedding"] == [0.5, -0.25])
            #expect(list["usage"] == ["prompt_tokens": 3, "total_tokens": 3])

            let ollama = try line(TestSpool.line("o", url: "/api/embed", body: #"{"model":"emb","input":["one"],"truncate":false}"#))
            guard case .succeeded(let own, _) = try await runLine(ollama, provider: provider) else {
                Issue.record("expected vectors")
                return
            }
            #expect(fake.requests.last?.json?["truncate"] as? Bool == false)
            #expect(own == ["model": "emb", "embeddings": [[0.5, -0.25]], "total_duration": 100, "load_duration": 10, "prompt_eval_count": 3])
        }
    }

    @Test func errorsAreThrownForTheSchedulerAndInvalidBodiesNeverReachOllama() async throws {
        try await withProvider { provider, fake in
            let missing = try line(TestSpool.line("x", url: "/api/chat", body: #"{"model":"nope","prompt":"hi"}"#))
            await #expect(throws: ModelError.modelNotInstalled(model: "nope", detail: "model 'nope' not found")) {
                _ = try await runLine(missing, provider: provider)
            }
            let before = fake.requests.count
            let invalid = try line(TestSpool.line("y", body: #"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#))
            guard case .failed(let failure) = try await runLine(invalid, provider: provider) else {
                Issue.record("expected an invalid_request failure")
                return
            }
            #expect(failure.kind == .invalidRequest)
            #expect(failure.message == "Invalid request: `stream`: expected false or nothing, found true: batch lines are not streamed")
            let noModel = try line(TestSpool.line("z", url: "/api/embed", body: #"{"input":"x"}"#))
            guard case .failed(let other) = try await runLine(noModel, provider: provider) else {
                Issue.record("expected an invalid_request failure")
                return
            }
            #expect(other.message.contains("`model`: required"))
            #expect(fake.requests.count == before, "nothing sent for invalid bodies")
        }
    }
}
