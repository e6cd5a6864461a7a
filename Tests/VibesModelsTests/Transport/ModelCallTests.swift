//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Synchronization
import Testing
@testable import VibesModels

/// Requests started with a completion (`startChat`, `startEmbed`: a batch's lines) instead of
/// awaited: the same replies, errors and limits as ``WholeReplyTests``', the completion called
/// once, on the event loop that read the reply, and the call cancellable.
@Suite struct ModelCallTests {
    let request = ChatRequest(model: "llama3.2", messages: [.user("Say hi")])

    /// What `start` hands its completion, and whether that ran on `eventLoop`'s thread.
    static func completed<T: Sendable>(
        on provider: OllamaProvider, _ start: (@escaping @Sendable (Result<T, any Error>) -> Void) -> ModelCall
    ) async -> (result: Result<T, any Error>, onLoop: Bool) {
        let loop = provider.streamEventLoop
        return await withCheckedContinuation { continuation in
            _ = start { result in continuation.resume(returning: (result, loop.inEventLoop)) }
        }
    }

    @Test func aChatCompletesOnTheLoopThatReadIt() async throws {
        try await withProvider({ _ in .chatReply(content: "Hi there") }) { provider, fake in
            let (result, onLoop) = await Self.completed(on: provider) { provider.startChat(request, completion: $0) }
            let response = try result.get()
            #expect(response.message.content == "Hi there")
            #expect(response.stopReason == .stop)
            #expect(onLoop)
            #expect(fake.requests.last?.path == "/api/chat")
            #expect(fake.requests.last?.json?["stream"] as? Bool == false)
        }
    }

    @Test func errorsAreTheAwaitedChats() async throws {
        try await withProvider({ _ in .error(500, "llama runner process has terminated") }) { provider, _ in
            let (result, _) = await Self.completed(on: provider) { provider.startChat(request, completion: $0) }
            #expect(throws: ModelError.serverError(status: 500, message: "llama runner process has terminated", midStream: false)) {
                try result.get()
            }
        }
        try await withProvider(FakeOllama.ollamaLike(models: ["other:latest"]) { _ in .chatReply(content: "x") }) { provider, _ in
            let (result, _) = await Self.completed(on: provider) { provider.startChat(request, completion: $0) }
            #expect { try result.get() } throws: { error in
                guard case .modelNotInstalled(let model, _) = error as? ModelError else { return false }
                return model == "llama3.2"
            }
        }
        let refused = OllamaProvider(configuration: .init(baseURL: "http://127.0.0.1:\(try await FakeOllama.closedPort())", connectTimeout: .seconds(2)))
        let (result, _) = await Self.completed(on: refused) { refused.startChat(request, completion: $0) }
        try await refused.shutdown()
        #expect { try result.get() } throws: { ($0 as? ModelError)?.isConnectionProblem == true }
    }

    @Test func theFirstByteLimitEndsTheCall() async throws {
        let response = FakeResponse(status: 200, steps: [.sleep(.seconds(30))])
        try await withProvider({ _ in response }, firstByte: .milliseconds(300), idle: .seconds(5)) { provider, fake in
            let start = ContinuousClock.now
            let (result, _) = await Self.completed(on: provider) { provider.startChat(request, completion: $0) }
            #expect(throws: ModelError.timeout(.firstByte, seconds: 0.3)) { try result.get() }
            #expect(ContinuousClock.now - start < .seconds(10))
            await eventually("the fake sees the connection closed") { fake.closedConnections >= 1 }
        }
    }

    @Test func cancellingTheCallClosesTheConnection() async throws {
        let response = FakeResponse(status: 200, steps: [.sleep(.seconds(30))])
        try await withProvider({ _ in response }) { provider, fake in
            let (ended, completion) = AsyncStream<Result<ChatResponse, any Error>>.makeStream()
            let call = provider.startChat(request) { completion.yield($0) }
            await eventually("the request reached the fake") { fake.requests.contains { $0.path == "/api/chat" } }
            let start = ContinuousClock.now
            call.cancel()
            var iterator = ended.makeAsyncIterator()
            let result = try #require(await iterator.next())
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(ContinuousClock.now - start < .seconds(10))
            await eventually("the fake sees the connection closed") { fake.closedConnections >= 1 }
            call.cancel()  // after the end: nothing
        }
    }

    @Test func anEmbeddingCompletes() async throws {
        let reply = #"{"model":"all-minilm","embeddings":[[1,2],[3,4]],"prompt_eval_count":5}"#
        try await withProvider(OllamaEmbedTests.handler { _ in .json(200, reply) }) { provider, _ in
            let asked = EmbedRequest(model: "all-minilm", input: ["a", "b"])
            let (result, onLoop) = await Self.completed(on: provider) { provider.startEmbed(asked, completion: $0) }
            let response = try result.get()
            #expect(response.embeddings == [[1, 2], [3, 4]])
            #expect(response.promptTokens == 5)
            #expect(onLoop)
            let short = EmbedRequest(model: "all-minilm", input: ["a", "b", "c"])
            let (wrong, _) = await Self.completed(on: provider) { provider.startEmbed(short, completion: $0) }
            #expect { try wrong.get() } throws: { error in
                guard case .invalidResponse = error as? ModelError else { return false }
                return true
            }
        }
    }
}
