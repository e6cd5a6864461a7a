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

/// A batch's counts as its progress file tells them.
public struct BatchCounts: Sendable, Hashable {
    public var id: String
    /// `validating`, `in_progress`, `completed` (and `cancelled`, `expired`).
    public var status: String
    public var total: Int
    public var completed: Int
    public var failed: Int
    public var promptTokens: Int
    public var completionTokens: Int
    public var inProgressAt: Date?
    public var completedAt: Date?

    /// Reads `ID.batch.json`; `nil` when it is not (yet) a progress file.
    public init?(progressFile bytes: [UInt8]) {
        guard let value = try? JSONValue.parse(utf8: bytes), let id = value["id"]?.stringValue,
            let counts = value["request_counts"]
        else { return nil }
        self.id = id
        self.status = value["status"]?.stringValue ?? ""
        self.total = Int(counts["total"]?.doubleValue ?? 0)
        self.completed = Int(counts["completed"]?.doubleValue ?? 0)
        self.failed = Int(counts["failed"]?.doubleValue ?? 0)
        self.promptTokens = Int(value["usage"]?["prompt_tokens"]?.doubleValue ?? 0)
        self.completionTokens = Int(value["usage"]?["completion_tokens"]?.doubleValue ?? 0)
        self.inProgressAt = value["in_progress_at"]?.stringValue.flatMap(RFC3339.parse)
        self.completedAt = value["completed_at"]?.stringValue.flatMap(RFC3339.parse)
    }
}

/// The producer's side of batches: submit, wait, and the running batches for `status`.
extension SpoolDirectory {
    /// Copies the batch file at `source` into `incoming/` safely: streamed into `tmp/` with
    /// `O_EXCL`, fsynced, then renamed in without replacing anything. The id is `preferredID`
    /// (else the file's name without `.jsonl`), made unique as the worker would make it, so the
    /// batch keeps it. Returns the id.
    public func submitBatch(from source: String, preferredID: String? = nil) throws -> String {
        try createLayout()
        guard let input = try FileSystem.open(source, O_RDONLY) else { throw SpoolError("open", source, errno: ENOENT) }
        defer { close(input) }
        let fileName = source.split(separator: "/").last.map(String.init) ?? source
        let base = preferredID ?? (fileName.hasSuffix(".jsonl") ? String(fileName.dropLast(6)) : fileName)
        return try deliver(base: base, suffix: ".jsonl", isFree: isFreeBatchID) { _, fd, path in
            try Self.copy(input, path: source, to: fd, toPath: path)
        }
    }

    /// How a waited-for batch ended.
    public enum BatchWaitResult: Sendable, Equatable {
        /// In `done/`; `outputPath` is `done/ID.output.jsonl`. Some lines may have failed.
        case completed(BatchCounts, outputPath: String)
        /// The file failed as a whole: the error envelope's message.
        case failed(message: String)
    }

    /// Waits until batch `id` is in `done/` or `failed/`, handing `progress` the counts from
    /// `active/ID.batch.json` whenever they change. Polls every `pollInterval`.
    public func waitBatch(
        id: String, pollInterval: Duration = .milliseconds(200), progress: (BatchCounts) -> Void = { _ in }
    ) async throws -> BatchWaitResult {
        let running = BatchFiles(folder: active, id: id)
        let finished = BatchFiles(folder: done, id: id)
        var last: BatchCounts?
        while true {
            if let bytes = try FileSystem.readFile(finished.progress), let counts = BatchCounts(progressFile: bytes) {
                if counts != last { progress(counts) }
                return .completed(counts, outputPath: finished.output)
            }
            if let bytes = try FileSystem.readFile("\(failed)/\(id).error.json") {
                let envelope = try? JSONValue.parse(utf8: bytes)
                return .failed(message: envelope?["error"]?["message"]?.stringValue ?? "the batch failed")
            }
            if let bytes = try FileSystem.readFile(running.progress), let counts = BatchCounts(progressFile: bytes), counts != last {
                progress(counts)
                last = counts
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// The batches running now (`active/ID.batch.json` beside `active/ID.jsonl`), for `status`.
    public func activeBatches() throws -> [BatchCounts] {
        try FileSystem.list(active).filter { $0.hasSuffix(".batch.json") && !$0.hasPrefix(".") }.sorted().compactMap { name in
            guard isBatchProgressFile(activeName: name), let bytes = try FileSystem.readFile("\(active)/\(name)") else { return nil }
            return BatchCounts(progressFile: bytes)
        }
    }

    private static func copy(_ source: Int32, path: String, to target: Int32, toPath: String) throws {
        try FileSystem.readChunks(source, from: nil, path: path) { chunk in
            try FileSystem.writeAll(target, UnsafeRawBufferPointer(chunk), path: toPath)
        }
    }
}
