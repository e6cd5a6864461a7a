//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import VibesModels
import VibesSpool

/// Where a batch is in the spool, and what its progress file says (the producer's reading of
/// it, ``BatchCounts``).
package enum SpoolBatchState: Sendable, Equatable {
    /// `incoming/ID.jsonl`: waiting for a worker.
    case queued
    /// In `active/`; its progress file, once the worker has written one.
    case running(BatchCounts?)
    /// `done/ID.batch.json`: completed, cancelled or expired.
    case finished(BatchCounts)
    /// `failed/ID.error.json`: the file failed as a whole; the envelope's message and its time.
    case failedWhole(message: String, at: Int64)
    /// Nowhere (removed by `prune`).
    case missing
}

extension SpoolDirectory {
    /// Where batch `id` is. The worker moves a batch forward only (incoming, active, done or
    /// failed), so the folders are looked at backwards, and once more when a move fell between
    /// two looks.
    package func batchState(id: String) -> SpoolBatchState {
        for _ in 0..<3 {
            if let bytes = try? FileSystem.readFile(BatchFiles(folder: done, id: id).progress), let progress = BatchCounts(progressFile: bytes) {
                return .finished(progress)
            }
            let envelope = "\(failed)/\(id).error.json"
            if let bytes = try? FileSystem.readFile(envelope), let value = try? JSONValue.parse(utf8: bytes) {
                let at = (try? FileSystem.lstatPath(envelope)).flatMap { $0 }.map { Int64(FileSystem.seconds($0.st_mtim)) } ?? 0
                return .failedWhole(message: value["error"]?["message"]?.stringValue ?? "the batch file failed", at: at)
            }
            let running = BatchFiles(folder: active, id: id)
            if let bytes = try? FileSystem.readFile(running.progress) {
                return .running(BatchCounts(progressFile: bytes))
            }
            if FileSystem.exists(running.input) { return .running(nil) }
            if FileSystem.exists("\(incoming)/\(id).jsonl") { return .queued }
        }
        return .missing
    }
}
