//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension WorkerLoop {
    /// Everything the worker's loop changes as events come, in one value (as async-http-client
    /// keeps a connection's state machine): the scheduler, the jobs and batch lines held between
    /// their attempts, the attempts under way, the open batches, and what `status` shows. The
    /// loop's handlers, in the `WorkerLoop+*.swift` files, read and write it; effects never do.
    struct State {
        /// Decides which job runs where and when.
        var scheduler: Scheduler

        // MARK: Jobs

        /// Claimed jobs between attempts (retrying, or failing).
        var contexts: [WorkID: JobContext] = [:]
        /// Attempts under way, for `status`.
        var running: [WorkID: WorkerStateFile.Running] = [:]
        /// Jobs' attempts under way (from their start to their end), for a cancel request.
        var signals: [WorkID: CancelSignal] = [:]
        /// Jobs a cancel request was handed to the scheduler for, until they end.
        var cancelAsked: [WorkID: CancelRequest] = [:]

        // MARK: Batches

        /// Open batches, by id.
        var batches: [String: OpenBatch] = [:]
        /// Batch lines the scheduler holds.
        var lines: [WorkID: LineState] = [:]
        /// Lines handed to the scheduler so far: the last ``WorkID/line(_:)`` number given.
        var linesQueued = 0
        /// Batch lines whose attempt is under way (see `startAttempt`), for the stop's log lines.
        var linesOut: Set<WorkID> = []

        // MARK: What the worker shows

        /// Claiming paused (every host down after a failure, or the disk full).
        var pause: (reason: String, since: Date)?
        /// Something the state file shows changed since it was last written.
        var changed = true
        /// A publish is due within a second (see `armPublish`).
        var publishArmed = false
        /// The systemd status line last sent.
        var lastStatus = ""
        /// The polled folders' last listings, by path (empty: no polling).
        var listings: [String: FolderListing] = [:]
        /// The scheduler said `exit`: the loop stops reading events.
        var exited = false
    }
}
