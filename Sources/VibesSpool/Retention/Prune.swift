//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc

/// What a prune did with one entry.
package struct PruneResult: Sendable {
    package var entry: FinishedEntry
    /// Files removed (or, in a dry run, that would be).
    package var removed: [ListedFile]
    /// Files left, and why (a directory with entries, a record replaced since it was listed).
    package var kept: [(name: String, reason: String)]
}

/// Removes finished jobs and batches from `done/` and `failed/` (never `incoming/`, `active/`
/// or `cancel/`). Each entry goes record first, so a reader that sees a record sees the whole
/// job; a record is removed only if it is still the one judged old (the same modification time), so
/// a worker committing at the same moment is never touched: its files are new, and a commit
/// puts its record in place last.
extension SpoolDirectory {
    /// Lists `done/` and `failed/` (without following links).
    package func finishedEntries() throws -> [FinishedEntry] {
        try [("done", done), ("failed", failed)].flatMap { folder, path in
            PrunePlan.entries(folder: folder, try FileSystem.listNames(path).compactMap { name in
                guard name.isValidUTF8, let info = try? FileSystem.lstatPath(RawPath(path, name)) else { return nil }
                return ListedFile(name: name.description, size: Int64(info.st_size), mtime: FileSystem.seconds(info.st_mtim))
            })
        }
    }

    /// Removes the entries older than `age` seconds (or only says which, with `dryRun`).
    package func prune(olderThan age: Double, now: Double, dryRun: Bool) throws -> [PruneResult] {
        try PrunePlan.select(finishedEntries(), olderThan: age, now: now).compactMap { entry -> PruneResult? in
            if dryRun { return PruneResult(entry: entry, removed: entry.files, kept: []) }
            return remove(entry)
        }
    }

    /// `nil`: the record changed or vanished since it was listed (left alone).
    private func remove(_ entry: FinishedEntry) -> PruneResult? {
        let folder = entry.folder == "done" ? done : failed
        let record = entry.files[0]
        guard let info = try? FileSystem.lstatPath("\(folder)/\(record.name)"), FileSystem.seconds(info.st_mtim) == record.mtime else {
            return nil
        }
        var result = PruneResult(entry: entry, removed: [], kept: [])
        for file in entry.files {
            let path = "\(folder)/\(file.name)"
            if unlink(path) == 0 || errno == ENOENT {
                result.removed.append(file)
            } else if errno == EISDIR, rmdir(path) == 0 {
                // A directory dropped as a request and failed as it was: removed when empty.
                result.removed.append(file)
            } else {
                result.kept.append((file.name, String(cString: strerror(errno))))
            }
        }
        try? FileSystem.fsyncDirectory(folder)
        return result
    }
}
