//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import VibesModels

/// A batch's state as `ID.batch.json` tells it (OpenAI's batch object, in the contract's terms).
package struct BatchProgress: Sendable, Hashable {
    package enum Status: String, Sendable {
        case validating
        case inProgress = "in_progress"
        case completed, failed, cancelled, expired
        /// A cancel was asked and is under way: lines are closing (see "Cancel").
        case cancelling
    }

    package var id: String
    package var status: Status
    package var total: Int
    package var completed: Int
    package var failed: Int
    package var promptTokens: Int
    package var completionTokens: Int
    package var createdAt: Date
    package var inProgressAt: Date?
    package var completedAt: Date?
    /// Lines settled per Ollama base URL (after a crash: as last written, so it may lag behind
    /// the counts by the lines of the last second).
    package var hostCounts: [String: Int]
    package var workerID: String
    /// A cancel asked (``beginCancel``): why, and when. Written while set, so that a crash
    /// resumes the cancel, not the batch.
    package var cancel: Cancel?

    /// A cancel under way: why, and when it was recorded.
    package struct Cancel: Sendable, Hashable {
        package var reason: CancelReason
        package var at: Date
    }

    package init(id: String, createdAt: Date, workerID: String) {
        self.id = id
        self.status = .validating
        self.total = 0
        self.completed = 0
        self.failed = 0
        self.promptTokens = 0
        self.completionTokens = 0
        self.createdAt = createdAt
        self.hostCounts = [:]
        self.workerID = workerID
    }

    /// The file's text: `{"id", "object": "batch", "status", "request_counts": {"total",
    /// "completed", "failed"}, "usage": {"prompt_tokens", "completion_tokens"}, "created_at",
    /// "in_progress_at", "completed_at", "input_file", "output_file", "error_file",
    /// "host_counts", "worker", "errors": null}`. File names are relative to the folder the file
    /// is in (`active/` while running, `done/` after).
    package var json: String {
        func time(_ date: Date?) -> JSONValue { date.map { .string(RFC3339.format($0)) } ?? .null }
        var json = JSONWriter()
        json.beginObject()
        json.member("id", .string(id))
        json.member("object", "batch")
        json.member("status", .string(status.rawValue))
        json.beginObject("request_counts")
        json.member("total", JSONValue(total))
        json.member("completed", JSONValue(completed))
        json.member("failed", JSONValue(failed))
        json.endObject()
        json.beginObject("usage")
        json.member("prompt_tokens", JSONValue(promptTokens))
        json.member("completion_tokens", JSONValue(completionTokens))
        json.endObject()
        json.member("created_at", time(createdAt))
        json.member("in_progress_at", time(inProgressAt))
        json.member("completed_at", time(completedAt))
        json.member("input_file", .string(id + ".jsonl"))
        json.member("output_file", .string(id + ".output.jsonl"))
        json.member("error_file", .string(id + ".errors.jsonl"))
        json.beginObject("host_counts")
        for host in hostCounts.keys.sorted() { json.member(host, JSONValue(hostCounts[host]!)) }
        json.endObject()
        json.member("worker", .string(workerID))
        json.member("errors", nil)
        if let cancel {
            json.member("cancelling_at", .string(RFC3339.format(cancel.at)))
            json.member("cancel_reason", .string(cancel.reason.rawValue))
        }
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self) + "\n"
    }

    /// What a previous progress file tells after a crash: its times, host counts and a cancel
    /// under way.
    mutating func adopt(previous bytes: [UInt8]) {
        guard let value = try? JSONValue.parse(utf8: bytes) else { return }
        if let created = value["created_at"]?.stringValue.flatMap(RFC3339.parse) { createdAt = created }
        inProgressAt = value["in_progress_at"]?.stringValue.flatMap(RFC3339.parse)
        for (host, count) in value["host_counts"]?.objectValue ?? [:] {
            if let count = count.doubleValue { hostCounts[host] = Int(count) }
        }
        if let reason = value["cancel_reason"]?.stringValue.flatMap(CancelReason.init(rawValue:)) {
            cancel = Cancel(reason: reason, at: value["cancelling_at"]?.stringValue.flatMap(RFC3339.parse) ?? Date())
        }
    }
}

/// What an output or errors file already holds, read when a batch opens (after a crash).
struct BatchResumeScan {
    var customIDs: Set<String> = []
    var lines = 0
    var promptTokens = 0
    var completionTokens = 0
    /// The length of the file's whole, readable lines: anything after it (a line torn by a crash,
    /// without its newline or not JSON) is cut off.
    var validLength: Int64 = 0

    private struct Seen: Decodable {
        struct Response: Decodable {
            struct Body: Decodable {
                struct Usage: Decodable {
                    var prompt_tokens: Int?
                    var completion_tokens: Int?
                }
                var usage: Usage?
                var prompt_eval_count: Int?
                var eval_count: Int?
            }
            var body: Body?
        }
        var custom_id: String
        var response: Response?
    }

    /// Reads the file open at `fd` line by line.
    static func scan(fd: Int32, path: String) throws -> BatchResumeScan {
        var scan = BatchResumeScan()
        var reader = LineReader(fd: fd, path: path, maxLineBytes: 1 << 30)
        let decoder = JSONDecoder()
        while let line = try reader.next() {
            guard case .line(_, let bytes, true) = line, let seen = try? decoder.decode(Seen.self, from: Data(bytes)) else { break }
            scan.customIDs.insert(seen.custom_id)
            scan.lines += 1
            let body = seen.response?.body
            scan.promptTokens += body?.usage?.prompt_tokens ?? body?.prompt_eval_count ?? 0
            scan.completionTokens += body?.usage?.completion_tokens ?? body?.eval_count ?? 0
            scan.validLength = Int64(reader.consumedOffset)
        }
        return scan
    }
}
