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

/// The worker's one way to the spool's files. Operations that write data or fsync run on a
/// blocking thread pool, never on the threads where the worker's loop, its attempts and the HTTP
/// client run. A job's claim and the creation of its partial file are a few metadata operations:
/// on a local file system they take microseconds and run in the calling task
/// (``runMetadata(_:)``); on a network or FUSE one, where each may wait on a server, they go to
/// the pool too.
struct SpoolIO: Sendable {
    let spool: SpoolDirectory
    let pool: NIOThreadPool
    /// The file system the spool is on (`nil`: unknown, treated as shared).
    let kind: FileSystemKind?

    /// Whether metadata operations run in the calling task (the spool is on a local file system).
    var metadataInline: Bool { kind == .local }

    /// Runs `body` on the pool to its end, also when the calling task is cancelled: a commit or
    /// a put-back cut short would leave the job half moved. The pool's thread resumes the caller
    /// itself, without going through an event loop.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            pool.submit { state in
                guard case .active = state else {
                    continuation.resume(throwing: NIOThreadPoolError.ThreadPoolInactive())
                    return
                }
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Runs `body`, a few metadata operations (no data written, no fsync): in the calling task
    /// when ``metadataInline``, else on the pool.
    func runMetadata<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if metadataInline { return try body() }
        return try await run(body)
    }

    /// At start: the folders, then commits a crash cut short, batches left in `active/` (taken
    /// back by this worker), then jobs left there (put back into `incoming/`).
    func createLayoutAndRecover() async throws -> (jobs: [String], batches: [BatchClaim]) {
        let spool = self.spool
        return try await run {
            try spool.createLayout()
            try spool.recoverCommits()
            let batches = try spool.orphanBatches()
            return (try spool.recoverOrphans(), batches)
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
                host: context.host, metadata: context.request.metadata)
        }
    }

    func finishFailed(
        _ job: ClaimedJob, failure: JobFailure, model: String?, attempts: Int, partialBytes: Int, workerID: String, host: String?,
        metadata: JSONValue?
    ) async throws {
        let spool = self.spool
        try await run {
            try spool.finishFailed(
                job, partialBytes: partialBytes, failure: failure, model: model, attempts: attempts, workerID: workerID, host: host,
                metadata: metadata)
        }
    }

    /// Puts a claimed job back into `incoming/` and releases it (also when this throws: a rescan
    /// then finds it in `active/`); the name it got there.
    func putBack(_ job: ClaimedJob, attempts: Int) async throws -> String? {
        let spool = self.spool
        return try await run { try spool.putBack(job, attempts: attempts) }
    }

    /// Drops an attempt's partial reply (it took the room a full disk needs back).
    func discardPartial(_ job: ClaimedJob) async {
        let path = "\(spool.active)/\(job.id).partial"
        _ = try? await run { try FileSystem.remove(path) }
    }

    /// Removes a cancel request once it was acted on.
    func removeCancel(_ cancel: CancelRequest) async {
        let spool = self.spool
        _ = try? await run { spool.removeCancel(named: cancel.file) }
    }

    /// Whether the spool's file system has room again (``SpoolDirectory/probeWrite(bytes:)``).
    func hasRoom() async -> Bool {
        let spool = self.spool
        return (try? await run { try spool.probeWrite() }) != nil
    }
}

extension SpoolDirectory {
    /// Reads a request in `incoming/` without claiming it: its model, priority and reload
    /// options; a file that is not a valid request gets no model (it fails at its claim).
    /// `nil` when it is gone.
    func peek(_ name: String) -> QueuedRequest? {
        let path = RawPath(incoming, FileName(escaped: name))
        guard let info = try? FileSystem.lstatPath(path) else { return nil }
        let queuedAt = WallClock.instant(since1970: FileSystem.seconds(info.st_mtim))
        guard FileSystem.isRegular(info), Int(info.st_size) <= 16 << 20,
            let fd = try? FileSystem.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        else { return QueuedRequest(name: name, model: nil, queuedAt: queuedAt, id: JobID.forRequest(named: FileName(escaped: name))) }
        defer { close(fd) }
        guard let bytes = try? FileSystem.readAll(fd, limit: 16 << 20, path: "\(path)"), let request = try? JobRequest.parse(bytes) else {
            return QueuedRequest(name: name, model: nil, queuedAt: queuedAt, id: JobID.forRequest(named: FileName(escaped: name)))
        }
        return QueuedRequest(
            name: name, model: request.chat.model, loadKey: ModelKey.load(model: request.chat.model, options: request.chat.ollama.options),
            priority: request.priority, queuedAt: queuedAt, id: request.id ?? JobID.forRequest(named: FileName(escaped: name)),
            embed: request.embed.map(EmbedShape.init))
    }
}
