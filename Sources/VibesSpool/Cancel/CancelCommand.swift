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

/// `vibes-spool cancel`: writes the cancel file, cancels a queued job or batch itself (with
/// the worker's own claim and commit, so it works with no worker running), and otherwise waits
/// briefly for the worker holding the job to act.
extension SpoolDirectory {
    /// Whether `id` can name a job (what a file in `cancel/` can be called).
    package static func isCancelableID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        return !bytes.isEmpty && bytes.count <= 255 && bytes.first != UInt8(ascii: ".") && !bytes.contains(UInt8(ascii: "/")) && !bytes.contains(0)
    }

    /// Cancels `id` and says what happened; waits at most `wait` for a worker to act on a
    /// running job or batch.
    package func requestCancel(_ id: String, reason: CancelReason = .cancelled, workerID: String, wait: Duration = .seconds(5)) async throws -> CancelReport {
        if let record = finishedRecord(id) { return .alreadyFinished(record: record) }
        try writeCancel(id, reason: reason)
        if let report = try cancelQueued(id, workerID: workerID) { return report }
        let deadline = ContinuousClock.now + wait
        var absent = 0
        while true {
            if let record = finishedRecord(id) {
                return CancelReport.decide(record: record, byThisCancel: recordSaysCancelled(record), place: nil)
            }
            let place = placeOf(id)
            absent = place == nil ? absent + 1 : 0
            // Gone from everywhere twice in a row (a claim renames between folders): unknown.
            if absent >= 2 || ContinuousClock.now >= deadline {
                return CancelReport.decide(record: nil, byThisCancel: false, place: place)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// A job or batch `id` still in `incoming/`, cancelled by this process: claimed as a worker
    /// claims it, then committed as cancelled. `nil`: none there (or a worker claimed it first).
    private func cancelQueued(_ id: String, workerID: String) throws -> CancelReport? {
        for name in try queuedNames(for: id) where name.hasSuffix(".json") {
            switch try claimAndRead(name, workerID: workerID, limit: 16 << 20) {
            case .claimed(.cancelled(let job, let request, let bytes, let cancel)):
                defer { close(job.fd) }
                let salvaged = request == nil ? JobRequest.salvage(bytes) : nil
                try finishFailed(
                    job, partialBytes: 0, failure: cancel.failure(at: Date()), model: request?.chat.model ?? salvaged?.model,
                    attempts: job.previousAttempts, workerID: workerID, metadata: request?.metadata ?? salvaged?.metadata)
                removeCancel(named: cancel.file)
                return .cancelled
            case .claimed(.ready(let job, _)), .claimed(.tooBig(let job)), .claimed(.invalid(let job, _, _)), .claimed(.spoolError(let job, _)):
                // Not ours to cancel after all (the cancel vanished): back as it was.
                try putBack(job, attempts: job.previousAttempts)
            case .rejected(let failedID, _):
                return .alreadyFinished(record: "failed/\(failedID).error.json")
            case .lost:
                continue
            }
        }
        if FileSystem.exists("\(incoming)/\(id).jsonl") { return try cancelQueuedBatch(id, workerID: workerID) }
        return nil
    }

    /// A queued batch: claimed and validated as the worker does, then committed with every line
    /// in the errors file.
    private func cancelQueuedBatch(_ id: String, workerID: String) throws -> CancelReport? {
        guard case .claimed(let claim) = try claimBatch("\(id).jsonl", workerID: workerID) else { return nil }
        switch try BatchRun.open(claim, spool: self, workerID: workerID) {
        case .failed(let failedID, _):
            return .alreadyFinished(record: "failed/\(failedID).error.json")
        case .running(let run):
            guard let cancel = cancelRequest(for: id) ?? cancelRequest(for: run.id) else {
                try run.close()
                return nil
            }
            try run.beginCancel(cancel.reason)
            try run.commitCancelled(id: cancel.id)
            removeCancel(named: cancel.file)
            return .cancelled
        }
    }

    /// Names in `incoming/` whose job id would be `id`: `ID.json`, or a request whose `id`
    /// field says so.
    private func queuedNames(for id: String) throws -> [String] {
        var names: [String] = []
        if FileSystem.exists("\(incoming)/\(id).json") { names.append("\(id).json") }
        for name in try queuedRequests() where name != "\(id).json" {
            guard let request = peek(name), request.id == id else { continue }
            names.append(name)
        }
        return names
    }

    /// Where a job or batch `id` is, if still unfinished: `active/` or `incoming/`.
    private func placeOf(_ id: String) -> String? {
        if FileSystem.exists("\(active)/\(id).json") || FileSystem.exists("\(active)/\(id).jsonl") { return "active/" }
        if FileSystem.exists("\(incoming)/\(id).json") || FileSystem.exists("\(incoming)/\(id).jsonl") { return "incoming/" }
        return nil
    }

    /// Whether a finished record says the job or batch was cancelled (kind `cancelled`, or a
    /// batch's status `cancelled`/`expired`).
    func recordSaysCancelled(_ record: String) -> Bool {
        guard let bytes = try? FileSystem.readFile("\(root)/\(record)"), let value = try? JSONValue.parse(utf8: bytes) else { return false }
        if let kind = value["error"]?["kind"]?.stringValue { return kind == JobErrorKind.cancelled.rawValue }
        return ["cancelled", "expired"].contains(value["status"]?.stringValue ?? "")
    }
}
