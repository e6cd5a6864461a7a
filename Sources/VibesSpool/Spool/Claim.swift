//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// A request this worker holds: renamed into `active/` and locked with `flock` for its whole life.
public struct ClaimedJob: Sendable {
    /// Open on the request; holds the exclusive lock. Closing it releases the claim.
    let fd: Int32
    /// The job's name in `active/` (without `.json`): its id.
    var id: String
    /// The file name it had in `incoming/` (``FileName/escaped``).
    let originalName: String
    /// When it was dropped (the file's modification time).
    let queuedAt: Date
    let size: Int64
    /// Attempts started before this claim (kept across crashes and restarts).
    let previousAttempts: Int
}

extension SpoolDirectory {
    /// Claims `incoming/name`: opens it without following links, locks it, and renames it into
    /// `active/` without replacing anything, as `ID.json` (see ``JobID`` for the id). What is
    /// not a regular file is moved into `failed/` as it is (``ClaimOutcome/rejected(id:reason:)``).
    ///
    /// The lock is taken *before* the rename, so a request in `active/` is locked from the moment
    /// it appears there, and an unlocked one in `active/` has no live worker.
    ///
    /// - Parameter name: the name in `incoming/`, as ``FileName/escaped`` (so any bytes).
    func claim(_ name: String, workerID: String) throws -> ClaimOutcome<ClaimedJob> {
        let file = FileName(escaped: name)
        let path = RawPath(incoming, file)
        // At most JobID.maxBytes, so `~N` and every derived name still fit NAME_MAX.
        let stem = JobID.forRequest(named: file)
        let fd: Int32
        let opened: stat
        let locked = try lockForClaim(path) { kind in
            try moveNonRegular(path, shownAs: "\(file)", kind: kind, suffix: ".json", freeID: { freeID(stem) }, workerID: workerID)
        }
        switch locked {
        case .claimed(let held): (fd, opened) = (held.fd, held.info)
        case .lost: return .lost
        case .rejected(let id, let reason): return .rejected(id: id, reason: reason)
        }
        var keep = false
        defer { if !keep { close(fd) } }

        var candidate = stem
        var suffix = 1
        while true {
            switch try move(path, RawPath("\(active)/\(candidate).json")) {
            case .renamed:
                break
            case .sourceMissing:
                return .lost
            case .targetExists:
                suffix += 1
                candidate = "\(stem)~\(suffix)"
                continue
            }
            break
        }
        // The name may have been re-used for a new file after another worker finished ours:
        // make sure the file we renamed is the one we locked.
        guard let moved = try FileSystem.lstatPath("\(active)/\(candidate).json"),
            moved.st_ino == opened.st_ino, moved.st_dev == opened.st_dev
        else {
            _ = try? move(RawPath("\(active)/\(candidate).json"), path)
            return .lost
        }
        // Only put-backs write attempt counts, and they name requests by their (UTF-8) ids.
        let attemptsPath = file.isValidUTF8 ? attemptsFile(incomingName: file.description) : nil
        let previous = attemptsPath.map(Self.readCount) ?? 0
        if previous > 0, let attemptsPath { try? FileSystem.remove(attemptsPath) }
        keep = true
        return .claimed(
            ClaimedJob(
                fd: fd, id: candidate, originalName: name,
                queuedAt: Date(timeIntervalSince1970: FileSystem.seconds(opened.st_mtim)),
                size: Int64(opened.st_size), previousAttempts: previous))
    }

    /// Renames an active job to its final id (the request's `id`, made unique with `~N`).
    /// `wanted` is a valid `id` (at most 128 bytes) or the job's own id (at most
    /// ``JobID/maxBytes``), so the suffixed names fit too.
    func rename(_ job: inout ClaimedJob, to wanted: String) throws {
        var target = wanted
        var suffix = 1
        while true {
            if target == job.id {
                if isFreeOutsideActive(target) { return }
            } else if isFree(target) {
                switch try move("\(active)/\(job.id).json", "\(active)/\(target).json") {
                case .renamed:
                    job.id = target
                    return
                case .targetExists: break
                case .sourceMissing: throw SpoolError("rename (the claimed request vanished)", "\(active)/\(job.id).json", errno: ENOENT)
                }
            }
            suffix += 1
            target = "\(wanted)~\(suffix)"
        }
    }

    /// Puts an active job back into `incoming/`, keeping its attempt count, and releases it.
    ///
    /// The job is released (its descriptor closed) on every path, also when this throws: then
    /// the request is either back in `incoming/` or unlocked in `active/`, where the next rescan
    /// recovers it. Never a claim held by a live worker for ever.
    /// Returns its name in `incoming/` (`nil`: it was gone).
    @discardableResult
    func putBack(_ job: ClaimedJob, attempts: Int) throws -> String? {
        defer { close(job.fd) }
        // Best effort, like the attempt count below: a full disk or a failing file system must
        // not keep the request from going back. A stale partial is emptied by the next attempt.
        try? FileSystem.remove("\(active)/\(job.id).partial")
        var name = "\(job.id).json"
        var suffix = 1
        while true {
            let side = attemptsFile(incomingName: name)
            // Lost only when it cannot be written (disk full): the job then starts counting afresh.
            if attempts > 0 { try? FileSystem.writeFile(side, "\(attempts)\n") }
            switch try move("\(active)/\(job.id).json", "\(incoming)/\(name)") {
            case .renamed:
                try? FileSystem.remove(attemptsFile(activeID: job.id))
                try FileSystem.fsyncDirectory(incoming)
                try FileSystem.fsyncDirectory(active)
                return name
            case .targetExists:
                try? FileSystem.remove(side)
                suffix += 1
                name = "\(job.id)~\(suffix).json"
            case .sourceMissing:
                try? FileSystem.remove(side)
                return nil
            }
        }
    }

    /// Finds requests in `active/` whose lock can be taken (no live worker) and puts them back
    /// into `incoming/`. Returns the names put back.
    func recoverOrphans() throws -> [String] {
        var recovered: [String] = []
        var finishedLeftovers = false
        defer { if finishedLeftovers { try? recoverCommits() } }
        // Names in active/ are ids (UTF-8, see JobID); anything else was not put there by a worker.
        for file in try FileSystem.listNames(active) where file.isValidUTF8 && Self.isRequestName(file) {
            let name = file.description
            // A batch's progress file is the batch's, not a job (see orphanBatches()).
            if isBatchProgressFile(activeName: name) { continue }
            let path = "\(active)/\(name)"
            guard let fd = try? FileSystem.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY) else { continue }
            guard (try? FileSystem.tryLock(fd, path: path)) == true, FileSystem.exists(path) else {
                close(fd)
                continue
            }
            let id = Self.stem(of: name)
            let finishedElsewhere: Bool
            do {
                finishedElsewhere = try FileSystem.sameFile(path, "\(done)/\(name)") || FileSystem.sameFile(path, "\(failed)/\(name)")
            } catch {
                close(fd)
                throw error
            }
            if finishedElsewhere {
                // A finish cut short between `link` and `unlink` (file systems without
                // RENAME_NOREPLACE): the request is finished; only its old name is left here.
                try? FileSystem.remove("\(active)/\(id).partial")
                try? FileSystem.remove(attemptsFile(activeID: id))
                let removed = Result { try FileSystem.remove(path) }
                close(fd)
                try removed.get()
                finishedLeftovers = true
                continue
            }
            let started = Self.readCount(attemptsFile(activeID: id))
            guard let info = try? FileSystem.fstatFD(fd, path: path) else {
                close(fd)
                continue
            }
            let job = ClaimedJob(
                fd: fd, id: id, originalName: name, queuedAt: Date(timeIntervalSince1970: FileSystem.seconds(info.st_mtim)),
                size: Int64(info.st_size), previousAttempts: 0)
            // A request in active/ had at least one attempt started.
            try putBack(job, attempts: max(started, 1))
            recovered.append(id)
        }
        return recovered
    }

    /// Completes or undoes finishes that a crash interrupted. The envelope's temporary file is the
    /// commit record: it is complete and on disk before the first rename of a finish.
    func recoverCommits() throws {
        for (folder, suffix) in [(done, ".result.json.tmp"), (failed, ".error.json.tmp")] {
            for file in try FileSystem.listNames(folder) where file.isValidUTF8 {
                let name = file.description
                guard name.hasPrefix(".") && name.hasSuffix(suffix) else { continue }
                let id = String(name.dropFirst().dropLast(suffix.count))
                let tmpPath = "\(folder)/\(name)"
                let finalPath = "\(folder)/\(id)\(suffix.dropLast(4))"
                if let fd = try? FileSystem.open("\(folder)/\(id).json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK) {
                    defer { close(fd) }
                    // Locked: a live worker is finishing it right now.
                    guard (try? FileSystem.tryLock(fd, path: "\(folder)/\(id).json")) == true else { continue }
                    if try move(tmpPath, finalPath) == .targetExists { try FileSystem.remove(tmpPath) }
                } else if let fd = try? FileSystem.open("\(active)/\(id).json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK) {
                    defer { close(fd) }
                    guard (try? FileSystem.tryLock(fd, path: "\(active)/\(id).json")) == true else { continue }
                    // The request never left active/: the job will run again; drop the half finish.
                    try FileSystem.remove(tmpPath)
                    try FileSystem.remove("\(folder)/\(id).txt")
                    try FileSystem.remove("\(folder)/\(id).partial")
                } else {
                    try FileSystem.remove(tmpPath)
                }
                try FileSystem.fsyncDirectory(folder)
            }
        }
    }
}
