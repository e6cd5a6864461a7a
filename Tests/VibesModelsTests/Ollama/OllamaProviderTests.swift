//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import Testing
import VibesModels

@Suite struct OllamaProviderTests {
    let request = ChatRequest(model: "llama3.2", messages: [.user("Say hi")])

    // MARK: models

    @Test func listsModelsWithTheirRealContextWindowAndCachesShow() async throws {
        let handler = FakeOllama.ollamaLike(models: ["llama3.2:latest", "qwen3:8b"], contextLength: 131072) { _ in .error(500, "unused") }
        try await withProvider(handler) { provider, fake in
            let models = try await provider.models()
            #expect(models.map(\.id) == ["ollama:llama3.2:latest", "ollama:qwen3:8b"])
            let first = try #require(models.first)
            #expect(first.name == "llama3.2:latest")
            #expect(first.provider == "ollama")
            #expect(first.contextWindow == 131072)
            #expect(first.local)
            #expect(first.pricing == nil)
            #expect(first.sizeBytes == 2_019_393_189)
            #expect(first.capabilities == [.chat, .streaming, .tools])
            #expect(first.providerCapabilities == ["completion", "tools"])
            #expect(first.modifiedAt != nil)
            let showsBefore = fake.requests.filter { $0.path == "/api/show" }.count
            #expect(showsBefore == 2)
            _ = try await provider.models()
            #expect(fake.requests.filter { $0.path == "/api/show" }.count == showsBefore, "show answers are cached")
        }
    }

    @Test func aModelWhoseShowFailsGetsTheDocumentedFallback() async throws {
        try await withProvider({ request in
            switch request.path {
            case "/api/tags": .json(200, #"{"models":[{"name":"odd:1","size":5}]}"#)
            default: .error(500, "show is broken")
            }
        }) { provider, _ in
            let models = try await provider.models()
            #expect(models.count == 1)
            #expect(models[0].contextWindow == provider.configuration.fallbackContextWindow)
        }
    }

    // MARK: chat

    @Test func chatSendsStreamFalseExplicitly() async throws {
        try await withProvider(FakeOllama.ollamaLike { _ in .chatReply(model: "llama3.2", content: "Hi there!", thinking: "hmm") }) { provider, fake in
            let response = try await provider.chat(request)
            #expect(response.message.content == "Hi there!")
            #expect(response.message.thinking == "hmm")
            #expect(response.stopReason == .stop)
            #expect(response.usage == Usage(promptTokens: 26, completionTokens: 3))
            #expect(response.timings.totalDuration == 5_000_000)
            let body = try #require(fake.requests.last?.json)
            #expect(body["stream"] as? Bool == false)
            #expect(body["model"] as? String == "llama3.2")
        }
    }

    // MARK: streaming

    @Test func streamJoinsChunksAndEndsWithUsage() async throws {
        try await withProvider(FakeOllama.ollamaLike { _ in .chatStream(pieces: ["Hel", "lo", ", world"], thinking: ["think"]) }) { provider, fake in
            let chunks = try await collect(provider.chatStream(request))
            #expect(chunks.text == "Hello, world")
            #expect(chunks.map(\.thinkingDelta).joined() == "think")
            let last = try #require(chunks.last)
            #expect(last.done)
            #expect(last.stopReason == .stop)
            #expect(last.usage == Usage(promptTokens: 26, completionTokens: 3))
            #expect(last.timings?.loadDuration == 3_000_000)
            #expect(fake.requests.last?.json?["stream"] as? Bool == true)
        }
    }

    @Test func oneConnectionCarriesStreamAfterStream() async throws {
        try await withProvider(FakeOllama.ollamaLike { _ in .chatStream(pieces: ["hi"]) }) { provider, fake in
            for _ in 0..<5 {
                let chunks = try await collect(provider.chatStream(request))
                #expect(chunks.text == "hi")
            }
            #expect(fake.openedConnections == 1)
        }
    }

    @Test func packedLinesInOneNetworkChunk() async throws {
        let all = (["a", "b", "c"].map { FakeResponse.chatLine(content: $0) } + [FakeResponse.finalLine()]).joined(separator: "\n") + "\n"
        try await withProvider(FakeOllama.ollamaLike { _ in .chunks([Array(all.utf8)]) }) { provider, _ in
            let chunks = try await collect(provider.chatStream(request))
            #expect(chunks.text == "abc")
            #expect(chunks.last?.done == true)
        }
    }

    @Test func linesSplitAcrossChunksInsideAMultiByteCharacter() async throws {
        let text = "héllo 世界 🎉"
        let all = Array((FakeResponse.chatLine(content: text) + "\n" + FakeResponse.finalLine() + "\n").utf8)
        // Cut inside "世" (3 bytes) and inside "🎉" (4 bytes), and between lines.
        let shi = all.firstIndex(of: 0xE4)!
        let emoji = all.firstIndex(of: 0xF0)!
        let newline = all.firstIndex(of: UInt8(ascii: "\n"))!
        let cuts = [shi + 1, emoji + 2, newline - 3, newline + 5]
        var pieces: [[UInt8]] = []
        var start = 0
        for cut in cuts { pieces.append(Array(all[start..<cut])); start = cut }
        pieces.append(Array(all[start...]))
        let response = FakeResponse.chunks(pieces, delay: .milliseconds(20))
        try await withProvider(FakeOllama.ollamaLike { _ in response }) { provider, _ in
            let chunks = try await collect(provider.chatStream(request))
            #expect(chunks.text == text)
            #expect(chunks.last?.done == true)
        }
    }

    @Test func errorLineAt200EndsTheStreamWithARetryableServerError() async throws {
        let lines = [FakeResponse.chatLine(content: "partial "), #"{"error":"an error was encountered while running the model"}"#]
        try await withProvider(FakeOllama.ollamaLike { _ in .chunks(lines.map { Array(($0 + "\n").utf8) }) }) { provider, _ in
            var received = ""
            await expectModelError({
                for try await chunk in provider.chatStream(request) { received += chunk.textDelta }
            }) { error in
                error == .serverError(status: 200, message: "an error was encountered while running the model", midStream: true)
                    && error.isRetryable
            }
            #expect(received == "partial ")
        }
    }

    @Test func notFound404MeansModelNotInstalled() async throws {
        try await withProvider(FakeOllama.ollamaLike(models: []) { _ in .error(500, "unused") }) { provider, _ in
            await expectModelError({ try await collect(provider.chatStream(request)) }) {
                $0 == .modelNotInstalled(model: "llama3.2", detail: "model 'llama3.2' not found")
                    && $0.description == "Model 'llama3.2' is not installed. Run `ollama pull llama3.2`."
                    && !$0.isRetryable
            }
            await expectModelError({ try await provider.chat(request) }) {
                if case .modelNotInstalled = $0 { return true }
                return false
            }
        }
    }

    @Test func notFound404WithOldWordingIsStillModelNotInstalled() async throws {
        try await withProvider({ _ in .error(404, #"model "llama3.2" not found, try pulling it first"#) }) { provider, _ in
            await expectModelError({ try await provider.chat(request) }) {
                if case .modelNotInstalled("llama3.2", _) = $0 { return true }
                return false
            }
        }
    }

    @Test func notFound404WithoutOllamasJSONMeansWrongBaseURL() async throws {
        try await withProvider({ _ in .json(404, "404 page not found", contentType: "text/plain") }) { provider, fake in
            await expectModelError({ try await provider.chat(request) }) {
                $0 == .notAnOllamaAPI(baseURL: fake.baseURL, status: 404, body: "404 page not found") && !$0.isRetryable
            }
        }
    }

    @Test func busy503IsRetryableWithOllamasMessage() async throws {
        try await withProvider({ _ in .error(503, "server busy, please try again.  maximum pending requests exceeded") }) { provider, _ in
            await expectModelError({ try await collect(provider.chatStream(request)) }) {
                $0 == .serverError(status: 503, message: "server busy, please try again.  maximum pending requests exceeded", midStream: false)
                    && $0.isRetryable && $0.httpStatus == 503
            }
        }
    }

    @Test func badRequest400IsPermanent() async throws {
        try await withProvider({ _ in .error(400, "invalid options") }) { provider, _ in
            await expectModelError({ try await provider.chat(request) }) {
                $0 == .serverError(status: 400, message: "invalid options", midStream: false) && !$0.isRetryable
            }
        }
    }

    @Test func closedPortMeansNotRunning() async throws {
        let port = try await FakeOllama.closedPort()
        let baseURL = "http://127.0.0.1:\(port)"
        let t0 = ContinuousClock.now
        // A connect timeout far above the bound below: the whole suite on two loaded cores once
        // took 21 s for these three refusals (every test in it was as slow).
        try await withOllamaProvider(configuration: .init(baseURL: baseURL, connectTimeout: .seconds(90))) { provider in
            await expectModelError({ try await collect(provider.chatStream(request)) }) {
                if case .notRunning(let url, let cause) = $0 {
                    return url == baseURL && $0.isRetryable && cause == "Connection refused (errno 111)"
                }
                return false
            }
            await expectModelError({ try await provider.models() }) {
                $0.description == "Ollama not running at \(baseURL). Start it with `ollama serve`."
            }
            await expectModelError({ try await provider.version() }) { $0.isConnectionProblem }
        }
        #expect(ContinuousClock.now - t0 < .seconds(45), "refused is reported at once, not after the connect timeout")
    }

    @Test func droppedMidStreamIsInterruptedWithTheBytesReceived() async throws {
        let lines = [FakeResponse.chatLine(content: "12345"), FakeResponse.chatLine(content: "678")]
        let seenBoth = Gate()
        let handler = FakeOllama.ollamaLike { _ in .chunksThenDrop(lines.map { Array(($0 + "\n").utf8) }, dropWhen: { await seenBoth.wait() }) }
        try await withProvider(handler) { provider, _ in
            await expectModelError({
                var text = ""
                for try await chunk in provider.chatStream(request) {
                    text += chunk.textDelta
                    if text == "12345678" { seenBoth.open() }
                }
            }) {
                if case .streamInterrupted(let bytes, _) = $0 { return bytes == 8 && $0.isRetryable }
                return false
            }
        }
    }

    @Test func streamEndingWithoutDoneIsInterrupted() async throws {
        try await withProvider(FakeOllama.ollamaLike { _ in .chunks([Array((FakeResponse.chatLine(content: "abc") + "\n").utf8)]) }) { provider, _ in
            await expectModelError({ try await collect(provider.chatStream(request)) }) {
                if case .streamInterrupted(3, _) = $0 { return true }
                return false
            }
        }
    }

    // MARK: timeouts

    @Test func slowFirstByteWithinItsLimitIsFineEvenPastTheIdleLimit() async throws {
        let response = FakeResponse(status: 200, steps: [.sleep(.milliseconds(600))] + FakeResponse.chatStream(pieces: ["ok"]).steps)
        try await withProvider({ _ in response }, firstByte: .seconds(5), idle: .milliseconds(300)) { provider, _ in
            let chunks = try await collect(provider.chatStream(request))
            #expect(chunks.text == "ok")
        }
    }

    @Test func firstByteTimeout() async throws {
        let response = FakeResponse(status: 200, steps: [.sleep(.seconds(30))])
        try await withProvider({ _ in response }, firstByte: .milliseconds(300), idle: .seconds(5)) { provider, fake in
            let start = ContinuousClock.now
            await expectModelError({ try await collect(provider.chatStream(request)) }) {
                $0 == .timeout(.firstByte, seconds: 0.3) && $0.description.contains("first-byte timeout")
            }
            #expect(ContinuousClock.now - start < .seconds(10))
            await eventually("the fake sees the connection closed") { fake.closedConnections >= 1 }
        }
    }

    @Test func idleTimeoutBetweenChunks() async throws {
        let first = Array((FakeResponse.chatLine(content: "a") + "\n").utf8)
        let response = FakeResponse(status: 200, steps: [.send(first), .sleep(.seconds(30))])
        try await withProvider({ _ in response }, firstByte: .seconds(30), idle: .milliseconds(300)) { provider, _ in
            var text = ""
            let t0 = ContinuousClock.now
            await expectModelError({ for try await chunk in provider.chatStream(request) { text += chunk.textDelta } }) {
                $0 == .timeout(.idle, seconds: 0.3)
            }
            #expect(ContinuousClock.now - t0 < .seconds(10), "the idle limit, not the 30 s first-byte limit, fired")
            #expect(text == "a")
        }
    }

    @Test func aSlowConsumerIsNotAnIdleServer() async throws {
        try await withProvider(FakeOllama.ollamaLike { _ in .chatStream(pieces: ["a", "b", "c"]) }, idle: .milliseconds(200)) { provider, _ in
            var text = ""
            for try await chunk in provider.chatStream(request) {
                text += chunk.textDelta
                try await Task.sleep(for: .milliseconds(300))  // the consumer is slow on purpose
            }
            #expect(text == "abc")
        }
    }

    // MARK: cancellation

    static func endlessStream() -> FakeResponse {
        var steps: [FakeResponse.Step] = []
        for _ in 0..<2000 {
            steps.append(.send(Array((FakeResponse.chatLine(content: "tok ") + "\n").utf8)))
            steps.append(.sleep(.milliseconds(10)))
        }
        return FakeResponse(status: 200, steps: steps)
    }

    @Test func cancellingTheConsumerClosesTheConnection() async throws {
        try await withProvider({ _ in Self.endlessStream() }) { provider, fake in
            let received = AsyncStream<Void>.makeStream()
            let consumer = Task {
                var signalled = false
                for try await _ in provider.chatStream(request) where !signalled {
                    received.continuation.yield()
                    signalled = true
                }
            }
            var iterator = received.stream.makeAsyncIterator()
            _ = await iterator.next()
            #expect(fake.closedConnections == 0)
            consumer.cancel()
            _ = await consumer.result
            await eventually("the fake sees the connection closed") { fake.closedConnections == 1 }
        }
    }

    @Test func droppingTheIteratorClosesTheConnection() async throws {
        try await withProvider({ _ in Self.endlessStream() }) { provider, fake in
            do {
                var iterator = provider.chatStream(request).makeAsyncIterator()
                let first = try await iterator.next()
                #expect(first?.textDelta == "tok ")
            }
            await eventually("the fake sees the connection closed") { fake.closedConnections == 1 }
        }
    }

    @Test func breakingOutOfTheLoopClosesTheConnection() async throws {
        try await withProvider({ _ in Self.endlessStream() }) { provider, fake in
            for try await _ in provider.chatStream(request) { break }
            await eventually("the fake sees the connection closed") { fake.closedConnections == 1 }
        }
    }
}
