//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Synchronization

/// Enforces the first-byte and idle limits on one HTTP exchange.
///
/// AsyncHTTPClient's own deadline ends when the response head arrives, and its read timeout
/// cannot tell a cold model load (minutes) from a stalled stream. So the reader reports progress
/// here, and the provider's ``TimeoutMonitor`` checks every live exchange and cancels the one
/// whose limit ran out.
final class ResponseWatchdog: Sendable {
    private struct State {
        var lastActivity: ContinuousClock.Instant
        var sawFirstByte = false
        /// Time spent waiting for our own consumer does not count as the server being idle.
        var paused = false
        var expired: TimeoutLimit?
    }

    private let state: Mutex<State>
    let firstByte: Duration
    let idle: Duration

    init(firstByte: Duration, idle: Duration) {
        self.firstByte = firstByte
        self.idle = idle
        self.state = Mutex(State(lastActivity: .now))
    }

    /// Bytes arrived from the server.
    func received() {
        state.withLock {
            $0.lastActivity = .now
            $0.sawFirstByte = true
        }
    }

    /// Runs `body` (waiting for our consumer) without the idle clock running.
    func paused<T>(_ body: () async throws -> T) async rethrows -> T {
        state.withLock { $0.paused = true }
        defer { state.withLock { $0.paused = false; $0.lastActivity = .now } }
        return try await body()
    }

    /// Whether the current limit has run out at `now`; marks the watchdog expired if so.
    func expire(at now: ContinuousClock.Instant) -> Bool {
        state.withLock { state in
            guard state.expired == nil, !state.paused else { return false }
            let (limit, kind): (Duration, TimeoutLimit) = state.sawFirstByte ? (idle, .idle) : (firstByte, .firstByte)
            guard state.lastActivity + limit <= now else { return false }
            state.expired = kind
            return true
        }
    }

    /// Runs `operation` under the limits: throws ``ModelError/timeout(_:seconds:)`` when one runs
    /// out, cancelling `operation` (which closes its connection).
    func run<T: Sendable>(monitor: TimeoutMonitor, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await operation() }
        let registration = monitor.register(self) { task.cancel() }
        defer { monitor.remove(registration) }
        do {
            return try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                task.cancel()
            }
        } catch {
            if let limit = state.withLock({ $0.expired }) {
                throw ModelError.timeout(limit, seconds: (limit == .idle ? idle : firstByte).seconds)
            }
            throw error
        }
    }
}

/// Checks the live exchanges of one provider for their time limits.
///
/// One task for all of them, awake only while there are any, every `interval`. (A watchdog task
/// per request that sleeps until its limit costs two tasks a request, and a cancelled
/// `Task.sleep` keeps its task alive until the time it was to wake: at a thousand requests a
/// second and a 120 s idle limit, 120 000 sleeping tasks.)
final class TimeoutMonitor: Sendable {
    private struct Entry {
        let watchdog: ResponseWatchdog
        let cancel: @Sendable () -> Void
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var nextID = 0
        var running = false
    }

    private let state = Mutex(State())
    let interval: Duration

    init(interval: Duration = .milliseconds(50)) {
        self.interval = interval
    }

    func register(_ watchdog: ResponseWatchdog, cancel: @escaping @Sendable () -> Void) -> Int {
        let (id, start) = state.withLock { state in
            state.nextID += 1
            state.entries[state.nextID] = Entry(watchdog: watchdog, cancel: cancel)
            defer { state.running = true }
            return (state.nextID, !state.running)
        }
        if start { Task { await self.watch() } }
        return id
    }

    func remove(_ id: Int) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    private func watch() async {
        while true {
            try? await Task.sleep(for: interval)
            let now = ContinuousClock.now
            let expired: [Entry]? = state.withLock { state in
                if state.entries.isEmpty {
                    state.running = false
                    return nil
                }
                return state.entries.values.filter { $0.watchdog.expire(at: now) }
            }
            guard let expired else { return }
            for entry in expired { entry.cancel() }
        }
    }
}
