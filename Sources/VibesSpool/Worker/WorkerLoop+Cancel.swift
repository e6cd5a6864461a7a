//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Cancel requests: names in `cancel/` (from inotify, a rescan, or a poll of a shared file
/// system) are read off the loop, then each is decided on (``CancelDecision``) with what the
/// loop holds. A job's own claim settles the races: only the worker holding a job (or winning
/// its claim) acts on a cancel for it, and removes the file once the job is committed.
extension WorkerLoop {
    /// A cancel request as read, with the finished record of what it names, if any.
    struct SeenCancel: Sendable {
        var request: CancelRequest
        var finished: String?
    }

    /// Names reported in `cancel/` (``FileName/escaped``): read on the pool, then decided.
    func cancelsReported(_ names: [String], _ group: inout DiscardingTaskGroup) {
        let (io, worker) = (self.io, self.worker)
        group.addTask {
            let entries = (try? await io.run { io.spool.readCancels(names) }) ?? []
            let seen = await WorkerLoop.seen(entries, io: io, worker: worker)
            if !seen.isEmpty { worker.send(.cancelsRead(seen)) }
        }
    }

    /// The requests among `entries` with their finished records; the rest logged.
    static func seen(_ entries: [CancelEntry], io: SpoolIO, worker: SpoolWorker) async -> [SeenCancel] {
        var requests: [CancelRequest] = []
        for entry in entries {
            switch entry {
            case .request(let request, _): requests.append(request)
            case .ignored: break
            case .removed(let name, let kind):
                worker.logger.warning("cancel/\(name) is \(kind), not a cancel file: removed (not followed)")
            case .left(let name, let kind):
                worker.logger.warning("cancel/\(name) is \(kind) with entries: ignored")
            }
        }
        guard !requests.isEmpty else { return [] }
        let (spool, asked) = (io.spool, requests)
        return (try? await io.run { asked.map { SeenCancel(request: $0, finished: spool.finishedRecord($0.id)) } }) ?? []
    }

    /// Decides on each request read.
    func cancelsRead(_ seen: [SeenCancel], _ group: inout DiscardingTaskGroup) {
        // Cancel files carry wall times (their modification time): decided on the wall clock.
        let now = Date().timeIntervalSince1970
        var removals: [CancelRequest] = []
        for item in seen {
            let request = item.request
            let target: CancelTarget
            if let batch = state.batches[request.id] {
                target = .batch(queuedAt: batch.run.claim.queuedAt.timeIntervalSince1970)
            } else if let token = state.scheduler.ids[request.id], let job = state.scheduler.jobs[token] {
                target = .job(queuedAt: WallClock.date(of: job.queuedAt).timeIntervalSince1970)
            } else {
                target = item.finished.map { .finished(record: $0) } ?? .nothing
            }
            switch CancelDecision.decide(request, target: target, now: now) {
            case .cancelBatch:
                cancelBatch(request, &group)
            case .cancelJob:
                if let token = state.scheduler.ids[request.id] { state.cancelAsked[token] = request }
                perform(state.scheduler.handle(.cancel(request), now: Self.now()), &group)
            case .alreadyFinished(let record):
                logger.notice("cancel came after the end (\(record)): removed", metadata: ["job": "\(request.id)"])
                removals.append(request)
            case .wait:
                logger.debug("cancel names nothing queued or running here; kept for an hour", metadata: ["job": "\(request.id)"])
            case .expire:
                logger.notice("cancel named nothing for an hour: removed", metadata: ["job": "\(request.id)"])
                removals.append(request)
            }
        }
        removeCancels(removals, &group)
    }

    /// A job a cancel was asked for ended: its cancel file goes (the cancelled path removed it
    /// already; a job that ended otherwise, e.g. done as the cancel came, says so).
    func cancelledJobEnded(_ token: WorkID, _ outcome: JobOutcome, _ group: inout DiscardingTaskGroup) {
        state.signals[token] = nil
        guard let request = state.cancelAsked.removeValue(forKey: token), outcome != .putBack else { return }
        if outcome == .done { logger.notice("cancel came as the job committed: it is done; cancel removed", metadata: ["job": "\(request.id)"]) }
        removeCancels([request], &group)
    }

    func removeCancels(_ requests: [CancelRequest], _ group: inout DiscardingTaskGroup) {
        guard !requests.isEmpty else { return }
        let io = self.io
        group.addTask { _ = try? await io.run { for request in requests { io.spool.removeCancel(named: request.file) } } }
    }

    /// Every name in `cancel/` (at start and at each rescan: what inotify cannot see, such as
    /// files dropped on another machine, and requests that wait for their hour).
    func listCancels(_ group: inout DiscardingTaskGroup) {
        let (io, worker) = (self.io, self.worker)
        group.addTask {
            guard let entries = try? await io.run({ try io.spool.listCancels() }) else { return }
            let seen = await WorkerLoop.seen(entries, io: io, worker: worker)
            if !seen.isEmpty { worker.send(.cancelsRead(seen)) }
        }
    }
}
