//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Synchronization

/// Enforces the first-byte and idle limits on one HTTP exchange.
///
/// AsyncHTTPClient's own deadline ends when the response head arrives, and its read timeout
/// cannot tell a cold model load (minutes) from a stalled stream. So the reader reports progress
/// here, and the provider's ``TimeoutMonitor`` checks every live exchange and cancels the HTTP
/// task (``onExpiry(_:)``) of the one whose limit ran out: no task of its own per exchange.
///
/// Reporting progress is one relaxed atomic increment: no clock read, no lock, per chunk. The
/// monitor notices the count moved at its next check and restarts the idle clock then, so a
/// limit may run up to one check interval late.
final class ResponseWatchdog: Sendable {
    private struct State {
        var lastActivity: ContinuousClock.Instant
        var progressSeen = 0
        var expired: TimeoutLimit?
        /// Ends the exchange: set once its HTTP task exists.
        var cancel: (@Sendable () -> Void)?
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

    /// What ends the exchange when a limit runs out (its HTTP task's `cancel`); run at once if
    /// one has run out already.
    func onExpiry(_ cancel: @escaping @Sendable () -> Void) {
        let expired = state.withLock { state in
            state.cancel = cancel
            return state.expired != nil
        }
        if expired { cancel() }
    }

    /// Called by the monitor once ``expire(at:)`` said so: ends the exchange.
    func fire() {
        state.withLock { $0.cancel }?()
    }

    /// Runs `operation` under the limits: throws ``ModelError/timeout(_:seconds:)`` when one runs
    /// out (the monitor cancels the HTTP task given to ``onExpiry(_:)``, which ends `operation`).
    func run<T: Sendable>(monitor: TimeoutMonitor, _ operation: () async throws -> T) async throws -> T {
        let registration = monitor.register(self)
        defer { monitor.remove(registration) }
        do {
            return try await operation()
        } catch {
            throw expiry ?? error
        }
    }

    /// The error of the limit that ran out, if one did.
    var expiry: ModelError? {
        state.withLock { $0.expired }.map { limit in ModelError.timeout(limit, seconds: (limit == .idle ? idle : firstByte).seconds) }
    }
}

/// Checks the live exchanges of one provider for their time limits.
///
/// One task for all of them, awake only while there are any, every `interval`. (A watchdog task
/// per request that sleeps until its limit costs two tasks a request, and a cancelled
/// `Task.sleep` keeps its task alive until the time it was to wake: at a thousand requests a
/// second and a 120 s idle limit, 120 000 sleeping tasks.)
final class TimeoutMonitor: Sendable {
    private struct State {
        var entries: [Int: ResponseWatchdog] = [:]
        var nextID = 0
        var running = false
    }

    private let state = Mutex(State())
    let interval: Duration

    init(interval: Duration = .milliseconds(50)) {
        self.interval = interval
    }

    /// Checks every tenth of the shortest limit, between 10 ms and 5 s: a limit runs out at most
    /// 10 % late, and with the default limits (2 and 10 minutes) a stream is checked every 5 s,
    /// not every few tokens (each check wakes a thread, which a CPU-bound model feels).
    convenience init(limits: [Duration]) {
        let shortest = limits.min() ?? .seconds(1)
        self.init(interval: min(max(shortest / 10, .milliseconds(10)), .seconds(5)))
    }

    func register(_ watchdog: ResponseWatchdog) -> Int {
        let (id, start) = state.withLock { state in
            state.nextID += 1
            state.entries[state.nextID] = watchdog
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
            let expired: [ResponseWatchdog]? = state.withLock { state in
                if state.entries.isEmpty {
                    state.running = false
                    return nil
                }
                return state.entries.values.filter { $0.expire(at: now) }
            }
            guard let expired else { return }
            for watchdog in expired { watchdog.fire() }
        }
    }
}
