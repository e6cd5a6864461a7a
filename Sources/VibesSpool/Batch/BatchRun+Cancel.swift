//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Cancelling a batch: the cancel is recorded in its progress first (so a crash resumes the
/// cancel, never the batch), then, once no line runs, every line not settled goes to the errors
/// file as `batch_cancelled` (or `batch_expired`) and the batch commits like a completed one.
extension BatchRun {
    /// The cancel recorded for this batch (by this run, or found on resume), if any.
    package var cancel: BatchProgress.Cancel? { state.withLock { $0.progress.cancel } }

    /// Records the cancel durably: status `cancelling`, the lines so far and the progress file
    /// fsynced. Does nothing when a cancel is already recorded. Blocking file I/O.
    package func beginCancel(_ reason: CancelReason, now: Date = Date()) throws {
        try state.withLock { state in
            guard !state.closed else { throw SpoolError("cancel (the batch is closed)", files.input, errno: EBADF) }
            guard state.progress.cancel == nil else { return }
            state.progress.cancel = BatchProgress.Cancel(reason: reason, at: now)
            state.progress.status = .cancelling
            try syncFiles(&state)
            try replaceProgress(&state)
            try FileSystem.fsyncFD(state.progressFD, path: files.progress)
            try FileSystem.fsyncDirectory(spool.active)
        }
    }

    /// Writes every line of the input not settled yet (in this run or before a crash) to the
    /// errors file, with the recorded cancel's code, then commits the batch with status
    /// `cancelled` or `expired`. Call it when no line of the batch runs any more. Blocking I/O.
    @discardableResult
    package func commitCancelled(id cancelID: String, now: Date = Date()) throws -> BatchProgress {
        guard let cancel else { throw SpoolError("commit (no cancel recorded)", files.input, errno: EINVAL) }
        let failure = CancelRequest(id: cancelID, reason: cancel.reason, askedAt: cancel.at.timeIntervalSince1970).lineFailure(at: now)
        // A reader of its own over the input (pread at its own offset): the run's reader may
        // be anywhere.
        var reader = LineReader(fd: claim.fd, path: files.input, maxLineBytes: 1 << 30)
        var group: [BatchRecord] = []
        while let next = try reader.next() {
            guard case .line(let number, let bytes, _) = next else {
                throw SpoolError("read (line \(next) changed since validation)", files.input, errno: EIO)
            }
            guard !isSettled(number) else { continue }
            let line: BatchLine
            do {
                line = try BatchLine.parse(bytes, number: number)
            } catch {
                throw SpoolError("read (line \(number) changed since validation: \(error))", files.input, errno: EIO)
            }
            group.append(BatchRecord(line, .failed(failure), host: nil))
            if group.count >= 1024 {
                _ = try record(group)
                group = []
            }
        }
        if !group.isEmpty { _ = try record(group) }
        return try commit(now: now, status: cancel.reason == .expired ? .expired : .cancelled)
    }

    /// Whether line `number` was recorded in this run (its custom_id's settlement before a
    /// crash is checked by ``record(_:)`` itself).
    private func isSettled(_ number: Int) -> Bool {
        state.withLock { state in
            let word = number / 64
            return word < state.recorded.count && state.recorded[word] & (UInt64(1) << UInt64(number % 64)) != 0
        }
    }
}
