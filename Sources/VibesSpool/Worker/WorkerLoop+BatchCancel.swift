//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Cancelling an open batch: no line starts from the moment the cancel is seen; once the cancel
/// is recorded in the batch's progress (so a crash resumes the cancel), lines waiting or
/// retrying end at once and lines running are cancelled; lines already settled are written as
/// usual. When none is left, every line not settled goes to the errors file and the batch
/// commits into `done/` as `cancelled` (or `expired`).
extension WorkerLoop {
    func cancelBatch(_ request: CancelRequest, _ group: inout DiscardingTaskGroup) {
        guard let batch = state.batches[request.id], batch.cancel == nil, !batch.committing else { return }
        state.batches[request.id]!.cancel = request
        logger.notice("cancelling the batch (\(request.reason.rawValue)): no new line starts", metadata: ["batch": "\(request.id)"])
        let (run, io, worker) = (batch.run, self.io, self.worker)
        group.addTask {
            do {
                try await io.run { try run.beginCancel(request.reason) }
                worker.send(.batchCancelRecorded(id: run.id))
            } catch {
                worker.logger.error("cannot record the cancel (\(error)); the batch goes on, the cancel is tried again at the next rescan", metadata: ["batch": "\(run.id)"])
                worker.send(.batchCancelFailed(id: run.id))
            }
        }
    }

    func batchCancelFailed(_ id: String, _ group: inout DiscardingTaskGroup) {
        state.batches[id]?.cancel = nil
        if state.batches[id] != nil { settle(id, &group) }
    }

    /// The cancel is on disk: the batch's lines still out stop (running ones are cancelled as
    /// tasks, and come back as put back, or settled if their reply was just in).
    func batchCancelRecorded(_ id: String, _ group: inout DiscardingTaskGroup) {
        guard let batch = state.batches[id], let request = batch.cancel else { return }
        state.batches[id]!.cancelRecorded = true
        batch.signal.fire(request)
        var ending: [WorkID] = []
        for (token, held) in state.lines where held.batch == id && !held.settled {
            switch state.scheduler.jobs[token]?.state {
            case .waiting, .retrying: ending.append(token)
            case .running, .committing, nil: break
            }
        }
        for token in ending { lineEnded(token, .putBack, &group, settling: false) }
        settle(id, &group)
    }

    /// A batch opened with a cancel already recorded (resumed after a crash mid-cancel, or
    /// cancelled while it waited in `incoming/`): nothing runs, it commits as cancelled.
    func openedCancelled(_ id: String, _ cancel: BatchProgress.Cancel) {
        state.batches[id]!.cancel = CancelRequest(id: id, reason: cancel.reason, askedAt: cancel.at.timeIntervalSince1970)
        state.batches[id]!.cancelRecorded = true
        state.batches[id]!.exhausted = true
        logger.notice("the batch's cancel (\(cancel.reason.rawValue)) goes on: no line runs", metadata: ["batch": "\(id)"])
    }

    /// Commits a cancelled batch once no line is out and nothing waits to be written.
    func settleCancelled(_ id: String, _ group: inout DiscardingTaskGroup) {
        guard let batch = state.batches[id], let request = batch.cancel, batch.cancelRecorded, !batch.committing else { return }
        guard batch.inFlight == 0, !batch.writing, batch.pending.isEmpty, !batch.reading else { return }
        state.batches[id]!.committing = true
        let (run, key, io, worker) = (batch.run, batch.key, self.io, self.worker)
        group.addTask {
            do {
                let progress = try await io.run { try run.commitCancelled(id: request.id) }
                worker.logger.notice(
                    "batch \(progress.status.rawValue): \(progress.completed) completed, \(progress.failed) failed or not run",
                    metadata: ["batch": "\(id)"])
                worker.record { $0.failed += 1 }
                await io.removeCancel(request)
            } catch {
                worker.logger.error("cannot commit the cancelled batch (\(error)); it stays in active/ and its cancel resumes at the next start", metadata: ["batch": "\(id)"])
            }
            worker.send(.batchClosed(key: key, id: id))
        }
    }
}

extension SpoolIO {
    /// At a batch's opening: a cancel request that names it (dropped while it waited) is
    /// recorded in its progress before anything runs.
    func recordCancelAtOpen(_ run: BatchRun, queuedAt: Date) async {
        let spool = self.spool
        _ = try? await self.run {
            guard run.cancel == nil, let cancel = spool.cancelRequest(for: run.id),
                cancel.applies(queuedAt: queuedAt.timeIntervalSince1970, now: Date().timeIntervalSince1970)
            else { return }
            try run.beginCancel(cancel.reason)
        }
    }
}
