//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// How one attempt of a job (or batch line) ended badly; the scheduler decides what comes next.
struct AttemptFailure: Sendable, Equatable {
    /// What went wrong: one kind an attempt, each leading the scheduler its own way.
    enum Kind: Sendable, Equatable {
        /// The host could not be reached (connection refused, reset before the reply, connect
        /// timeout): the host pauses; the job moves to another host with its model, or retries.
        case unreachable
        /// The connection broke mid-reply (the host may have died): as `unreachable`, but a
        /// job that runs out of attempts fails with its own error.
        case broken
        /// The host answered 404 for the model: its model list is read again; the job moves to
        /// another host with the model, or fails as `model_not_installed`.
        case modelMissing
        /// Trying again may succeed (500, 503, an `{"error"}` line mid-stream): retried with
        /// backoff.
        case retryable
        /// Trying again will not help (a 400, a timeout, a reply that cannot be read): the job
        /// fails with its own error.
        case final
        /// The spool's disk is full: the attempt does not count, the job waits for room.
        case diskFull
    }

    var kind: Kind
    /// Attempts started so far, counting earlier claims'.
    var attempts: Int
    /// The job's own deadline.
    var deadline: ContinuousClock.Instant?

    init(_ kind: Kind, attempts: Int, deadline: ContinuousClock.Instant? = nil) {
        self.kind = kind
        self.attempts = attempts
        self.deadline = deadline
    }

    /// The kind of a model error: a refused connection (``ModelError/notRunning(baseURL:cause:)``)
    /// is `unreachable`, a cut stream `broken`, a 404 for the model `modelMissing`; any other
    /// error is `retryable` or `final` as ``ModelError/isRetryable`` says.
    init(_ error: ModelError, attempts: Int, deadline: ContinuousClock.Instant?) {
        let kind: Kind
        switch error {
        case .notRunning: kind = .unreachable
        case .streamInterrupted: kind = .broken
        case .modelNotInstalled: kind = .modelMissing
        default: kind = error.isRetryable ? .retryable : .final
        }
        self.init(kind, attempts: attempts, deadline: deadline)
    }

    /// Whether another attempt may succeed (on this host after a backoff, or on another).
    var isRetryable: Bool {
        switch kind {
        case .unreachable, .broken, .retryable: true
        case .modelMissing, .final, .diskFull: false
        }
    }

    /// Whether the host itself failed (it pauses, probed back with backoff).
    var hostFailed: Bool { kind == .unreachable || kind == .broken }
}
