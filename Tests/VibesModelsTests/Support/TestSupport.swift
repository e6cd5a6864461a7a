//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Testing
import Synchronization
import VibesModels

/// Runs `body` with a fake Ollama answering `handler` and a provider pointed at it.
func withProvider<T>(
    _ handler: @escaping FakeOllama.Handler,
    firstByte: Duration = .seconds(10), idle: Duration = .seconds(10),
    _ body: (OllamaProvider, FakeOllama) async throws -> T
) async throws -> T {
    try await FakeOllama.with(handler) { fake in
        let configuration = OllamaProvider.Configuration(
            baseURL: fake.baseURL, connectTimeout: .seconds(2), firstByteTimeout: firstByte, idleTimeout: idle)
        return try await withOllamaProvider(configuration: configuration) { provider in
            try await body(provider, fake)
        }
    }
}

/// Collects a whole stream.
func collect(_ stream: ChatStream) async throws -> [ChatChunk] {
    var chunks: [ChatChunk] = []
    for try await chunk in stream { chunks.append(chunk) }
    return chunks
}

extension Array where Element == ChatChunk {
    var text: String { map(\.textDelta).joined() }
}

/// Expects `body` to throw exactly `expected`-matching ``ModelError``.
func expectModelError<T>(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T,
    matches: (ModelError) -> Bool
) async {
    do {
        _ = try await body()
        Issue.record("expected a ModelError, got success", sourceLocation: sourceLocation)
    } catch let error as ModelError {
        #expect(matches(error), "unexpected \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a ModelError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
}

/// A ``ChatTextSink`` that keeps what it is given.
final class CollectingSink: ChatTextSink {
    private let bytes = Mutex<[UInt8]>([])
    private let writes = Mutex(0)

    func write(_ text: UnsafeRawBufferPointer) throws {
        bytes.withLock { $0.append(contentsOf: text) }
        writes.withLock { $0 += 1 }
    }

    var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
    var writeCount: Int { writes.withLock { $0 } }
}
