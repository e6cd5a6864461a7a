//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// A batch this worker holds: `active/ID.jsonl`, open and locked with `flock` (as a claimed job
/// is) until it is committed or closed.
public struct BatchClaim: Sendable {
    /// Open on the input; holds the exclusive lock. Closing it releases the batch.
    let fd: Int32
    /// The batch's id: its files are `active/ID.jsonl`, `ID.output.jsonl`, `ID.errors.jsonl`, `ID.batch.json`.
    public let id: String
    /// Its name in `incoming/` (for a resumed batch: its name in `active/`).
    public let originalName: String
    /// When it was dropped (the input's modification time).
    public let queuedAt: Date
    /// Found in `active/` with no live worker: it resumes where it stopped.
    public let resumed: Bool
    /// Open on `active/ID.batch.json` and holding its lock (-1 if none): job recovery leaves a
    /// locked `*.json` alone.
    var progressFD: Int32 = -1
}

/// The paths of one batch's files in one folder.
package struct BatchFiles {
    package let folder: String
    package let id: String
    package var input: String { "\(folder)/\(id).jsonl" }
    package var output: String { "\(folder)/\(id).output.jsonl" }
    package var errors: String { "\(folder)/\(id).errors.jsonl" }
    package var progress: String { "\(folder)/\(id).batch.json" }

    package init(folder: String, id: String) {
        self.folder = folder
        self.id = id
    }
    /// The commit record while a commit is under way (in `done/`).
    var commitRecord: String { "\(folder)/.\(id).batch.json.tmp" }
    var all: [String] { [input, output, errors, progress] }
}

extension SpoolDirectory {
    /// Whether a name in `incoming/` is a batch file to claim: `NAME.jsonl`, not a dot file.
    public static func isBatchName(_ name: String) -> Bool {
        name.hasSuffix(".jsonl") && !name.hasPrefix(".") && name.utf8.count > 6
    }

    /// The batch files in `incoming/`, oldest first (by modification time).
    public func queuedBatches() throws -> [String] {
        var entries: [(name: String, mtime: Double)] = []
        for name in try FileSystem.list(incoming) where Self.isBatchName(name) {
            guard let info = try? FileSystem.lstatPath(incoming + "/" + name) else { continue }
            entries.append((name, FileSystem.seconds(info.st_mtim)))
        }
        return entries.sorted { $0.mtime != $1.mtime ? $0.mtime < $1.mtime : $0.name < $1.name }.map(\.name)
    }

    /// Whether `active/NAME` is a running batch's progress file (`ID.batch.json` beside
    /// `ID.jsonl`), not a job's request: orphan recovery of jobs must leave it alone.
    public func isBatchProgressFile(activeName name: String) -> Bool {
        guard name.hasSuffix(".batch.json") else { return false }
        let id = String(name.dropLast(".batch.json".count))
        return FileSystem.exists(BatchFiles(folder: active, id: id).input)
            || FileSystem.exists(BatchFiles(folder: done, id: id).commitRecord)
    }

    /// Whether `id` is free for a batch: none of its files in `active/`, `done/` or `failed/`
    /// (there `ID.jsonl` and `ID.error.json`), and it does not end in `.output` or `.errors` (so that an input is
    /// never mistaken for another batch's output).
    func isFreeBatchID(_ id: String) -> Bool {
        guard !id.hasSuffix(".output"), !id.hasSuffix(".errors") else { return false }
        let paths = BatchFiles(folder: active, id: id).all + BatchFiles(folder: done, id: id).all
            + ["\(failed)/\(id).jsonl", "\(failed)/\(id).error.json"]
        return !paths.contains(where: FileSystem.exists)
    }

    /// `id`, or `id~2`, `id~3`, … whichever is free first for a batch.
    func freeBatchID(_ id: String) -> String {
        if isFreeBatchID(id) { return id }
        var n = 2
        while !isFreeBatchID("\(id)~\(n)") { n += 1 }
        return "\(id)~\(n)"
    }

    /// Claims `incoming/NAME.jsonl` as a job is claimed (open without following links, lock,
    /// rename into `active/` never replacing), under a free batch id, and reserves the id's
    /// progress name `active/ID.batch.json` at once (a job named `ID.batch` then gets another id).
    /// What is not a regular file is moved into `failed/` as it is.
    public func claimBatch(_ name: String, workerID: String) throws -> ClaimOutcome<BatchClaim> {
        let path = "\(incoming)/\(name)"
        let stem = String(name.dropLast(".jsonl".count))
        let fd: Int32
        let opened: stat
        let locked = try lockForClaim(RawPath(path)) { kind in
            try moveNonRegular(RawPath(path), shownAs: name, kind: kind, suffix: ".jsonl", freeID: { freeBatchID(stem) }, workerID: workerID)
        }
        switch locked {
        case .claimed(let held): (fd, opened) = (held.fd, held.info)
        case .lost: return .lost
        case .rejected(let id, let reason): return .rejected(id: id, reason: reason)
        }
        var keep = false
        defer { if !keep { close(fd) } }

        var from = path
        while true {
            let id = freeBatchID(stem)
            let files = BatchFiles(folder: active, id: id)
            switch try move(from, files.input) {
            case .sourceMissing: return .lost
            case .targetExists: continue
            case .renamed: break
            }
            guard let moved = try FileSystem.lstatPath(files.input), moved.st_ino == opened.st_ino, moved.st_dev == opened.st_dev else {
                _ = try? move(files.input, path)
                return .lost
            }
            // Reserve the progress name; if a job took it meanwhile, move on to the next id.
            let progress: Int32
            do {
                guard let opened = try FileSystem.open(files.progress, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o664) else {
                    throw SpoolError("create", files.progress, errno: ENOENT)
                }
                progress = opened
            } catch let error as SpoolError where error.errno == EEXIST {
                from = files.input
                continue
            }
            _ = try? FileSystem.tryLock(progress, path: files.progress)
            try FileSystem.fsyncDirectory(active)
            try FileSystem.fsyncDirectory(incoming)
            keep = true
            return .claimed(BatchClaim(
                fd: fd, id: id, originalName: name,
                queuedAt: Date(timeIntervalSince1970: FileSystem.seconds(opened.st_mtim)), resumed: false, progressFD: progress))
        }
    }

    /// Batches in `active/` that no live worker holds (a crash or a restart), locked and ready
    /// to resume where they stopped. Completes or drops batch commits a crash cut short first.
    public func orphanBatches() throws -> [BatchClaim] {
        try recoverBatchCommits()
        var claims: [BatchClaim] = []
        for name in try FileSystem.list(active) where Self.isBatchName(name) {
            let id = String(name.dropLast(".jsonl".count))
            guard !id.hasSuffix(".output"), !id.hasSuffix(".errors") else { continue }
            let path = "\(active)/\(name)"
            guard let fd = try? FileSystem.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY) else { continue }
            guard (try? FileSystem.tryLock(fd, path: path)) == true, FileSystem.exists(path),
                let info = try? FileSystem.fstatFD(fd, path: path)
            else {
                close(fd)
                continue
            }
            var progressFD: Int32 = -1
            let progressPath = BatchFiles(folder: active, id: id).progress
            if let opened = try? FileSystem.open(progressPath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) {
                if (try? FileSystem.tryLock(opened, path: progressPath)) == true { progressFD = opened } else { close(opened) }
            }
            claims.append(BatchClaim(
                fd: fd, id: id, originalName: name, queuedAt: Date(timeIntervalSince1970: FileSystem.seconds(info.st_mtim)),
                resumed: true, progressFD: progressFD))
        }
        return claims
    }

    /// Fails a batch as a whole: `failed/ID.jsonl` (the input, byte for byte) and
    /// `failed/ID.error.json` (kind `invalid_request` for an invalid file), the envelope last.
    /// Output and errors files of a resumed batch move along when they hold lines; the progress
    /// file is removed. Releases the batch.
    func failBatch(_ claim: BatchClaim, failure: JobFailure, workerID: String) throws {
        defer { close(claim.fd) }
        let from = BatchFiles(folder: active, id: claim.id)
        let to = BatchFiles(folder: failed, id: claim.id)
        try writeErrorEnvelope(id: claim.id, model: nil, failure: failure, attempts: 1, partialBytes: 0, workerID: workerID, metadata: nil, commit: false)
        for (source, target) in [(from.output, to.output), (from.errors, to.errors)] {
            if let info = try FileSystem.lstatPath(source), info.st_size > 0 {
                _ = try move(source, target)
            } else {
                try FileSystem.remove(source)
            }
        }
        guard try move(from.input, to.input) == .renamed else { throw SpoolError("rename", from.input, errno: EEXIST) }
        guard try move("\(failed)/.\(claim.id).error.json.tmp", "\(failed)/\(claim.id).error.json") == .renamed else {
            throw SpoolError("rename", "\(failed)/\(claim.id).error.json", errno: EEXIST)
        }
        try FileSystem.remove(from.progress)
        try FileSystem.fsyncDirectory(failed)
        try FileSystem.fsyncDirectory(active)
    }
}

extension BatchClaim {
    /// Lets the batch go without opening it (its lock is released; it stays where it is).
    public func release() {
        close(fd)
        if progressFD >= 0 { close(progressFD) }
    }
}
