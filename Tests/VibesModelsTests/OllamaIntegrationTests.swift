//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VibesModels

/// Runs against a real Ollama (or an Ollama-compatible stand-in) when one answers at
/// `OLLAMA_HOST` or 127.0.0.1:11434. Skipped, saying so, when none does.
///
/// `VIBES_TEST_MODEL` picks the model; else the first installed one.
@Suite(.serialized) struct OllamaIntegrationTests {
    static let baseURL = OllamaHost.resolve(explicit: nil, environment: ProcessInfo.processInfo.environment)

    /// The reachable server's first (or chosen) model, or `nil` with the reason printed.
    static let target: String? = {
        let semaphore = DispatchSemaphore(value: 0)
        let result = ResultBox()
        Task.detached {
            result.value = await probe()
            semaphore.signal()
        }
        semaphore.wait()
        return result.value
    }()

    final class ResultBox: @unchecked Sendable { var value: String? }

    static func probe() async -> String? {
        let configuration = OllamaProvider.Configuration(baseURL: baseURL, connectTimeout: .seconds(2), firstByteTimeout: .seconds(10))
        do {
            return try await withOllamaProvider(configuration: configuration) { provider in
                let models = try await provider.models().filter { $0.capabilities.contains(.chat) }
                if let wanted = ProcessInfo.processInfo.environment["VIBES_TEST_MODEL"] {
                    return models.first { $0.name == wanted || $0.name == wanted + ":latest" }?.name
                }
                guard let first = models.first else {
                    print("⚠︎ Ollama integration tests skipped: Ollama at \(baseURL) has no chat model installed.")
                    return nil
                }
                return first.name
            }
        } catch {
            print("⚠︎ Ollama integration tests skipped: no Ollama reachable at \(baseURL) (\(error)).")
            return nil
        }
    }

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
