//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import Testing
import VibesModels

/// `/api/embed` against the loopback fake: the body sent, the reply read, the errors classified.
@Suite struct OllamaEmbedTests {
    static let reply = #"{"model":"all-minilm","embeddings":[[0.010071029,-0.0017594862,0.05007221],[-0.5,0.25,1]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}"#

    /// Answers `/api/embed` with `answer` for installed models, else like Ollama.
    static func handler(models: [String] = ["all-minilm:latest"], _ answer: @escaping @Sendable (FakeRequest) -> FakeResponse = { _ in .json(200, reply) }) -> FakeOllama.Handler {
        let ollama = FakeOllama.ollamaLike(models: models) { _ in .error(500, "unused") }
        return { request in
            guard request.path == "/api/embed" else { return await ollama(request) }
            guard let model = request.model, models.contains(model) || models.contains(model + ":latest") else {
                return .error(404, "model '\(request.model ?? "")' not found")
            }
            return answer(request)
        }
    }

    @Test func embedSendsOllamasBodyAndReadsTheVectors() async throws {
        let request = EmbedRequest(
            model: "all-minilm", input: ["Why is the sky blue?", "Why is the grass green?"], options: ["num_ctx": 512],
            keepAlive: .duration("10m"), truncate: false, dimensions: 3)
        try await withProvider(Self.handler()) { provider, fake in
            let response = try await provider.embed(request)
            #expect(response.model == "all-minilm")
            #expect(response.embeddings == [[0.010071029, -0.0017594862, 0.05007221], [-0.5, 0.25, 1]])
            #expect(response.promptTokens == 8)
            #expect(response.timings.totalDuration == 14_143_917)
            #expect(response.timings.loadDuration == 1_019_500)
            let sent = try #require(fake.requests.last)
            #expect(sent.method == "POST" && sent.path == "/api/embed")
            let body = try #require(sent.json)
            #expect(body["model"] as? String == "all-minilm")
            #expect(body["input"] as? [String] == ["Why is the sky blue?", "Why is the grass green?"])
            #expect(body["truncate"] as? Bool == false)
            #expect(body["keep_alive"] as? String == "10m")
            #expect(body["dimensions"] as? Int == 3)
            #expect((body["options"] as? [String: Any])?["num_ctx"] as? Int == 512)
            #expect(body["stream"] == nil)
        }
    }

    @Test func optionalFieldsAreLeftOutWhenUnset() async throws {
        try await withProvider(Self.handler { _ in .json(200, #"{"model":"all-minilm","embeddings":[[1,2]]}"#) }) { provider, fake in
            let response = try await provider.embed(EmbedRequest(model: "all-minilm", input: ["x"]))
            #expect(response.embeddings == [[1, 2]])
            #expect(response.promptTokens == nil)
            let body = try #require(fake.requests.last?.json)
            #expect(Set(body.keys) == ["model", "input"])
        }
    }

    @Test func aMissingModelIsModelNotInstalled() async throws {
        try await withProvider(Self.handler(models: [])) { provider, _ in
            await expectModelError({ try await provider.embed(EmbedRequest(model: "nomic-embed-text", input: ["x"])) }) {
                $0 == .modelNotInstalled(model: "nomic-embed-text", detail: "model 'nomic-embed-text' not found") && !$0.isRetryable
            }
        }
    }

    @Test func busyIsARetryableServerError() async throws {
        try await withProvider(Self.handler { _ in .error(503, "server busy, please try again.  maximum pending requests exceeded") }) { provider, _ in
            await expectModelError({ try await provider.embed(EmbedRequest(model: "all-minilm", input: ["x"])) }) {
                $0.httpStatus == 503 && $0.isRetryable
            }
        }
    }

    @Test func aChatOnlyModelsRefusalIsAnOllamaError() async throws {
        try await withProvider(Self.handler { _ in .error(400, "\"llama3.2\" does not support embeddings") }) { provider, _ in
            await expectModelError({ try await provider.embed(EmbedRequest(model: "all-minilm", input: ["x"])) }) {
                $0 == .serverError(status: 400, message: "\"llama3.2\" does not support embeddings", midStream: false) && !$0.isRetryable
            }
        }
    }

    @Test func anErrorAt200IsAnErrorAlsoBesideVectors() async throws {
        try await withProvider(Self.handler { _ in .json(200, #"{"error":"partly failed","embeddings":[[1,2,3]]}"#) }) { provider, _ in
            await expectModelError({ try await provider.embed(EmbedRequest(model: "all-minilm", input: ["x"])) }) {
                $0 == .serverError(status: 200, message: "partly failed", midStream: false)
            }
        }
    }

    @Test func anErrorBodyAt200AndAWrongVectorCountAreErrors() async throws {
        try await withProvider(Self.handler { _ in .json(200, #"{"error":"failed to embed"}"#) }) { provider, _ in
            await expectModelError({ try await provider.embed(EmbedRequest(model: "all-minilm", input: ["x"])) }) {
                $0 == .serverError(status: 200, message: "failed to embed", midStream: false)
            }
        }
        try await withProvider(Self.handler { _ in .json(200, Self.reply) }) { provider, _ in
            await expectModelError({ try await provider.embed(EmbedRequest(model: "all-minilm", input: ["only one"])) }) {
                if case .invalidResponse(let text) = $0 { return text.contains("2 vectors for 1 inputs") }
                return false
            }
        }
    }

    @Test func aNonOllamaServerIsNotAnOllamaAPI() async throws {
        try await withProvider({ _ in .json(404, "404 page not found", contentType: "text/plain") }) { provider, _ in
            await expectModelError({ try await provider.embed(EmbedRequest(model: "all-minilm", input: ["x"])) }) {
                if case .notAnOllamaAPI(_, 404, _) = $0 { return true }
                return false
            }
        }
    }

    @Test func theReplyAsOllamasOwnJSON() {
        let response = EmbedResponse(model: "m", embeddings: [[0.5, -1]], promptTokens: 4, timings: OllamaTimings(totalDuration: 10, loadDuration: 2))
        #expect(response.ollamaJSON == ["model": "m", "embeddings": [[0.5, -1.0]], "total_duration": 10, "load_duration": 2, "prompt_eval_count": 4])
    }

    @Test func providersWithoutEmbeddingsThrowANonRetryable501() async {
        struct ChatOnly: ModelProvider {
            var name: String { "chat-only" }
            func models() async throws -> [ModelInfo] { [] }
            func chat(_ request: ChatRequest) async throws -> ChatResponse { throw CancellationError() }
            func chatStream(_ request: ChatRequest) -> ChatStream { fatalError() }
        }
        await expectModelError({ try await ChatOnly().embed(EmbedRequest(model: "m", input: ["x"])) }) {
            $0.httpStatus == 501 && !$0.isRetryable && $0.description.contains("does not support embeddings")
        }
    }
}
