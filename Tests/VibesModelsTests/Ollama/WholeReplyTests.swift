//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Synchronization
import Testing
@testable import VibesModels

/// A reply read whole (`chat` without a stream, `embed`, `/api/tags`): collected on the event
/// loop, under the same limits as a stream, and cancellable; where it is sent, keep-alive, and
/// what happens when a connection breaks before or during a reply.
@Suite struct WholeReplyTests {
    let request = ChatRequest(model: "llama3.2", messages: [.user("Say hi")])

    @Test func aReplyInManyPiecesIsReadWhole() async throws {
        let text = String(repeating: "abcdefgh", count: 4096)
        let reply = FakeResponse.chatReply(content: text)
        // The same bytes, sent in pieces of 1 000 with a pause between them.
        let bytes = reply.steps.flatMap { step -> [UInt8] in
            if case .send(let bytes) = step { return bytes }
            return []
        }
        var steps: [FakeResponse.Step] = []
        for start in stride(from: 0, to: bytes.count, by: 1000) {
            steps.append(.send(Array(bytes[start..<min(start + 1000, bytes.count)])))
            steps.append(.sleep(.milliseconds(1)))
        }
        let pieces = FakeResponse(status: 200, headers: reply.headers, steps: steps, contentLength: bytes.count)
        try await withProvider({ _ in pieces }) { provider, _ in
            let response = try await provider.chat(request)
            #expect(response.message.content == text)
        }
    }

    @Test func firstByteTimeout() async throws {
        let response = FakeResponse(status: 200, steps: [.sleep(.seconds(30))])
        try await withProvider({ _ in response }, firstByte: .milliseconds(300), idle: .seconds(5)) { provider, fake in
            let start = ContinuousClock.now
            await expectModelError({ _ = try await provider.chat(request) }) { $0 == .timeout(.firstByte, seconds: 0.3) }
            #expect(ContinuousClock.now - start < .seconds(10))
            await eventually("the fake sees the connection closed") { fake.closedConnections >= 1 }
        }
    }

    @Test func idleTimeoutInsideTheBody() async throws {
        let head = Array(#"{"model":"llama3.2","message":{"role":"assistant","#.utf8)
        let response = FakeResponse(status: 200, steps: [.send(head), .sleep(.seconds(30))])
        try await withProvider({ _ in response }, firstByte: .seconds(30), idle: .milliseconds(300)) { provider, _ in
            let start = ContinuousClock.now
            await expectModelError({ _ = try await provider.chat(request) }) { $0 == .timeout(.idle, seconds: 0.3) }
            #expect(ContinuousClock.now - start < .seconds(10), "the idle limit, not the 30 s first-byte limit, fired")
        }
    }

    @Test func cancellingTheCallerClosesTheConnection() async throws {
        let response = FakeResponse(status: 200, steps: [.sleep(.seconds(30))])
        try await withProvider({ _ in response }) { provider, fake in
            let caller = Task { try await provider.chat(request) }
            await eventually("the request reached the fake") { fake.requests.contains { $0.path == "/api/chat" } }
            let start = ContinuousClock.now
            caller.cancel()
            let result = await caller.result
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(ContinuousClock.now - start < .seconds(10))
            await eventually("the fake sees the connection closed") { fake.closedConnections >= 1 }
        }
    }

    @Test func anErrorStatusKeepsOllamasMessage() async throws {
        let response = FakeResponse.error(500, "llama runner process has terminated")
        try await withProvider({ _ in response }) { provider, _ in
            await expectModelError({ _ = try await provider.chat(request) }) {
                $0 == .serverError(status: 500, message: "llama runner process has terminated", midStream: false)
            }
        }
    }

    @Test func aPathPrefixIsKept() async throws {
        try await FakeOllama.with({ _ in FakeResponse.chatReply(content: "hi") }) { fake in
            let configuration = OllamaProvider.Configuration(baseURL: fake.baseURL + "/proxy")
            try await withOllamaProvider(configuration: configuration) { provider in
                _ = try await provider.chat(request)
            }
            #expect(fake.requests.map(\.path) == ["/proxy/api/chat"])
        }
    }

    @Test func oneConnectionCarriesRequestAfterRequest() async throws {
        try await withProvider({ _ in FakeResponse.chatReply(content: "hi") }) { provider, fake in
            for _ in 0..<5 {
                let reply = try await provider.chat(request)
                #expect(reply.message.content == "hi")
            }
            #expect(fake.openedConnections == 1)
            for sent in fake.requests {
                #expect(sent.headers.contains { $0.0 == "Content-Length" && $0.1 == String(sent.body.count) })
            }
        }
    }

    @Test func aNewConnectionClosedBeforeAnyReplyFails() async throws {
        try await withProvider({ _ in .noReply }) { provider, fake in
            await expectModelError({ _ = try await provider.chat(request) }) {
                if case .streamInterrupted(0, _) = $0 { return $0.isRetryable }
                return false
            }
            #expect(fake.requests.count == 1, "not sent again: the server may have run it")
        }
    }

    @Test func aReplyCutOffInItsBodyFailsAndIsNotSentAgain() async throws {
        let cut = FakeResponse(status: 200, steps: [.send(Array(#"{"model":"llama3.2","mess"#.utf8)), .drop], contentLength: 500)
        let count = Atomic<Int>(0)
        let handler: FakeOllama.Handler = { _ in
            count.wrappingAdd(1, ordering: .relaxed).newValue == 1 ? .chatReply(content: "hi") : cut
        }
        try await withProvider(handler) { provider, fake in
            _ = try await provider.chat(request)
            await expectModelError({ _ = try await provider.chat(request) }) {
                if case .streamInterrupted = $0 { return true }
                return false
            }
            #expect(fake.requests.count == 2)
        }
    }
}
