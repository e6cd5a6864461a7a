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
///
/// Reporting progress is one relaxed atomic increment: no clock read, no lock, per chunk. The
/// monitor notices the count moved at its next check and restarts the idle clock then, so a
/// limit may run up to one check interval late.
final class ResponseWatchdog: Sendable {
    private struct State {
        var lastActivity: ContinuousClock.Instant
        var progressSeen = 0
        var expired: TimeoutLimit?
    }

    private let state: Mutex<State>
    /// Bumped for every piece of the body that arrives.
    private let progress = Atomic<Int>(0)
    /// Above 0 while waiting for our own consumer: that time does not count as the server idle.
    private let pauses = Atomic<Int>(0)
    let firstByte: Duration
    let idle: Duration

    init(firstByte: Duration, idle: Duration) {
        self.firstByte = firstByte
        self.idle = idle
        self.state = Mutex(State(lastActivity: .now))
    }

    /// Bytes arrived from the server.
    func received() {
        progress.wrappingAdd(1, ordering: .relaxed)
    }

    /// Stops the idle clock until ``resume()``: the reader waits for our consumer.
    func pause() {
        pauses.wrappingAdd(1, ordering: .relaxed)
    }

    func resume() {
        progress.wrappingAdd(1, ordering: .relaxed)
        pauses.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Whether the current limit has run out at `now`; marks the watchdog expired if so.
    func expire(at now: ContinuousClock.Instant) -> Bool {
        let progress = progress.load(ordering: .relaxed)
        let paused = pauses.load(ordering: .relaxed) > 0
        return state.withLock { state in
            guard state.expired == nil else { return false }
            if paused || progress != state.progressSeen {
                state.progressSeen = progress
                state.lastActivity = now
                return false
            }
            let (limit, kind): (Duration, TimeoutLimit) = progress != 0 ? (idle, .idle) : (firstByte, .firstByte)
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

    /// Checks every tenth of the shortest limit, between 10 ms and 1 s: a limit runs out at most
    /// 10 % late, and with the default limits (minutes) a stream is checked once a second, not
    /// once per few tokens (each check wakes a thread, which a CPU-bound model feels).
    convenience init(limits: [Duration]) {
        let shortest = limits.min() ?? .seconds(1)
        self.init(interval: min(max(shortest / 10, .milliseconds(10)), .seconds(1)))
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
