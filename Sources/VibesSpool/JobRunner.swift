//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Logging
import Synchronization
import VibesModels

/// Runs one claimed job to its end: `done/`, `failed/`, or back into `incoming/` on shutdown.
struct JobRunner: Sendable {
    enum Outcome: Sendable {
        case done
        case failed(JobErrorKind)
        case putBack
    }

    let configuration: WorkerConfiguration
    let provider: any ModelProvider
    let logger: Logger

    var spool: SpoolDirectory { configuration.spool }

    func run(_ claimed: ClaimedJob) async -> Outcome {
        var job = claimed
        var logger = logger
        logger[metadataKey: "job"] = "\(job.id)"
        do {
            return try await run(&job, logger: &logger)
        } catch {
            // A file-system error: the job stays claimed nowhere; leave it for recovery.
            logger.error("spool error, the job goes back to incoming/ for another try: \(error)")
            try? spool.putBack(job, attempts: job.previousAttempts + 1)
            return .putBack
        }
    }

    private func run(_ job: inout ClaimedJob, logger: inout Logger) async throws -> Outcome {
        let limit = configuration.maxRequestBytes
        guard job.size <= limit else {
            let invalid = InvalidRequest(field: nil, "the file is \(job.size) bytes, over the limit of \(limit) bytes (--max-request-bytes)")
            return try fail(job, JobFailure(invalid), model: nil, attempts: job.previousAttempts + 1, partialBytes: 0, metadata: nil, logger: logger)
        }
        let bytes = try FileSystem.readAll(job.fd, limit: limit + 1, path: "\(spool.active)/\(job.id).json")
        let request: JobRequest
        do {
            request = try JobRequest.parse(bytes)
        } catch let invalid as InvalidRequest {
            let salvaged = JobRequest.salvage(bytes)
            try spool.rename(&job, to: salvaged.id ?? job.id)
            logger[metadataKey: "job"] = "\(job.id)"
            return try fail(
                job, JobFailure(invalid), model: salvaged.model, attempts: job.previousAttempts + 1, partialBytes: 0,
                metadata: salvaged.metadata, logger: logger)
        }
        try spool.rename(&job, to: request.id ?? job.id)
        logger[metadataKey: "job"] = "\(job.id)"
        logger.info("claimed \(job.originalName), model \(request.chat.model)")

        let startedAt = Date()
        let deadline = request.timeout.map { ContinuousClock.now + $0 }
        var attempts = job.previousAttempts
        var retry = 0
        while true {
            attempts += 1
            if attempts > 1 { try FileSystem.writeFile(spool.attemptsFile(activeID: job.id), "\(attempts)\n") }
            let partialPath = "\(spool.active)/\(job.id).partial"
            guard let partialFD = try FileSystem.open(partialPath, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW, mode: 0o664) else {
                throw SpoolError("create", partialPath, errno: ENOENT)
            }
            var written = 0
            do {
                let reply = try await stream(request, into: partialFD, path: partialPath, written: &written, deadline: deadline, startedAt: startedAt)
                try spool.finishDone(job, partialFD: partialFD, reply: reply, attempts: attempts, workerID: configuration.workerID, metadata: request.metadata)
                close(partialFD)
                close(job.fd)
                logger.info("done: \(written) bytes, attempt \(attempts)")
                return .done
            } catch is CancellationError {
                close(partialFD)
                try spool.putBack(job, attempts: attempts)
                logger.notice("stopped; put back into incoming/ (attempt \(attempts) kept)")
                return .putBack
            } catch let error as ModelError {
                close(partialFD)
                retry += 1
                let delay = configuration.backoff(retry: retry)
                let fitsDeadline = deadline.map { ContinuousClock.now + delay < $0 } ?? true
                if error.isRetryable && attempts <= configuration.retries && fitsDeadline {
                    logger.warning("attempt \(attempts) failed (\(error)); retrying in \(delay)")
                    do {
                        try await Task.sleep(for: delay)
                    } catch {
                        try spool.putBack(job, attempts: attempts)
                        logger.notice("stopped while waiting to retry; put back into incoming/")
                        return .putBack
                    }
                    continue
                }
                return try fail(job, JobFailure(error), model: request.chat.model, attempts: attempts, partialBytes: written, metadata: request.metadata, logger: logger)
            }
        }
    }

    private func fail(
        _ job: ClaimedJob, _ failure: JobFailure, model: String?, attempts: Int, partialBytes: Int, metadata: JSONValue?, logger: Logger
    ) throws -> Outcome {
        try spool.finishFailed(job, partialBytes: partialBytes, failure: failure, model: model, attempts: attempts, workerID: configuration.workerID, metadata: metadata)
        close(job.fd)
        logger.error("failed (\(failure.kind.rawValue)): \(failure.message)")
        return .failed(failure.kind)
    }

    /// Streams the reply into the partial file, one write per chunk, under the job's deadline.
    private func stream(
        _ request: JobRequest, into fd: Int32, path: String, written: inout Int, deadline: ContinuousClock.Instant?,
        startedAt: Date
    ) async throws -> ReplySummary {
        let provider = self.provider
        let counter = ByteCounter()
        let body: @Sendable () async throws -> ReplySummary = {
            var summary = ReplySummary(model: request.chat.model, thinking: "", toolCalls: [], startedAt: startedAt)
            for try await chunk in provider.chatStream(request.chat) {
                if !chunk.textDelta.isEmpty {
                    try FileSystem.writeAll(fd, chunk.textDelta, path: path)
                    counter.add(chunk.textDelta.utf8.count)
                }
                summary.thinking += chunk.thinkingDelta
                summary.toolCalls += chunk.toolCalls
                if chunk.done {
                    summary.stopReason = chunk.stopReason
                    summary.usage = chunk.usage
                    summary.timings = chunk.timings
                }
            }
            return summary
        }
        defer { written = counter.value }
        guard let deadline, let timeout = request.timeout else { return try await body() }
        return try await withThrowingTaskGroup(of: ReplySummary?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                throw ModelError.timeout(.deadline, seconds: timeout.seconds)
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }
}

/// Counts reply bytes written by a stream that may run in a child task.
final class ByteCounter: Sendable {
    private let count = Mutex(0)
    func add(_ n: Int) { count.withLock { $0 += n } }
    var value: Int { count.withLock { $0 } }
}
