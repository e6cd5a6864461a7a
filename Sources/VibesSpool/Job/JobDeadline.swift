//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// Runs `body` under a job's own `timeout`: once `deadline` passes, `body` is cancelled and this
/// throws ``ModelError/timeout(_:seconds:)`` with the job's deadline. Without one, just `body`.
func withJobDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant?, timeout: Duration?, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    guard let deadline, let timeout else { return try await body() }
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(until: deadline, clock: .continuous)
            throw ModelError.timeout(.deadline, seconds: timeout.seconds)
        }
        defer { group.cancelAll() }
        while let result = try await group.next() {
            if let result { return result }
        }
        throw CancellationError()
    }
}
