//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc
import VibesSpool

/// Batch records: create (with the spool's producer), read, update, list; and the recovery
/// after a crash.
extension APIStore {
    package func batchRecord(id: String) -> APIBatchRecord? {
        Self.decode(APIBatchRecord.self, at: recordPath(batch: id))
    }

    /// The ids of batches, newest first.
    package func batchIDs() throws -> [String] {
        try ids(in: batches, prefix: "batch_")
    }

    /// Replaces a batch's record (a cancel asked for).
    package func save(_ record: APIBatchRecord) throws {
        try commit(Self.encode(record), to: recordPath(batch: record.id))
    }

    /// Creates a batch: its record is staged in `api/tmp/` (durably) first, the input file is
    /// then submitted into `incoming/` by the spool's producer (tmp/, fsync, rename), and only
    /// then is the record renamed into `batches/`. A crash before the submit leaves a staged
    /// record that ``recover()`` drops; a crash after it, one that ``recover()`` completes: no
    /// batch runs without its record, and no record names a batch the spool never got.
    package func createBatch(_ record: APIBatchRecord, input: String) throws -> APIBatchRecord {
        let staged = stagedRecordPath(batch: record.id)
        try FileSystem.createDurably(staged, mode: 0o660) { try FileSystem.writeAll($0, try Self.encode(record), path: staged) }
        try FileSystem.fsyncDirectory(tmp)
        var record = record
        do {
            record.spoolID = try spool.submitBatch(from: input, preferredID: record.id)
        } catch {
            try? FileSystem.remove(staged)
            throw error
        }
        try save(record)
        try FileSystem.remove(staged)
        return record
    }

    func stagedRecordPath(batch id: String) -> String { "\(tmp)/\(id).json" }

    /// Cleans up after a crash: uploads cut short and staged records are removed, a staged
    /// batch record whose input reached the spool is committed, and a content file without its
    /// record (the crash came between the two renames) is removed. Run once at start.
    package func recover() throws {
        for name in try FileSystem.list(tmp) {
            let path = "\(tmp)/\(name)"
            if name.hasPrefix("batch_"), name.hasSuffix(".json") {
                let id = String(name.dropLast(5))
                if spool.batchState(id: id) != .missing, !FileSystem.exists(recordPath(batch: id)),
                    let bytes = try FileSystem.readFile(path)
                {
                    try commit(bytes, to: recordPath(batch: id))
                }
                // A submit cut short leaves its copy in the spool's tmp/ (`ID.jsonl.PID`).
                for leftover in try FileSystem.list(spool.tmp) where leftover.hasPrefix("\(id).jsonl.") {
                    try FileSystem.remove("\(spool.tmp)/\(leftover)")
                }
            }
            try FileSystem.remove(path)
        }
        let names = Set(try FileSystem.list(files))
        for name in names where name.hasSuffix(".jsonl") && !names.contains(String(name.dropLast(1))) {
            try FileSystem.remove("\(files)/\(name)")
        }
    }
}
