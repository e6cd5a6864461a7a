//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Synchronization

/// A running job's cancel: the loop fires it (a cancel request names the job); the job's
/// attempt, run under ``run(_:)``, is then cancelled as a task, which closes its request to
/// Ollama (and so stops the generation). Fired once; a fire before the attempt starts cancels
/// it as soon as it does.
final class CancelSignal: Sendable {
    private struct State {
        var request: CancelRequest?
        var waiter: CheckedContinuation<Void, Never>?
        var gone = false
    }
    private let state = Mutex(State())

    /// The request that fired it, if any.
    var request: CancelRequest? { state.withLock { $0.request } }

    func fire(_ request: CancelRequest) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.request == nil else { return nil }
            state.request = request
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Runs `body` in a child task that is cancelled when the signal fires (or when the calling
    /// task is cancelled); returns what `body` returned.
    func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await body() }
            group.addTask {
                await self.wait()
                return nil
            }
            var result: T?
            while let next = await group.next() {
                group.cancelAll()
                if let next { result = next }
            }
            return result!
        }
    }

    /// Returns when the signal fires or the task is cancelled.
    private func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.request != nil || state.gone { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.gone = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
