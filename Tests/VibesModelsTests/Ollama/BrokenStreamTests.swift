//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Testing
import VibesModels

/// Every byte of reply text that arrived before the connection broke reaches the caller and the
/// count in ``ModelError/streamInterrupted(bytesReceived:cause:)``, however the close races the
/// last lines. (The HTTP client used to drop body parts it held for a slow consumer when the
/// close arrived: 0 to 20 of 20 bytes came through.)
@Suite struct BrokenStreamTests {
    static let pieces = ["abcd", "efgh", "ijkl", "mnop", "qrst"]
    static let thinking = ["hmm ", "let me see ", "ok"]
    static let request = ChatRequest(model: "llama3.2", messages: [.user("go")])
    static let iterations = 200

    static func handler() -> FakeOllama.Handler {
        FakeOllama.ollamaLike { _ in .chatThenClose(thinking: thinking, pieces: pieces) }
    }

    static func interruptedBytes(_ error: any Error) -> Int? {
        if case .streamInterrupted(let bytes, _) = error as? ModelError { return bytes }
        return nil
    }

    @Test func theChunkStreamKeepsEveryByteSentBeforeTheClose() async throws {
        try await withProvider(Self.handler()) { provider, _ in
            var failures: [String] = []
            for iteration in 0..<Self.iterations {
                var text = ""
                var thought = ""
                do {
                    for try await chunk in provider.chatStream(Self.request) {
                        text += chunk.textDelta
                        thought += chunk.thinkingDelta
                    }
                    failures.append("\(iteration): ended without an error")
                } catch {
                    let bytes = Self.interruptedBytes(error)
                    if text != Self.pieces.joined() || thought != Self.thinking.joined() || bytes != 20 {
                        failures.append("\(iteration): text \(text.debugDescription), \(bytes.map(String.init) ?? "\(error)") bytes")
                    }
                }
            }
            #expect(failures.isEmpty, "\(failures.count) of \(Self.iterations) runs lost text: \(failures.prefix(5))")
        }
    }

    @Test func theTextSinkKeepsEveryByteSentBeforeTheClose() async throws {
        try await withProvider(Self.handler()) { provider, _ in
            var failures: [String] = []
            for iteration in 0..<Self.iterations {
                let sink = CollectingSink()
                do {
                    _ = try await provider.chat(Self.request, streamingTextInto: sink)
                    failures.append("\(iteration): ended without an error")
                } catch {
                    let bytes = Self.interruptedBytes(error)
                    if sink.text != Self.pieces.joined() || bytes != 20 {
                        failures.append("\(iteration): text \(sink.text.debugDescription), \(bytes.map(String.init) ?? "\(error)") bytes")
                    }
                }
            }
            #expect(failures.isEmpty, "\(failures.count) of \(Self.iterations) runs lost text: \(failures.prefix(5))")
        }
    }
}
