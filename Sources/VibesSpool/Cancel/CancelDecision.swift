//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// What a cancel request names, as the worker sees it.
enum CancelTarget: Sendable, Equatable {
    /// A batch this worker has open, dropped at `queuedAt` (seconds since 1970).
    case batch(queuedAt: Double)
    /// A job this worker's scheduler knows (queued, held, retrying or running).
    case job(queuedAt: Double)
    /// A finished job or batch: its envelope or record (`done/ID.result.json`).
    case finished(record: String)
    /// Nothing (yet): maybe another worker's job, or one still to be dropped.
    case nothing
}

/// What the worker does with a cancel request: a plain decision, tested without files.
enum CancelDecision: Sendable, Equatable {
    case cancelBatch
    /// Hand it to the scheduler (which fails a waiting job, or cancels a running attempt).
    case cancelJob
    /// Remove the cancel file; the job ended before (done or failed).
    case alreadyFinished(record: String)
    /// Keep the file: a job may appear (or another worker acts) within the hour.
    case wait
    /// Remove the file: it named nothing for an hour.
    case expire

    static func decide(_ request: CancelRequest, target: CancelTarget, now: Double) -> CancelDecision {
        switch target {
        // A job or batch dropped over an hour after a cancel that named nothing is not cancelled by it.
        case .batch(let queuedAt): return request.applies(queuedAt: queuedAt, now: now) ? .cancelBatch : .expire
        case .job(let queuedAt): return request.applies(queuedAt: queuedAt, now: now) ? .cancelJob : .expire
        case .finished(let record): return .alreadyFinished(record: record)
        case .nothing: return request.isLive(now: now) ? .wait : .expire
        }
    }
}

/// What `vibes-spool cancel` reports for one id: a plain decision from what it saw.
package enum CancelReport: Sendable, Equatable {
    case cancelled
    case alreadyFinished(record: String)
    case noSuchJob
    /// The cancel file is in place, but nothing acted on it in time (a job in `active/` with no
    /// worker watching, or a worker slower than the wait).
    case notYetActedOn(where: String)

    /// The line the command prints for `id`.
    package func text(_ id: String) -> String {
        switch self {
        case .cancelled: return "\(id): cancelled"
        case .alreadyFinished(let record): return "\(id): already finished (\(record))"
        case .noSuchJob: return "\(id): no such job (cancel/\(id) stays for an hour, for a job dropped later)"
        case .notYetActedOn(let place): return "\(id): cancel requested; still in \(place), not yet acted on (cancel/\(id) stays)"
        }
    }

    package var succeeded: Bool { self == .cancelled }

    /// From what was seen: the record the job or batch finished with (`nil`: none yet), whether
    /// that finish is the cancel's own, and where it still is (`incoming/`, `active/`, nowhere).
    static func decide(record: String?, byThisCancel: Bool, place: String?) -> CancelReport {
        if let record { return byThisCancel ? .cancelled : .alreadyFinished(record: record) }
        if let place { return .notYetActedOn(where: place) }
        return .noSuchJob
    }
}
