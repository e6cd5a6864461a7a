//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Synchronization
import Testing
@testable import VibesModels

/// The client of whole replies (`PlainHTTPClient`): where it sends, keep-alive, and what it
/// does when a connection breaks before or during a reply. Limits, cancellation and error
/// statuses are in `WholeReplyTests`, which go through it too.
@Suite struct PlainHTTPClientTests {
    let request = ChatRequest(model: "llama3.2", messages: [.user("Say hi")])

    @Test func readsHostPortAndPathFromTheBaseURL() throws {
        let plain = try #require(PlainHTTPClient.Target(baseURL: "http://127.0.0.1:11434"))
        #expect([plain.host, "\(plain.port)", plain.authority, plain.pathPrefix] == ["127.0.0.1", "11434", "127.0.0.1:11434", ""])
        let v6 = try #require(PlainHTTPClient.Target(baseURL: "http://[::1]:8080/ollama/"))
        #expect([v6.host, "\(v6.port)", v6.authority, v6.pathPrefix] == ["::1", "8080", "[::1]:8080", "/ollama"])
        #expect(PlainHTTPClient.Target(baseURL: "https://gpu-1:443") == nil, "TLS stays with AsyncHTTPClient")
        #expect(PlainHTTPClient.Target(baseURL: "http://gpu-1") == nil)
        #expect(PlainHTTPClient.Target(baseURL: "http://:80") == nil)
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
                #expect(sent.headers.contains { $0.0 == "Host" && $0.1 == "127.0.0.1:\(fake.port)" })
            }
        }
    }

    @Test func aReusedConnectionClosedBeforeAnyReplyIsTriedOnceMoreOnANewOne() async throws {
        let count = Atomic<Int>(0)
        let handler: FakeOllama.Handler = { _ in
            // The second request finds its (reused) connection closed, as a server closes an idle one.
            count.wrappingAdd(1, ordering: .relaxed).newValue == 2 ? .noReply : .chatReply(content: "hi")
        }
        try await withProvider(handler) { provider, fake in
            _ = try await provider.chat(request)
            let reply = try await provider.chat(request)
            #expect(reply.message.content == "hi")
            #expect(fake.requests.count == 3)
            #expect(fake.openedConnections == 2)
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
