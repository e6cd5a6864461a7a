//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import Testing
import VibesModels

/// Runs against a real Ollama (or an Ollama-compatible stand-in) when one answers at
/// `OLLAMA_HOST` or 127.0.0.1:11434. Skipped, saying so, when none does.
///
/// `VIBES_TEST_MODEL` picks the model; else the first installed one. Replies are kept short.
@Suite(.serialized) struct OllamaIntegrationTests {
    static let baseURL = RealOllama.baseURL
    static let target = RealOllama.model

    func provider() -> OllamaProvider {
        OllamaProvider(configuration: .init(baseURL: Self.baseURL, firstByteTimeout: .seconds(300), idleTimeout: .seconds(60)))
    }

    @Test(.enabled(if: target != nil, "no Ollama reachable (set OLLAMA_HOST)"))
    func listsModels() async throws {
        let provider = provider()
        defer { Task { try? await provider.shutdown() } }
        let models = try await provider.models()
        #expect(!models.isEmpty)
        for model in models {
            #expect(model.local)
            #expect(model.pricing == nil)
            #expect(model.contextWindow > 0)
            #expect(model.id == "ollama:\(model.name)")
        }
    }

    @Test(.enabled(if: target != nil, "no Ollama reachable (set OLLAMA_HOST)"))
    func shortChat() async throws {
        let provider = provider()
        defer { Task { try? await provider.shutdown() } }
        let response = try await provider.chat(
            ChatRequest(model: Self.target!, messages: [.user("Say hello in one word.")], maxTokens: 16))
        #expect(!response.message.content.isEmpty)
        #expect(response.stopReason != nil)
    }

    @Test(.enabled(if: target != nil, "no Ollama reachable (set OLLAMA_HOST)"))
    func shortStreamJoinsIntoTheReply() async throws {
        let provider = provider()
        defer { Task { try? await provider.shutdown() } }
        var text = ""
        var last: ChatChunk?
        var count = 0
        for try await chunk in provider.chatStream(
            ChatRequest(model: Self.target!, messages: [.user("Count from one to five.")], maxTokens: 24))
        {
            text += chunk.textDelta
            count += 1
            last = chunk
        }
        #expect(!text.isEmpty)
        #expect(count >= 2, "a stream has at least one text chunk and the final one")
        #expect(last?.done == true)
        #expect(last?.usage?.completionTokens ?? 0 > 0)
    }
}
