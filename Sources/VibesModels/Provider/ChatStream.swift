//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Synchronization

/// A streamed reply: an async sequence of ``ChatChunk``s.
///
/// Nothing is sent until iteration starts. The producer (for Ollama: the HTTP body reader on its
/// event loop) pushes chunks into a queue without waiting; the consumer takes everything queued
/// at each wake-up. When the consumer falls more than ``ChunkQueue/highWatermark`` chunks behind,
/// the producer stops reading until it has caught up, so a slow consumer slows the reading
/// instead of filling memory. Cancelling the consuming task, or dropping the iterator, cancels
/// the producer.
public struct ChatStream: AsyncSequence, Sendable {
    public typealias Element = ChatChunk

    /// Produces the reply: pushes chunks into the queue; returns or throws when done.
    package typealias Producer = @Sendable (ChunkQueue) async throws -> Void

    private let producer: Producer

    package init(producer: @escaping Producer) {
        self.producer = producer
    }

    public func makeAsyncIterator() -> Iterator {
        let queue = ChunkQueue()
        let producer = self.producer
        let task = Task {
            do {
                try await producer(queue)
                queue.finish(throwing: nil)
            } catch {
                queue.finish(throwing: error)
            }
        }
        return Iterator(lifetime: Lifetime(queue: queue, task: task))
    }

    public struct Iterator: AsyncIteratorProtocol {
        private let lifetime: Lifetime
        private var batch: [ChatChunk] = []
        private var index = 0

        fileprivate init(lifetime: Lifetime) {
            self.lifetime = lifetime
        }

        public mutating func next() async throws -> ChatChunk? {
            if index < batch.count {
                index += 1
                return batch[index - 1]
            }
            guard let next = try await lifetime.queue.next() else { return nil }
            batch = next
            index = 1
            return next[0]
        }
    }

    /// Ends the producer when the last copy of the iterator goes away.
    fileprivate final class Lifetime: Sendable {
        let queue: ChunkQueue
        let task: Task<Void, Never>

        init(queue: ChunkQueue, task: Task<Void, Never>) {
            self.queue = queue
            self.task = task
            queue.onTerminate { task.cancel() }
        }

        deinit {
            queue.terminate()
        }
    }
}

/// Chunks on their way from one producer, which never waits to push, to one consumer.
package final class ChunkQueue: Sendable {
    /// How far (in chunks) the consumer may fall behind before ``push(_:)`` asks the producer
    /// to stop reading.
    package static let highWatermark = 1024

    private enum Drain {
        case none
        /// The producer was told to stop; it may have left what to do once the consumer caught up.
        case awaited((@Sendable () -> Void)?)
    }

    private struct State {
        var buffer: [ChatChunk] = []
        var consumer: CheckedContinuation<[ChatChunk]?, any Error>?
        /// Set once the producer is done: `nil` for a clean end.
        var end: Result<Void, any Error>?
        var endDelivered = false
        /// The consumer is gone (cancelled or dropped): the producer must stop.
        var terminated = false
        var drain = Drain.none
    }

    private let state = Mutex(State())
    private let terminationHandler = Mutex<(@Sendable () -> Void)?>(nil)

    package init() {}

    func onTerminate(_ handler: @escaping @Sendable () -> Void) {
        terminationHandler.withLock { $0 = handler }
    }

    /// Queues `chunks` (from any thread; never waits). Returns `false` when the consumer is over
    /// ``highWatermark`` chunks behind: read no more, and call ``whenDrained(_:)``.
    package func push(_ chunks: [ChatChunk]) -> Bool {
        guard !chunks.isEmpty else { return true }
        let (consumer, batch, full): (CheckedContinuation<[ChatChunk]?, any Error>?, [ChatChunk], Bool) = state.withLock { state in
            guard !state.terminated, state.end == nil else { return (nil, [], false) }
            if let consumer = state.consumer {
                state.consumer = nil
                return (consumer, chunks, false)
            }
            state.buffer += chunks
            guard state.buffer.count > Self.highWatermark else { return (nil, [], false) }
            state.drain = .awaited(nil)
            return (nil, [], true)
        }
        consumer?.resume(returning: batch)
        return !full
    }

    /// Runs `action` once the consumer has taken what was queued (at once if it already has).
    package func whenDrained(_ action: @escaping @Sendable () -> Void) {
        let now: Bool = state.withLock { state in
            guard case .awaited(nil) = state.drain, !state.terminated else { return true }
            state.drain = .awaited(action)
            return false
        }
        if now { action() }
    }

    /// Ends the stream, with an error or cleanly, after what is queued.
    func finish(throwing error: (any Error)?) {
        let consumer: CheckedContinuation<[ChatChunk]?, any Error>? = state.withLock { state in
            guard state.end == nil else { return nil }
            state.end = error.map { .failure($0) } ?? .success(())
            guard let consumer = state.consumer else { return nil }
            state.consumer = nil
            state.endDelivered = true
            return consumer
        }
        if let consumer {
            if let error { consumer.resume(throwing: error) } else { consumer.resume(returning: nil) }
        }
    }

    /// Everything queued, or `nil` at the end. Throws the producer's error once.
    func next() async throws -> [ChatChunk]? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[ChatChunk]?, any Error>) in
                let (result, drained): (Result<[ChatChunk]?, any Error>?, (@Sendable () -> Void)?) = state.withLock { state in
                    if state.terminated { return (.failure(CancellationError()), nil) }
                    if !state.buffer.isEmpty {
                        var drained: (@Sendable () -> Void)?
                        if case .awaited(let action) = state.drain {
                            drained = action
                            state.drain = .none
                        }
                        defer { state.buffer = [] }
                        return (.success(state.buffer), drained)
                    }
                    if let end = state.end {
                        if state.endDelivered { return (.success(nil), nil) }
                        state.endDelivered = true
                        return (end.map { _ -> [ChatChunk]? in nil }, nil)
                    }
                    if Task.isCancelled {
                        state.terminated = true
                        return (.failure(CancellationError()), nil)
                    }
                    state.consumer = continuation
                    return (nil, nil)
                }
                drained?()
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            terminate()
        }
    }

    /// The consumer is gone: wake whoever waits and stop the producer.
    func terminate() {
        let (consumer, drained): (CheckedContinuation<[ChatChunk]?, any Error>?, (@Sendable () -> Void)?) = state.withLock { state in
            state.terminated = true
            state.buffer = []
            defer { state.consumer = nil; state.drain = .none }
            if case .awaited(let action) = state.drain { return (state.consumer, action) }
            return (state.consumer, nil)
        }
        consumer?.resume(throwing: CancellationError())
        drained?()
        let handler = terminationHandler.withLock { handler in
            defer { handler = nil }
            return handler
        }
        handler?()
    }
}
