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

/// What a finished reply carries besides its text (which is in the partial file).
struct ReplySummary: Sendable {
    var model: String
    var thinking: String
    var toolCalls: [ToolCall]
    var stopReason: StopReason?
    var usage: Usage?
    var timings: OllamaTimings?
    var startedAt: Date
}

extension SpoolDirectory {
    /// Commits a finished job into `done/`: envelope to a temporary name and fsynced first (the
    /// commit record), then text, request and envelope renamed in, then the folders fsynced.
    /// A reader that sees `ID.result.json` sees a complete job.
    func finishDone(
        _ job: ClaimedJob, partialFD: Int32, reply: ReplySummary, attempts: Int, workerID: String, host: String? = nil,
        metadata: JSONValue?
    ) throws {
        let id = job.id
        let partialPath = "\(active)/\(id).partial"
        try FileSystem.fsyncFD(partialFD, path: partialPath)

        let tmpPath = "\(done)/.\(id).result.json.tmp"
        try FileSystem.createDurably(tmpPath, replacingStale: true) { fd in
            var writer = EnvelopeWriter(fd: fd, path: tmpPath)
            try writer.begin(id: id, status: "done", model: reply.model)
            try writer.object("message") { message in
                try message.member("role", "assistant")
                try message.member("content", textOf: partialFD, sourcePath: partialPath)
                try message.member("thinking", .string(reply.thinking))
                try message.array("tool_calls", reply.toolCalls) { element, call in
                    try element.object("function") { function in
                        try function.member("name", .string(call.name))
                        try function.member("arguments", call.arguments)
                    }
                }
            }
            try writer.member("done_reason", JSONValue(reply.stopReason?.description))
            try writer.object("usage") { usage in
                try usage.member("prompt_tokens", JSONValue(reply.usage?.promptTokens))
                try usage.member("completion_tokens", JSONValue(reply.usage?.completionTokens))
            }
            try writeTiming(&writer, job: job, reply: reply)
            try writer.member("attempts", JSONValue(attempts))
            try writer.finish(workerID: workerID, host: host, metadata: metadata)
        }
        try undoingOnError(tmpPath, moved: [(partialPath, "\(done)/\(id).txt")]) {
            try moveIn(partialPath, "\(done)/\(id).txt")
            try moveIn("\(active)/\(id).json", "\(done)/\(id).json")
        }
        try moveIn(tmpPath, "\(done)/\(id).result.json")
        try FileSystem.fsyncDirectory(done)
        try FileSystem.fsyncDirectory(active)
        if attempts > 1 { try? FileSystem.remove(attemptsFile(activeID: id)) }
    }

    /// Commits a failed job into `failed/`, the same way: the partial text (if any), the request
    /// byte for byte, then the error envelope.
    func finishFailed(
        _ job: ClaimedJob, partialBytes: Int, failure: JobFailure, model: String?, attempts: Int, workerID: String,
        host: String? = nil, metadata: JSONValue?
    ) throws {
        let id = job.id
        let partialPath = "\(active)/\(id).partial"
        try writeErrorEnvelope(
            id: id, model: model, failure: failure, attempts: attempts, partialBytes: partialBytes, workerID: workerID,
            host: host, metadata: metadata, commit: false)
        let tmpPath = "\(failed)/.\(id).error.json.tmp"
        try undoingOnError(tmpPath, moved: [(partialPath, "\(failed)/\(id).partial")]) {
            if partialBytes > 0 {
                try moveIn(partialPath, "\(failed)/\(id).partial")
            } else {
                try FileSystem.remove(partialPath)
            }
            try moveIn("\(active)/\(id).json", "\(failed)/\(id).json")
        }
        try moveIn(tmpPath, "\(failed)/\(id).error.json")
        try FileSystem.fsyncDirectory(failed)
        try FileSystem.fsyncDirectory(active)
        try? FileSystem.remove(attemptsFile(activeID: id))
    }

    /// Writes `failed/.ID.error.json.tmp` and fsyncs it; with `commit`, renames it into place.
    func writeErrorEnvelope(
        id: String, model: String?, failure: JobFailure, attempts: Int, partialBytes: Int, workerID: String,
        host: String? = nil, metadata: JSONValue?, commit: Bool = true
    ) throws {
        let tmpPath = "\(failed)/.\(id).error.json.tmp"
        try FileSystem.createDurably(tmpPath, replacingStale: true) { fd in
            var writer = EnvelopeWriter(fd: fd, path: tmpPath)
            try writer.begin(id: id, status: "failed", model: model)
            try writer.object("error") { error in
                try error.member("kind", .string(failure.kind.rawValue))
                try error.member("message", .string(failure.message))
                try error.member("retryable", .bool(failure.retryable))
                try error.member("http_status", JSONValue(failure.httpStatus))
                try error.member("detail", JSONValue(failure.detail))
            }
            try writer.member("attempts", JSONValue(attempts))
            try writer.member("partial_bytes", JSONValue(partialBytes))
            try writer.finish(workerID: workerID, host: host, metadata: metadata)
        }
        if commit { try moveIn(tmpPath, "\(failed)/\(id).error.json") }
    }

    /// Runs the moves of a finish up to the request's own; if one fails, the request is still in
    /// `active/`: moves `moved` back (best effort) and drops the commit record `tmpPath`, so that
    /// the job can be put back and run again without its leftovers in the way.
    func undoingOnError(_ tmpPath: String, moved: [(from: String, to: String)], _ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            for (from, to) in moved where FileSystem.exists(to) && !FileSystem.exists(from) { _ = try? move(to, from) }
            try? FileSystem.remove(tmpPath)
            throw error
        }
    }

    /// A rename that must not replace anything; a taken name here is a bug or outside meddling.
    func moveIn(_ from: String, _ to: String) throws {
        switch try move(from, to) {
        case .renamed: return
        case .targetExists: throw SpoolError("rename (target exists, not replaced) \(from) to", to, errno: EEXIST)
        case .sourceMissing: throw SpoolError("rename (source vanished) to \(to)", from, errno: ENOENT)
        }
    }

    /// The envelope's `timing` object: our clock for the job, Ollama's for the generation.
    func writeTiming(_ writer: inout EnvelopeWriter, job: ClaimedJob, reply: ReplySummary) throws {
        let t = reply.timings
        func ms(_ ns: Int64?) -> JSONValue { .double((Double(ns ?? 0) / 1e3).rounded() / 1e3) }
        var rate = 0.0
        if let count = reply.usage?.completionTokens, let eval = t?.evalDuration, eval > 0 {
            rate = ((Double(count) / (Double(eval) / 1e9)) * 100).rounded() / 100
        }
        try writer.object("timing") { timing in
            try timing.member("queued_at", .string(RFC3339.format(job.queuedAt)))
            try timing.member("started_at", .string(RFC3339.format(reply.startedAt)))
            try timing.member("finished_at", .string(RFC3339.format(Date())))
            try timing.member("load_ms", ms(t?.loadDuration))
            try timing.member("prompt_eval_ms", ms(t?.promptEvalDuration))
            try timing.member("eval_ms", ms(t?.evalDuration))
            try timing.member("total_ms", ms(t?.totalDuration))
            try timing.member("tokens_per_second", .double(rate))
        }
    }
}
