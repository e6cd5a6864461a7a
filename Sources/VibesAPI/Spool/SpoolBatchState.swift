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

/// Where a batch is in the spool, and what its progress file says.
public enum SpoolBatchState: Sendable, Equatable {
    /// `incoming/ID.jsonl`: waiting for a worker.
    case queued
    /// In `active/`; its progress file, once the worker has written one.
    case running(BatchProgressFile?)
    /// `done/ID.batch.json`: completed, cancelled or expired.
    case finished(BatchProgressFile)
    /// `failed/ID.error.json`: the file failed as a whole; the envelope's message and its time.
    case failedWhole(message: String, at: Int64)
    /// Nowhere (removed by `prune`).
    case missing
}

/// What `NAME.batch.json` tells, times in Unix seconds.
public struct BatchProgressFile: Sendable, Equatable {
    public var status: String
    public var total = 0
    public var completed = 0
    public var failed = 0
    public var promptTokens = 0
    public var completionTokens = 0
    public var inProgressAt: Int64?
    public var completedAt: Int64?

    public init(status: String) {
        self.status = status
    }

    /// Reads the file's text; `nil` when it is not a progress file.
    public init?(bytes: [UInt8]) {
        guard let value = JSONValue.parse(utf8: bytes), let status = value["status"]?.stringValue else { return nil }
        func int(_ value: JSONValue?) -> Int { value?.doubleValue.map { Int($0) } ?? 0 }
        func time(_ key: String) -> Int64? {
            value[key]?.stringValue.flatMap(RFC3339.parse).map { Int64($0.timeIntervalSince1970.rounded(.down)) }
        }
        self.status = status
        let counts = value["request_counts"]
        total = int(counts?["total"])
        completed = int(counts?["completed"])
        failed = int(counts?["failed"])
        promptTokens = int(value["usage"]?["prompt_tokens"])
        completionTokens = int(value["usage"]?["completion_tokens"])
        inProgressAt = time("in_progress_at")
        completedAt = time("completed_at")
    }
}

extension SpoolDirectory {
    /// Where batch `id` is. The worker moves a batch forward only (incoming, active, done or
    /// failed), so the folders are looked at backwards, and once more when a move fell between
    /// two looks.
    public func batchState(id: String) -> SpoolBatchState {
        for _ in 0..<3 {
            if let bytes = try? FileSystem.readFile(BatchFiles(folder: done, id: id).progress), let progress = BatchProgressFile(bytes: bytes) {
                return .finished(progress)
            }
            let envelope = "\(failed)/\(id).error.json"
            if let bytes = try? FileSystem.readFile(envelope), let value = JSONValue.parse(utf8: bytes) {
                let at = (try? FileSystem.lstatPath(envelope)).flatMap { $0 }.map { Int64(FileSystem.seconds($0.st_mtim)) } ?? 0
                return .failedWhole(message: value["error"]?["message"]?.stringValue ?? "the batch file failed", at: at)
            }
            let running = BatchFiles(folder: active, id: id)
            if let bytes = try? FileSystem.readFile(running.progress) {
                return .running(BatchProgressFile(bytes: bytes))
            }
            if FileSystem.exists(running.input) { return .running(nil) }
            if FileSystem.exists("\(incoming)/\(id).jsonl") { return .queued }
        }
        return .missing
    }
}
