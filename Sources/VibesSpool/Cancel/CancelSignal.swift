//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Synchronization

/// A cancel for work under way: the loop fires it (a cancel request names a job or a batch);
/// each piece of work run under ``run(_:)`` (a job's attempt, a batch line's) is then cancelled as
/// a task, which closes its request to Ollama (and so stops the generation). Fired once; work
/// started after the fire is cancelled as soon as it starts.
final class CancelSignal: Sendable {
    private enum Slot {
        case waiting(CheckedContinuation<Void, Never>)
        /// The work ended (or its task was cancelled) before its runner waited.
        case released
    }

    private struct State {
        var request: CancelRequest?
        var slots: [UInt64: Slot] = [:]
        var nextKey: UInt64 = 0
    }
    private let state = Mutex(State())

    /// The request that fired it, if any.
    var request: CancelRequest? { state.withLock { $0.request } }

    func fire(_ request: CancelRequest) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.request == nil else { return [] }
            state.request = request
            let waiters = state.slots.values.compactMap { slot -> CheckedContinuation<Void, Never>? in
                if case .waiting(let continuation) = slot { return continuation }
                return nil
            }
            state.slots = [:]
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Runs `body` in a child task, cancelled when the signal fires (or when the calling task is
    /// cancelled); returns what `body` returned. One child task: the caller waits for the first
    /// of the body's end and the fire.
    func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        let key = state.withLock { state -> UInt64 in
            state.nextKey += 1
            return state.nextKey
        }
        return await withTaskGroup(of: T.self) { group in
            group.addTask {
                let result = await body()
                self.release(key)
                return result
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.request != nil || state.slots.removeValue(forKey: key) != nil { return true }
                        state.slots[key] = .waiting(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                release(key)
            }
            if request != nil { group.cancelAll() }
            return await group.next()!
        }
    }

    /// The work of `key` ended: its runner stops waiting (or does not start to).
    private func release(_ key: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            switch state.slots[key] {
            case .waiting(let continuation):
                state.slots[key] = nil
                return continuation
            case .released:
                return nil
            case nil:
                if state.request == nil { state.slots[key] = .released }
                return nil
            }
        }
        waiter?.resume()
    }
}
