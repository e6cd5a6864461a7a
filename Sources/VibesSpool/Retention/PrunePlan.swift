//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// A file in `done/` or `failed/` as listed: its name, size, whether it is a regular file,
/// and its modification time (seconds since 1970).
package struct ListedFile: Sendable, Equatable {
    package var name: String
    package var size: Int64
    package var mtime: Double

    package init(name: String, size: Int64, mtime: Double) {
        self.name = name
        self.size = size
        self.mtime = mtime
    }
}

/// One finished job or batch: its record (the envelope, or `ID.batch.json`) first, then its
/// other files, in the order they are removed.
package struct FinishedEntry: Sendable, Equatable {
    /// `done` or `failed`.
    package var folder: String
    package var id: String
    /// The record first.
    package var files: [ListedFile]
    package var recordMTime: Double { files[0].mtime }
    package var bytes: Int64 { files.reduce(0) { $0 + $1.size } }
}

/// What `vibes-spool prune` removes: plain decisions over a listing, tested without files.
package enum PrunePlan {
    /// A record's suffix in a folder, and the suffixes of the files that go with it.
    static let records: [String: [(record: String, others: [String])]] = [
        "done": [(".result.json", [".json", ".txt"]), (".batch.json", [".jsonl", ".output.jsonl", ".errors.jsonl"])],
        "failed": [(".error.json", [".json", ".jsonl", ".partial"])],
    ]

    /// The finished jobs and batches of one folder's listing: each record (a name not starting
    /// with `.`, the commit's temporary files do) with those of its files that are listed.
    /// Files without a record (a commit under way) belong to no entry and are never removed.
    package static func entries(folder: String, _ listing: [ListedFile]) -> [FinishedEntry] {
        let byName = Dictionary(listing.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var entries: [FinishedEntry] = []
        for file in listing where !file.name.hasPrefix(".") {
            for kind in records[folder] ?? [] where file.name.hasSuffix(kind.record) && file.name.count > kind.record.count {
                let id = String(file.name.dropLast(kind.record.count))
                let others = kind.others.compactMap { byName[id + $0] }
                entries.append(FinishedEntry(folder: folder, id: id, files: [file] + others))
            }
        }
        return entries.sorted { ($0.recordMTime, $0.id) < ($1.recordMTime, $1.id) }
    }

    /// The entries whose record is older than `age` seconds at `now`.
    package static func select(_ entries: [FinishedEntry], olderThan age: Double, now: Double) -> [FinishedEntry] {
        entries.filter { now - $0.recordMTime > age }
    }

    /// A duration as `prune --older-than` takes it: `30d`, `12h`, `90m`, `1h30m`, `2w`, or a number
    /// of seconds (the request's `timeout` syntax). `nil` if not one, or negative.
    package static func seconds(_ text: String) -> Double? {
        guard let seconds = JobRequest.parseDuration(text), seconds >= 0, seconds.isFinite else { return nil }
        return seconds
    }
}
