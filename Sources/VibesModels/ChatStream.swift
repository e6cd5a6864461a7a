//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Synchronization

/// A streamed reply: an async sequence of ``ChatChunk``s.
///
/// Nothing is sent until iteration starts. The producer (for Ollama: the task reading the HTTP
/// body) hands chunks over one batch at a time and waits until the consumer has taken them, so a
/// slow consumer slows the reading instead of filling memory. Cancelling the consuming task, or
/// dropping the iterator, cancels the producer.
public struct ChatStream: AsyncSequence, Sendable {
    public typealias Element = ChatChunk

    /// Produces the reply: sends batches into the handoff; returns or throws when done.
    package typealias Producer = @Sendable (ChunkHandoff) async throws -> Void

    private let producer: Producer

    package init(producer: @escaping Producer) {
        self.producer = producer
    }

    public func makeAsyncIterator() -> Iterator {
        let handoff = ChunkHandoff()
        let producer = self.producer
        let task = Task {
            do {
                try await producer(handoff)
                handoff.finish(throwing: nil)
            } catch {
                handoff.finish(throwing: error)
            }
        }
        return Iterator(lifetime: Lifetime(handoff: handoff, task: task))
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
            guard let next = try await lifetime.handoff.next() else { return nil }
            batch = next
            index = 1
            return next[0]
        }
    }

    /// Ends the producer when the last copy of the iterator goes away.
    fileprivate final class Lifetime: Sendable {
        let handoff: ChunkHandoff
        let task: Task<Void, Never>

        init(handoff: ChunkHandoff, task: Task<Void, Never>) {
            self.handoff = handoff
            self.task = task
            handoff.onTerminate { task.cancel() }
        }

        deinit {
            handoff.terminate()
        }
    }
}

/// A one-slot rendezvous between one producer and one consumer of chunk batches.
package final class ChunkHandoff: Sendable {
    private enum State {
        case idle
        case offering([ChatChunk], CheckedContinuation<Void, any Error>)
        case awaiting(CheckedContinuation<[ChatChunk]?, any Error>)
        case finished((any Error)?)
        /// The consumer is gone (cancelled or dropped): the producer must stop.
        case terminated
    }

    private let state = Mutex<State>(.idle)
    private let terminationHandler = Mutex<(@Sendable () -> Void)?>(nil)

    package init() {}

    func onTerminate(_ handler: @escaping @Sendable () -> Void) {
        terminationHandler.withLock { $0 = handler }
    }

    /// Offers a non-empty batch and waits until the consumer takes it.
    /// - Throws: `CancellationError` once the consumer is gone.
    package func send(_ batch: [ChatChunk]) async throws {
        guard !batch.isEmpty else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: (() -> Void)? = state.withLock { state in
                    switch state {
                    case .awaiting(let consumer):
                        state = .idle
                        return {
                            consumer.resume(returning: batch)
                            continuation.resume()
                        }
                    case .idle:
                        if Task.isCancelled {
                            return { continuation.resume(throwing: CancellationError()) }
                        }
                        state = .offering(batch, continuation)
                        return nil
                    case .terminated, .finished:
                        return { continuation.resume(throwing: CancellationError()) }
                    case .offering:
                        preconditionFailure("ChunkHandoff has one producer")
                    }
                }
                resume?()
            }
        } onCancel: {
            let waiting: CheckedContinuation<Void, any Error>? = state.withLock { state in
                guard case .offering(_, let continuation) = state else { return nil }
                state = .terminated
                return continuation
            }
            waiting?.resume(throwing: CancellationError())
        }
    }

    /// Ends the stream, with an error or cleanly. A consumer waiting now gets it at once.
    func finish(throwing error: (any Error)?) {
        let waiting: CheckedContinuation<[ChatChunk]?, any Error>? = state.withLock { state in
            switch state {
            case .awaiting(let consumer):
                state = .finished(nil)
                return consumer
            case .idle:
                state = .finished(error)
                return nil
            case .offering, .finished, .terminated:
                return nil
            }
        }
        if let waiting {
            if let error { waiting.resume(throwing: error) } else { waiting.resume(returning: nil) }
        }
    }

    /// The next batch, or `nil` at the end. Throws the producer's error once.
    func next() async throws -> [ChatChunk]? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[ChatChunk]?, any Error>) in
                let resume: (() -> Void)? = state.withLock { state in
                    switch state {
                    case .offering(let batch, let producer):
                        state = .idle
                        return {
                            producer.resume()
                            continuation.resume(returning: batch)
                        }
                    case .idle:
                        if Task.isCancelled {
                            state = .terminated
                            return { continuation.resume(throwing: CancellationError()) }
                        }
                        state = .awaiting(continuation)
                        return nil
                    case .finished(let error):
                        state = .finished(nil)
                        return {
                            if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: nil) }
                        }
                    case .terminated:
                        return { continuation.resume(throwing: CancellationError()) }
                    case .awaiting:
                        preconditionFailure("ChunkHandoff has one consumer")
                    }
                }
                resume?()
            }
        } onCancel: {
            terminate()
        }
    }

    /// The consumer is gone: wake whoever waits and stop the producer.
    func terminate() {
        let (producer, consumer): (CheckedContinuation<Void, any Error>?, CheckedContinuation<[ChatChunk]?, any Error>?) =
            state.withLock { state in
                defer { state = .terminated }
                switch state {
                case .offering(_, let producer): return (producer, nil)
                case .awaiting(let consumer): return (nil, consumer)
                default: return (nil, nil)
                }
            }
        producer?.resume(throwing: CancellationError())
        consumer?.resume(throwing: CancellationError())
        let handler = terminationHandler.withLock { handler in
            defer { handler = nil }
            return handler
        }
        handler?()
    }
}
