//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Synchronization
import Testing
@testable import VibesModels

/// The queue between the event loop (which never waits) and a stream's consumer.
@Suite struct ChunkQueueTests {
    static func chunks(_ count: Int, from start: Int = 0) -> [ChatChunk] {
        (start..<(start + count)).map { ChatChunk(textDelta: "\($0) ") }
    }

    @Test func aConsumerFarBehindStopsTheProducerUntilItHasTakenEverything() async throws {
        let queue = ChunkQueue()
        #expect(queue.push(Self.chunks(10)), "under the watermark: read on")
        #expect(!queue.push(Self.chunks(ChunkQueue.highWatermark, from: 10)), "over it: stop reading")
        let drained = Mutex(false)
        queue.whenDrained { drained.withLock { $0 = true } }
        #expect(!drained.withLock { $0 }, "not before the consumer took the chunks")
        let batch = try #require(try await queue.next())
        #expect(batch.count == ChunkQueue.highWatermark + 10)
        #expect(batch.map(\.textDelta).joined() == Self.chunks(ChunkQueue.highWatermark + 10).map(\.textDelta).joined(), "in order")
        #expect(drained.withLock { $0 }, "taking them resumes the producer")
        let late = Mutex(false)
        queue.whenDrained { late.withLock { $0 = true } }
        #expect(late.withLock { $0 }, "nothing to wait for: at once")
        queue.finish(throwing: nil)
        #expect(try await queue.next() == nil)
    }

    @Test func queuedChunksComeBeforeTheErrorAndTheErrorOnce() async throws {
        let queue = ChunkQueue()
        _ = queue.push(Self.chunks(3))
        queue.finish(throwing: ModelError.streamInterrupted(bytesReceived: 6, cause: "x"))
        #expect(try await queue.next()?.count == 3)
        await #expect(throws: ModelError.self) { try await queue.next() }
        #expect(try await queue.next() == nil)
    }

    @Test func aLongReplyInBigPiecesArrivesWholeThroughTheWatermark() async throws {
        let pieces = (0..<5000).map { "w\($0) " }
        let lines = pieces.map { FakeResponse.chatLine(content: $0) + "\n" } + [FakeResponse.finalLine(evalCount: 5000) + "\n"]
        // Five big HTTP chunks of 1 001 lines each: the consumer may fall far behind the reader.
        let bodies = stride(from: 0, to: lines.count, by: 1001).map { Array(lines[$0..<min($0 + 1001, lines.count)].joined().utf8) }
        try await withProvider(FakeOllama.ollamaLike { _ in .chunks(bodies) }) { provider, _ in
            let chunks = try await collect(provider.chatStream(ChatRequest(model: "llama3.2", messages: [.user("go")])))
            #expect(chunks.text == pieces.joined())
            #expect(chunks.last?.done == true)
            #expect(chunks.last?.usage?.completionTokens == 5000)
        }
    }
}
