//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Synchronization

/// Enforces the first-byte and idle limits on one HTTP exchange.
///
/// AsyncHTTPClient's own deadline ends when the response head arrives, and its read timeout
/// cannot tell a cold model load (minutes) from a stalled stream. So the reader reports progress
/// here and one watchdog task per request sleeps until the current limit would run out.
final class ResponseWatchdog: Sendable {
    private struct State {
        var lastActivity: ContinuousClock.Instant
        var sawFirstByte = false
        /// Time spent waiting for our own consumer does not count as the server being idle.
        var paused = false
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

    /// Runs `operation` under the limits: throws ``ModelError/timeout(_:seconds:)`` when one runs
    /// out, cancelling `operation` (which closes its connection).
    func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await self.watch()
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }

    private func watch() async throws {
        while true {
            let (deadline, limit, expired) = state.withLock { state in
                let limit: (Duration, TimeoutLimit) = state.sawFirstByte ? (idle, .idle) : (firstByte, .firstByte)
                let now = ContinuousClock.now
                if state.paused { return (now + limit.0, limit, false) }
                let deadline = state.lastActivity + limit.0
                return (deadline, limit, deadline <= now)
            }
            if expired {
                throw ModelError.timeout(limit.1, seconds: limit.0.seconds)
            }
            // The limit shrinks from first-byte to idle when bytes arrive: never sleep past that.
            let wake = min(deadline, ContinuousClock.now + idle)
            try await Task.sleep(until: max(wake, .now + .milliseconds(1)), clock: .continuous)
        }
    }
}

extension Duration {
    /// This duration in seconds, as a `Double`.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
