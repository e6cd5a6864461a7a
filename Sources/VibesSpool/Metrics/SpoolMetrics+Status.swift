//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension SpoolMetrics {
    /// Sets the gauges from what `status` shows: the queue, the pause, the hosts, and the batches
    /// (`queued` = total − completed − failed; a batch no longer listed loses its series).
    /// Job counts, durations and tokens are events: ``jobFinished(outcome:kind:model:duration:queueWait:)``
    /// and ``tokens(prompt:completion:model:)`` count those.
    package func observe(_ status: SpoolStatus, oldestQueuedSeconds: Double) {
        queue(incoming: status.counts.incoming, active: status.counts.active, retrying: status.retrying.count,
              oldestQueuedSeconds: oldestQueuedSeconds)
        paused(status.paused != nil)
        for host in status.hosts {
            hostUp(host.url, host.state == "up")
        }
        let listed = Set(status.batches.map(\.id))
        for batch in batchesWithSeries() where !listed.contains(batch) {
            removeBatch(batch)
        }
        for batch in status.batches {
            batchLines(batch: batch.id, state: "completed", count: batch.completed)
            batchLines(batch: batch.id, state: "failed", count: batch.failed)
            batchLines(batch: batch.id, state: "queued", count: max(0, batch.total - batch.completed - batch.failed))
        }
    }

    /// Reads the spool (``SpoolStatus/read(_:)``, and the age of the oldest request in
    /// `incoming/`) and sets the gauges from it. A spool that cannot be read changes nothing.
    package func observe(spool: SpoolDirectory) {
        guard let status = try? SpoolStatus.read(spool) else { return }
        observe(status, oldestQueuedSeconds: (try? spool.oldestQueuedSeconds()) ?? 0)
    }
}

extension SpoolDirectory {
    /// Seconds since the oldest request in `incoming/` was put there (its ctime: the rename into
    /// `incoming/`), or 0 when none waits.
    package func oldestQueuedSeconds(now: Double = Date().timeIntervalSince1970) throws -> Double {
        var oldest: Double?
        for name in try FileSystem.list(incoming) where Self.isRequestName(name) {
            guard let info = try? FileSystem.lstatPath(incoming + "/" + name) else { continue }
            let changed = FileSystem.seconds(info.st_ctim)
            oldest = min(oldest ?? changed, changed)
        }
        return oldest.map { max(0, now - $0) } ?? 0
    }
}
