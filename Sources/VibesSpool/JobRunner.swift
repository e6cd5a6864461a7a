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
import NIOPosix
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
    /// Threads for the commits' fsyncs, which must not block the few threads of Swift's
    /// concurrency pool (the streams, the HTTP client's tasks and the worker loop run there).
    let blockingIO: NIOThreadPool

    var spool: SpoolDirectory { configuration.spool }

    /// Runs the job. `generationEnded` is called once the job no longer needs Ollama (its reply
    /// is in, or it failed, or it is being put back), before the commit's fsyncs: the scheduler
    /// gives the Ollama slot to the next job while this one commits. Its argument says that
    /// Ollama could not be reached, so that the scheduler pauses before it claims again.
    func run(_ claimed: ClaimedJob, generationEnded: @escaping @Sendable (_ ollamaUnreachable: Bool) -> Void) async -> Outcome {
        var job = claimed
        var logger = logger
        logger[metadataKey: "job"] = "\(job.id)"
        let once = Once()
        let generationEnded: @Sendable (Bool) -> Void = { if once.first() { generationEnded($0) } }
        defer { generationEnded(false) }
        do {
            return try await run(&job, logger: &logger, generationEnded: generationEnded)
        } catch {
            // A file-system error (disk full, permissions): give the job back rather than lose it.
            logger.error("spool error, the job goes back to incoming/ for another try: \(error)")
            try? spool.putBack(job, attempts: job.previousAttempts + 1)
            return .putBack
        }
    }

    private func run(_ job: inout ClaimedJob, logger: inout Logger, generationEnded: @Sendable (Bool) -> Void) async throws -> Outcome {
        let limit = configuration.maxRequestBytes
        guard job.size <= limit else {
            let invalid = InvalidRequest(field: nil, "the file is \(job.size) bytes, over the limit of \(limit) bytes (--max-request-bytes)")
            generationEnded(false)
            return try await fail(job, JobFailure(invalid), model: nil, attempts: job.previousAttempts + 1, partialBytes: 0, metadata: nil, logger: logger)
        }
        let bytes = try FileSystem.readAll(job.fd, limit: limit + 1, path: "\(spool.active)/\(job.id).json")
        let request: JobRequest
        do {
            request = try JobRequest.parse(bytes)
        } catch let invalid as InvalidRequest {
            let salvaged = JobRequest.salvage(bytes)
            try spool.rename(&job, to: salvaged.id ?? job.id)
            logger[metadataKey: "job"] = "\(job.id)"
            generationEnded(false)
            return try await fail(
                job, JobFailure(invalid), model: salvaged.model, attempts: job.previousAttempts + 1, partialBytes: 0,
                metadata: salvaged.metadata, logger: logger)
        }
        try spool.rename(&job, to: request.id ?? job.id)
        logger[metadataKey: "job"] = "\(job.id)"
        logger.debug("claimed \(job.originalName), model \(request.chat.model)")

        let startedAt = Date()
        let deadline = request.timeout.map { ContinuousClock.now + $0 }
        var attempts = job.previousAttempts
        var retry = 0
        while true {
            attempts += 1
            if attempts > 1 { try FileSystem.writeFile(spool.attemptsFile(activeID: job.id), "\(attempts)\n") }
            let partial = PartialFile(path: "\(spool.active)/\(job.id).partial")
            defer { partial.close() }
            do {
                let reply = try await stream(request, into: partial, deadline: deadline, startedAt: startedAt)
                generationEnded(false)
                let (spool, finished, fd, workerID, metadata, count) = (spool, job, partial.fd, configuration.workerID, request.metadata, attempts)
                try await blockingIO.runIfActive {
                    try spool.finishDone(finished, partialFD: fd, reply: reply, attempts: count, workerID: workerID, metadata: metadata)
                }
                close(job.fd)
                logger.info("done: \(partial.written) bytes, attempt \(attempts)")
                return .done
            } catch is CancellationError {
                partial.close()  // before putBack removes it
                generationEnded(false)
                try spool.putBack(job, attempts: attempts)
                logger.notice("stopped; put back into incoming/ (attempt \(attempts) kept)")
                return .putBack
            } catch let error as ModelError {
                retry += 1
                let delay = configuration.backoff(retry: retry)
                let fitsDeadline = deadline.map { ContinuousClock.now + delay < $0 } ?? true
                if error.isRetryable && attempts <= configuration.retries && fitsDeadline {
                    logger.warning("attempt \(attempts) failed (\(error)); retrying in \(delay)")
                    do {
                        try await Task.sleep(for: delay)
                    } catch {
                        generationEnded(false)
                        try spool.putBack(job, attempts: attempts)
                        logger.notice("stopped while waiting to retry; put back into incoming/")
                        return .putBack
                    }
                    continue
                }
                generationEnded(error.isConnectionProblem)
                return try await fail(job, JobFailure(error), model: request.chat.model, attempts: attempts, partialBytes: partial.written, metadata: request.metadata, logger: logger)
            }
        }
    }

    private func fail(
        _ job: ClaimedJob, _ failure: JobFailure, model: String?, attempts: Int, partialBytes: Int, metadata: JSONValue?, logger: Logger
    ) async throws -> Outcome {
        let (spool, workerID) = (spool, configuration.workerID)
        try await blockingIO.runIfActive {
            try spool.finishFailed(job, partialBytes: partialBytes, failure: failure, model: model, attempts: attempts, workerID: workerID, metadata: metadata)
        }
        close(job.fd)
        logger.error("failed (\(failure.kind.rawValue)): \(failure.message)")
        return .failed(failure.kind)
    }
}

/// True the first time only.
final class Once: Sendable {
    private let done = Mutex(false)
    func first() -> Bool {
        done.withLock { done in
            defer { done = true }
            return !done
        }
    }
}
