//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import VibesModels

extension SpoolDirectory {
    /// Commits an embedding job into `done/`, as ``finishDone(_:partialFD:reply:attempts:workerID:host:metadata:)``
    /// does a chat: the envelope (with `embeddings`, one vector per input, and no `message`) to a
    /// temporary name and fsynced first, then the request and the envelope renamed in. No
    /// `ID.txt`: there is no reply text.
    func finishEmbedded(
        _ job: ClaimedJob, response: EmbedResponse, startedAt: Date, attempts: Int, workerID: String, host: String?, metadata: JSONValue?
    ) throws {
        let id = job.id
        let reply = ReplySummary(
            model: response.model, thinking: "", toolCalls: [], stopReason: nil,
            usage: Usage(promptTokens: response.promptTokens, completionTokens: nil), timings: response.timings, startedAt: startedAt)
        let tmpPath = "\(done)/.\(id).result.json.tmp"
        try FileSystem.createDurably(tmpPath, replacingStale: true) { fd in
            var writer = EnvelopeWriter(fd: fd, path: tmpPath)
            try writer.begin(id: id, status: "done", model: response.model)
            try writer.member("embeddings", .array(response.embeddings.map { .array($0.map(JSONValue.double)) }))
            try writer.object("usage") { usage in try usage.member("prompt_tokens", JSONValue(response.promptTokens)) }
            try writeTiming(&writer, job: job, reply: reply)
            try writer.member("attempts", JSONValue(attempts))
            try writer.finish(workerID: workerID, host: host, metadata: metadata)
        }
        try undoingOnError(tmpPath, moved: []) {
            try moveIn("\(active)/\(id).json", "\(done)/\(id).json")
        }
        try moveIn(tmpPath, "\(done)/\(id).result.json")
        try FileSystem.fsyncDirectory(done)
        try FileSystem.fsyncDirectory(active)
        try? FileSystem.remove("\(active)/\(id).partial")
        if attempts > 1 { try? FileSystem.remove(attemptsFile(activeID: id)) }
    }
}
