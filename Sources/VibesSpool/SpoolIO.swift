//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import NIOPosix
import VibesModels

/// The worker's one way to the spool's files: every operation that reads, renames or fsyncs
/// runs on a blocking thread pool, never on Swift's few cooperative threads (where the
/// streams, the HTTP client and the worker's loop run).
struct SpoolIO: Sendable {
    let spool: SpoolDirectory
    let pool: NIOThreadPool

    /// Runs `body` on the pool to its end, also when the calling task is cancelled: a commit or
    /// a put-back cut short would leave the job half moved.
    private func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any(), body).get()
    }

    func createLayoutAndRecover() async throws -> [String] {
        let spool = self.spool
        return try await run {
            try spool.createLayout()
            try spool.recoverCommits()
            return try spool.recoverOrphans()
        }
    }

    func recoverOrphans() async throws -> [String] {
        let spool = self.spool
        return try await run { try spool.recoverOrphans() }
    }

    /// The requests in `incoming/`, oldest first, each read (not claimed) for what the scheduler
    /// needs: model, priority, reload options.
    func scan() async throws -> [QueuedRequest] {
        let spool = self.spool
        return try await run { try spool.queuedRequests().compactMap { spool.peek($0) } }
    }

    func peek(_ names: [String]) async throws -> [QueuedRequest] {
        let spool = self.spool
        return try await run { names.filter(SpoolDirectory.isRequestName).compactMap { spool.peek($0) } }
    }

    func claim(_ name: String, workerID: String) async throws -> SpoolDirectory.ClaimResult {
        let spool = self.spool
        return try await run { try spool.claim(name, workerID: workerID) }
    }

    /// Reads a claimed request (at most `limit` bytes) and renames the job to `id` (made unique).
    func read(_ job: ClaimedJob, limit: Int) async throws -> [UInt8] {
        let path = "\(spool.active)/\(job.id).json"
        return try await run { try FileSystem.readAll(job.fd, limit: limit, path: path) }
    }

    func rename(_ job: ClaimedJob, to id: String) async throws -> ClaimedJob {
        let spool = self.spool
        return try await run {
            var job = job
            try spool.rename(&job, to: id)
            return job
        }
    }

    func writeAttempts(_ job: ClaimedJob, _ attempts: Int) async throws {
        let path = spool.attemptsFile(activeID: job.id)
        try await run { try FileSystem.writeFile(path, "\(attempts)\n") }
    }

    func finishDone(_ context: JobContext, partialFD: Int32, reply: ReplySummary, workerID: String) async throws {
        let spool = self.spool
        try await run {
            try spool.finishDone(
                context.job, partialFD: partialFD, reply: reply, attempts: context.attempts, workerID: workerID,
                metadata: context.request.metadata)
        }
    }

    func finishFailed(_ job: ClaimedJob, failure: JobFailure, model: String?, attempts: Int, partialBytes: Int, workerID: String, metadata: JSONValue?) async throws {
        let spool = self.spool
        try await run {
            try spool.finishFailed(job, partialBytes: partialBytes, failure: failure, model: model, attempts: attempts, workerID: workerID, metadata: metadata)
        }
    }

    /// Puts a claimed job back into `incoming/` and releases it; the name it got there. Whatever
    /// happens, the claim is released (a rescan then finds it in `active/`): never held forever.
    func putBack(_ job: ClaimedJob, attempts: Int) async throws -> String? {
        let spool = self.spool
        return try await run {
            do {
                return try spool.putBack(job, attempts: attempts)
            } catch {
                close(job.fd)
                throw error
            }
        }
    }

    /// Whether the spool's file system has room again: a small file written, fsynced, removed.
    func hasRoom() async -> Bool {
        let path = "\(spool.tmp)/.vibes-spool-disk-probe-\(getpid())"
        return (try? await run {
            defer { try? FileSystem.remove(path) }
            try FileSystem.createDurably(path, replacingStale: true) { fd in
                try FileSystem.writeAll(fd, [UInt8](repeating: 0x20, count: 64 << 10), path: path)
            }
            return true
        }) ?? false
    }
}

extension SpoolDirectory {
    /// Reads a request in `incoming/` without claiming it: its model, priority and reload
    /// options; a file that is not a valid request gets no model (it fails at its claim).
    /// `nil` when it is gone.
    func peek(_ name: String) -> QueuedRequest? {
        let path = "\(incoming)/\(name)"
        guard let info = try? FileSystem.lstatPath(path) else { return nil }
        let queuedAt = FileSystem.seconds(info.st_mtim)
        guard FileSystem.isRegular(info), Int(info.st_size) <= 16 << 20,
            let fd = try? FileSystem.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        else { return QueuedRequest(name: name, model: nil, queuedAt: queuedAt) }
        defer { close(fd) }
        guard let bytes = try? FileSystem.readAll(fd, limit: 16 << 20, path: path), let request = try? JobRequest.parse(bytes) else {
            return QueuedRequest(name: name, model: nil, queuedAt: queuedAt)
        }
        return QueuedRequest(
            name: name, model: request.chat.model, loadKey: ModelKey.load(model: request.chat.model, options: request.chat.ollama.options),
            priority: request.priority, queuedAt: queuedAt)
    }
}
