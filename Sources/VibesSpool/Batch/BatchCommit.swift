//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

extension BatchRun {
    /// Moves the finished batch into `done/`, the way a job is committed: the final progress
    /// (status `completed`) is written to `done/.ID.batch.json.tmp` and fsynced first (the
    /// commit record); then the input, output and errors files are renamed in, never replacing
    /// anything, then the record as `done/ID.batch.json`; then the folders are fsynced and the
    /// lock released. A reader that sees `done/ID.batch.json` sees a complete batch. Blocking I/O.
    /// `status`: `completed`, or for a cancelled batch `cancelled` or `expired`.
    /// - Returns: The final progress.
    @discardableResult
    package func commit(now: Date = Date(), status: BatchProgress.Status = .completed) throws -> BatchProgress {
        try state.withLock { state in
            guard !state.closed else { throw SpoolError("commit (the batch is closed)", files.input, errno: EBADF) }
            try syncFiles(&state)
            state.progress.status = status
            state.progress.completedAt = now
            let target = BatchFiles(folder: spool.done, id: id)
            // The id was free in done/ when the batch was claimed; a taken name now is meddling.
            if let taken = target.all.first(where: FileSystem.exists) {
                throw SpoolError("commit (target exists, not replaced)", taken, errno: EEXIST)
            }
            let text = state.progress.json
            try FileSystem.createDurably(target.commitRecord, replacingStale: true) { fd in
                try FileSystem.writeAll(fd, text, path: target.commitRecord)
            }
            // The input first: once it is in done/, recovery completes the commit.
            try spool.moveBatchFile(files.input, target.input)
            try spool.moveBatchFile(files.output, target.output)
            try spool.moveBatchFile(files.errors, target.errors)
            // The running count goes before the record lands, so none is ever left behind.
            try FileSystem.remove(files.progress)
            try spool.moveBatchFile(target.commitRecord, target.progress)
            try FileSystem.fsyncDirectory(spool.done)
            try FileSystem.fsyncDirectory(spool.active)
            closeFiles(&state)
            return state.progress
        }
    }
}

extension SpoolDirectory {
    /// A rename that must not replace anything.
    func moveBatchFile(_ from: String, _ to: String) throws {
        switch try move(from, to) {
        case .renamed: return
        case .targetExists: throw SpoolError("rename (target exists, not replaced) \(from) to", to, errno: EEXIST)
        case .sourceMissing: throw SpoolError("rename (source vanished) to \(to)", from, errno: ENOENT)
        }
    }

    /// Completes or undoes batch commits a crash cut short, found by their commit records
    /// (`done/.ID.batch.json.tmp`): when the input already reached `done/`, the rest follows it;
    /// when it is still in `active/`, the record is dropped and the batch resumes.
    package func recoverBatchCommits() throws {
        let suffix = ".batch.json.tmp"
        for name in try FileSystem.list(done) where name.hasPrefix(".") && name.hasSuffix(suffix) {
            let id = String(name.dropFirst().dropLast(suffix.count))
            let from = BatchFiles(folder: active, id: id)
            let to = BatchFiles(folder: done, id: id)
            if let fd = try? FileSystem.open(to.input, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) {
                defer { close(fd) }
                // Locked: a live worker is committing it right now.
                guard (try? FileSystem.tryLock(fd, path: to.input)) == true else { continue }
                for (source, target) in [(from.output, to.output), (from.errors, to.errors)] where FileSystem.exists(source) {
                    try moveBatchFile(source, target)
                }
                try FileSystem.remove(from.progress)
                if try move(to.commitRecord, to.progress) == .targetExists { try FileSystem.remove(to.commitRecord) }
                try FileSystem.fsyncDirectory(done)
                try FileSystem.fsyncDirectory(active)
            } else if let fd = try? FileSystem.open(from.input, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) {
                defer { close(fd) }
                guard (try? FileSystem.tryLock(fd, path: from.input)) == true else { continue }
                try FileSystem.remove(to.commitRecord)
                try FileSystem.fsyncDirectory(done)
            } else {
                try FileSystem.remove(to.commitRecord)
            }
        }
    }
}
