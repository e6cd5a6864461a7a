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
import VibesModels

/// A job this worker holds (claimed and read), between its attempts.
struct JobContext: Sendable {
    var job: ClaimedJob
    var request: JobRequest
    /// Attempts started, counting earlier claims'.
    var attempts: Int
    let startedAt: Date
    /// The job's own `timeout`, as an instant.
    let deadline: ContinuousClock.Instant?
    var lastError: ModelError?
    /// Reply bytes the last attempt wrote.
    var partialBytes = 0
    /// The base URL of the host of the last attempt.
    var host: String?
}

/// Claims, runs and commits jobs, one step at a time; the scheduler decides between the steps.
/// Its `provider` is the host the attempts go to.
struct JobRunner: Sendable {
    /// A claim (``ClaimOutcome``) as the scheduler hears of it: the job runs, or it ended at
    /// its claim (failed or put back: ``SchedulerEvent/jobEnded(token:outcome:)``), or was never
    /// this worker's (``SchedulerEvent/claimEnded(token:)``).
    enum Claimed: Sendable {
        /// Gone (another worker took it), or the claim failed and the file stays in `incoming/`.
        case lost
        /// It ended at its claim: not a request, too big, invalid or cancelled (failed), or put
        /// back after a spool error.
        case ended(JobOutcome)
        case ready(JobContext)
    }

    enum Attempt: Sendable {
        /// The reply is in the partial file, still open for the commit.
        case replied(ReplySummary, PartialFile)
        /// An embedding job's vectors.
        case embedded(EmbedResponse)
        case failed(ModelError)
        case cancelled
        /// The spool's file system failed (a full disk, permissions).
        case spoolError(any Error)
    }

    let configuration: WorkerConfiguration
    let io: SpoolIO
    let logger: Logger
    let provider: any ModelProvider
    let hostURL: String
    let metrics: SpoolMetrics?
    /// Set for a member of a group: where its embedding call goes instead of the provider.
    var embedder: Embedder?

    var spool: SpoolDirectory { configuration.spool }

    func claim(_ name: String) async -> Claimed {
        let limit = configuration.maxRequestBytes
        let read: ClaimOutcome<ClaimedRequest>
        do {
            read = try await io.claimAndRead(name, workerID: configuration.workerID, limit: limit)
        } catch {
            logger.error("cannot claim incoming/\(name): \(error)")
            return .lost
        }
        switch read {
        case .lost:
            return .lost
        case .rejected(let id, let reason):
            logger.error("failed (invalid_request): \(reason)", metadata: ["job": "\(id)"])
            return .ended(.failed(unreachable: false))
        case .claimed(.spoolError(let job, let error)):
            return await putBackAfterClaim(job, error)
        case .claimed(.tooBig(let job)):
            let invalid = InvalidRequest(field: nil, "the file is \(job.size) bytes, over the limit of \(limit) bytes (--max-request-bytes)")
            return .ended(await fail(job, JobFailure(invalid), model: nil, attempts: job.previousAttempts + 1, partialBytes: 0, metadata: nil) ?? .putBack)
        case .claimed(.invalid(var job, let bytes, let invalid)):
            let salvaged = JobRequest.salvage(bytes)
            do {
                job = try await io.rename(job, to: salvaged.id ?? job.id)
            } catch {
                return await putBackAfterClaim(job, "\(error)")
            }
            return .ended(
                await fail(
                    job, JobFailure(invalid), model: salvaged.model, attempts: job.previousAttempts + 1, partialBytes: 0,
                    metadata: salvaged.metadata) ?? .putBack)
        case .claimed(.cancelled(let job, let request, let bytes, let cancel)):
            let salvaged = request == nil ? JobRequest.salvage(bytes) : nil
            let outcome = await fail(
                job, cancel.failure(at: Date()), model: request?.chat.model ?? salvaged?.model, attempts: job.previousAttempts,
                partialBytes: 0, metadata: request?.metadata ?? salvaged?.metadata)
            if outcome != nil && outcome != .putBack { await io.removeCancel(cancel) }
            return .ended(outcome ?? .putBack)
        case .claimed(.ready(let job, let request)):
            logger.debug("claimed \(job.originalName), model \(request.chat.model)", metadata: ["job": "\(job.id)"])
            let startedAt = Date()
            return .ready(
                JobContext(
                    job: job, request: request, attempts: job.previousAttempts, startedAt: startedAt,
                    deadline: request.timeout.map { ContinuousClock.now + $0 }))
        }
    }

    private func putBackAfterClaim(_ job: ClaimedJob, _ error: String) async -> Claimed {
        logger.error("spool error, the job goes back to incoming/: \(error)", metadata: ["job": "\(job.id)"])
        _ = try? await io.putBack(job, attempts: job.previousAttempts)
        return .ended(.putBack)
    }

    /// One attempt: the reply streamed into `active/ID.partial`, emptied first.
    func attempt(_ context: inout JobContext) async -> Attempt {
        context.attempts += 1
        context.host = hostURL
        let partial = PartialFile(path: "\(spool.active)/\(context.job.id).partial")
        do {
            if context.attempts > 1 { try await io.writeAttempts(context.job, context.attempts) }
            if let embed = context.request.embed {
                return .embedded(try await embedding(embed, deadline: context.deadline, timeout: context.request.timeout))
            }
            let reply = try await stream(context.request, into: partial, deadline: context.deadline, startedAt: context.startedAt)
            return .replied(reply, partial)
        } catch is CancellationError {
            // Kept for a cancel request (the partial goes to failed/ with the job).
            context.partialBytes = partial.written
            partial.close()
            return .cancelled
        } catch let error as ModelError {
            context.partialBytes = partial.written
            context.lastError = error
            partial.close()
            return .failed(error)
        } catch {
            context.partialBytes = partial.written
            partial.close()
            return .spoolError(error)
        }
    }

    /// `nil`: the disk is full; the partial is dropped and the job is still held.
    func commitDone(_ context: JobContext, reply: ReplySummary, partial: PartialFile) async -> JobOutcome? {
        defer { partial.close() }
        do {
            try await io.finishDone(context, partialFD: partial.fd, reply: reply, workerID: configuration.workerID)
        } catch {
            partial.close()
            return await cannotCommit(context.job, attempts: context.attempts, error)
        }
        close(context.job.fd)
        count(.done, kind: nil, model: context.request.chat.model, job: context.job, startedAt: context.startedAt, usage: reply.usage, timings: reply.timings)
        logger.info("done: \(partial.written) bytes, attempt \(context.attempts), \(hostURL)", metadata: ["job": "\(context.job.id)"])
        return .done
    }

    /// `nil`: the disk is full; the job is still held.
    func commitEmbedded(_ context: JobContext, _ response: EmbedResponse) async -> JobOutcome? {
        let (spool, workerID) = (spool, configuration.workerID)
        do {
            try await io.run {
                try spool.finishEmbedded(
                    context.job, response: response, startedAt: context.startedAt, attempts: context.attempts, workerID: workerID,
                    host: context.host, metadata: context.request.metadata)
            }
        } catch {
            return await cannotCommit(context.job, attempts: context.attempts, error)
        }
        close(context.job.fd)
        count(
            .done, kind: nil, model: context.request.chat.model, job: context.job, startedAt: context.startedAt,
            usage: Usage(promptTokens: response.promptTokens, completionTokens: nil), timings: response.timings)
        logger.info("done: \(response.embeddings.count) embedding(s), attempt \(context.attempts), \(hostURL)", metadata: ["job": "\(context.job.id)"])
        return .done
    }

    /// A commit failed: with a full disk the job is held (`nil`), else it goes back to `incoming/`.
    private func cannotCommit(_ job: ClaimedJob, attempts: Int, _ error: any Error) async -> JobOutcome? {
        if (error as? SpoolError)?.isDiskFull == true {
            logger.error("the spool's disk is full (\(error)); the job waits for room", metadata: ["job": "\(job.id)"])
            await io.discardPartial(job)
            return nil
        }
        logger.error("cannot commit the job, it goes back to incoming/: \(error)", metadata: ["job": "\(job.id)"])
        _ = try? await io.putBack(job, attempts: attempts)
        return .putBack
    }

    /// A cancel request ended the job: `failed/`, kind `cancelled`, its partial kept; the
    /// cancel file is removed once the job is committed. `nil`: the disk is full.
    func commitCancelled(_ context: JobContext, _ cancel: CancelRequest) async -> JobOutcome? {
        let outcome = await commitFailed(context, cancel.failure(at: Date()))
        if outcome != nil && outcome != .putBack { await io.removeCancel(cancel) }
        return outcome
    }

    /// `nil`: the disk is full; the job is still held.
    func commitFailed(_ context: JobContext, _ failure: JobFailure) async -> JobOutcome? {
        await fail(
            context.job, failure, model: context.request.chat.model, attempts: max(context.attempts, 1),
            partialBytes: context.partialBytes, metadata: context.request.metadata, host: context.host, holdWhenDiskFull: true)
    }

    private func fail(
        _ job: ClaimedJob, _ failure: JobFailure, model: String?, attempts: Int, partialBytes: Int, metadata: JSONValue?,
        host: String? = nil, holdWhenDiskFull: Bool = false
    ) async -> JobOutcome? {
        do {
            try await io.finishFailed(
                job, failure: failure, model: model, attempts: attempts, partialBytes: partialBytes,
                workerID: configuration.workerID, host: host, metadata: metadata)
        } catch {
            if holdWhenDiskFull { return await cannotCommit(job, attempts: attempts, error) }
            logger.error("cannot commit the failure, the job goes back to incoming/: \(error)", metadata: ["job": "\(job.id)"])
            _ = try? await io.putBack(job, attempts: attempts)
            return .putBack
        }
        close(job.fd)
        count(.failed, kind: failure.kind.rawValue, model: model ?? "", job: job, startedAt: nil, usage: nil, timings: nil)
        logger.error("failed (\(failure.kind.rawValue)): \(failure.message)", metadata: ["job": "\(job.id)"])
        return .failed(unreachable: failure.kind == .ollamaNotRunning)
    }

    /// Back into `incoming/`, attempt count kept; the name it got there.
    func putBack(_ context: JobContext, reason: String) async -> String? {
        do {
            let name = try await io.putBack(context.job, attempts: context.attempts)
            logger.notice("\(reason); put back into incoming/ (attempt \(context.attempts) kept)", metadata: ["job": "\(context.job.id)"])
            return name
        } catch {
            logger.error("cannot put the job back into incoming/ (\(error)); released, a rescan will find it", metadata: ["job": "\(context.job.id)"])
            return nil
        }
    }
}

extension JobRunner {
    /// A job's end in the metrics: outcome, durations (claim to end; drop to claim), tokens, load.
    func count(
        _ outcome: SpoolMetrics.Outcome, kind: String?, model: String, job: ClaimedJob, startedAt: Date?, usage: Usage?, timings: OllamaTimings?
    ) {
        guard let metrics else { return }
        let now = Date()
        let claimedAt = startedAt ?? now
        metrics.jobFinished(
            outcome: outcome, kind: kind, model: model, duration: now.timeIntervalSince(claimedAt),
            queueWait: max(0, claimedAt.timeIntervalSince(job.queuedAt)))
        if let usage { metrics.tokens(prompt: usage.promptTokens ?? 0, completion: usage.completionTokens ?? 0, model: model) }
        if let load = timings?.loadDuration { metrics.modelLoad(seconds: Double(load) / 1e9) }
        if outcome == .done { metrics.lastSuccess(at: now.timeIntervalSince1970) }
    }
}
