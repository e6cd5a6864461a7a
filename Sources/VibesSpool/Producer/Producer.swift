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

/// The producer's side of the protocol: submit, follow, requeue.
extension SpoolDirectory {
    /// Writes a request safely: into `tmp/` with `O_EXCL`, fsynced, then renamed into
    /// `incoming/` without replacing anything. Returns the job id.
    ///
    /// The id is `preferredID` (or a fresh one) made unique across the spool's folders; it names
    /// the file and, when it is a valid `id`, is written into the request's `id` field.
    public func submit(_ request: [String: JSONValue], preferredID: String?) throws -> String {
        try createLayout()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return try deliver(base: preferredID ?? Self.newID(), suffix: ".json", isFree: isFree) { id, fd, path in
            var body = request
            // A suffixed id (`ID~2`) is not a valid `id` field: the file name carries it.
            if JobRequest.isValidID(id) { body["id"] = .string(id) } else { body.removeValue(forKey: "id") }
            var bytes = Array(try encoder.encode(JSONValue.object(body)))
            bytes.append(UInt8(ascii: "\n"))
            try FileSystem.writeAll(fd, bytes, path: path)
        }
    }

    /// The producer's protocol, for requests and batches: write `tmp/ID<suffix>.PID` durably,
    /// then rename it into `incoming/` without replacing anything, under the first of `base`,
    /// `base~2`, … that `isFree` allows and `incoming/` does not hold. Returns the id.
    func deliver(
        base: String, suffix: String, isFree: (String) -> Bool, write: (_ id: String, _ fd: Int32, _ path: String) throws -> Void
    ) throws -> String {
        var id = base
        var n = 1
        while true {
            if isFree(id) && !FileSystem.exists("\(incoming)/\(id)\(suffix)") {
                let tmpPath = "\(tmp)/\(id)\(suffix).\(getpid())"
                try FileSystem.createDurably(tmpPath) { try write(id, $0, tmpPath) }
                switch try move(tmpPath, "\(incoming)/\(id)\(suffix)") {
                case .renamed:
                    try FileSystem.fsyncDirectory(incoming)
                    return id
                case .targetExists, .sourceMissing:
                    try? FileSystem.remove(tmpPath)
                }
            }
            n += 1
            id = "\(base)~\(n)"
        }
    }

    /// A fresh job id: UTC time and random hex (`20261125T041500Z-3f9a1c0b`).
    public static func newID() -> String {
        let stamp = RFC3339.format(Date(), basic: true)
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(stamp)-\(String(repeating: "0", count: 8 - random.count))\(random)"
    }

    /// The end of a followed job.
    public enum WaitResult: Sendable, Equatable {
        case done
        case failed(message: String)
    }

    /// Follows job `id`: hands the reply text to `output` as it streams (from the partial file),
    /// and returns when the job lands in `done/` or `failed/`. Works whether a worker runs now
    /// or later. `output` gets exactly the reply text; `notice` gets remarks for stderr.
    public func follow(
        id: String, pollInterval: Duration = .milliseconds(20), output: ([UInt8]) -> Void, notice: (String) -> Void
    ) async throws -> WaitResult {
        var followed: (fd: Int32, inode: UInt, offset: off_t)?
        defer { if let followed { close(followed.fd) } }

        /// Copies what is new in the followed file to `output`.
        func drain() throws {
            guard var current = followed else { return }
            let path = "\(active)/\(id).partial"
            current.offset += off_t(try FileSystem.readChunks(current.fd, from: current.offset, path: path) { output(Array($0)) })
            followed = current
        }

        while true {
            if FileSystem.exists("\(done)/\(id).result.json") {
                // The partial became done/ID.txt (the same file): print what is left of it.
                if followed == nil, let fd = try FileSystem.open("\(done)/\(id).txt", O_RDONLY | O_NOFOLLOW) {
                    followed = (fd, 0, 0)
                }
                try drain()
                return .done
            }
            if FileSystem.exists("\(failed)/\(id).error.json") {
                try drain()
                let envelope = try FileSystem.readFile("\(failed)/\(id).error.json") ?? []
                let value = try? JSONValue.parse(utf8: envelope)
                return .failed(message: value?["error"]?["message"]?.stringValue ?? "the job failed (see \(failed)/\(id).error.json)")
            }
            let partialPath = "\(active)/\(id).partial"
            if let info = try FileSystem.lstatPath(partialPath) {
                if followed == nil || followed!.inode != UInt(info.st_ino) {
                    // A new attempt (or the first): a retry starts the reply afresh.
                    if let old = followed {
                        close(old.fd)
                        if old.offset > 0 { notice("(the attempt was retried: the reply starts again)") }
                        followed = nil
                    }
                    if let fd = try FileSystem.open(partialPath, O_RDONLY | O_NOFOLLOW) {
                        followed = (fd, UInt(info.st_ino), 0)
                    }
                } else if off_t(info.st_size) < followed!.offset {
                    notice("(the attempt was retried: the reply starts again)")
                    followed!.offset = 0
                }
                try drain()
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// Moves failed jobs back into `incoming/`: the request keeps its name, the error envelope
    /// and partial text leave `failed/`, and the attempt count starts again.
    /// - Returns: the ids requeued.
    public func requeue(ids: [String]) throws -> [String] {
        var requeued: [String] = []
        for id in ids {
            let request = "\(failed)/\(id).json"
            // The envelope may be gone already: a requeue cut short after removing it.
            guard FileSystem.exists(request) else {
                throw RequeueError(message: "no failed job '\(id)' in \(failed)")
            }
            // Envelope and partial leave first: when the request reappears in incoming/, a worker
            // may claim it at once, and must find its id free (not take `ID~2`).
            try FileSystem.remove("\(failed)/\(id).error.json")
            try FileSystem.remove("\(failed)/\(id).partial")
            var name = "\(id).json"
            var suffix = 1
            while true {
                try? FileSystem.remove(attemptsFile(incomingName: name))
                let outcome = try move(request, "\(incoming)/\(name)")
                if outcome == .renamed { break }
                if outcome == .sourceMissing { throw RequeueError(message: "'\(id)' vanished from \(failed) while requeueing") }
                suffix += 1
                name = "\(id)~\(suffix).json"
            }
            requeued.append(id)
        }
        try FileSystem.fsyncDirectory(incoming)
        try FileSystem.fsyncDirectory(failed)
        return requeued
    }

    /// The ids of every failed job.
    public func failedIDs() throws -> [String] {
        let names = Set(try FileSystem.list(failed))
        return names.compactMap { name -> String? in
            guard name.hasSuffix(".error.json"), !name.hasPrefix(".") else { return nil }
            let id = String(name.dropLast(".error.json".count))
            return names.contains("\(id).json") ? id : nil
        }.sorted()
    }
}

public struct RequeueError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
