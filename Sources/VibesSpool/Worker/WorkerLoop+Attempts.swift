//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import VibesModels

/// Attempts, as child tasks of the loop's group that send their ends back as events: a job's
/// (claimed unless already held, run on its host, committed to `done/` or `failed/`, or held
/// for the scheduler's next decision) and a batch line's (its reply settles it; the batch
/// writes it). Also the error envelope's content for a failure the scheduler decided.
extension WorkerLoop {
    /// A line's attempt: a child task of the loop's group (cancelled with it at the grace's
    /// end: the line goes back), its end sent back as an event.
    /// `embedder`: a member of a group's (its embedding call goes to the group's meeting).
    func startAttempt(_ token: WorkID, _ held: LineState, host: Int?, embedder: Embedder? = nil, _ group: inout DiscardingTaskGroup) {
        let runner = runners[host ?? 0]
        let (worker, line, work, hostURL) = (self.worker, held.line, held.work, host == nil ? nil : runner.hostURL)
        // Run under the batch's cancel signal: a cancelled batch cancels its lines' tasks.
        let signal = state.batches[held.batch]?.signal ?? CancelSignal()
        state.linesOut.insert(token)
        group.addTask {
            let outcome: Result<LineReply, any Error> = await signal.run {
                do { return .success(try await lineReply(line, work: work, provider: runner.provider, embedder: embedder)) } catch { return .failure(error) }
            }
            switch outcome {
            case .success(let reply):
                // Built and encoded where it is written (see BatchRecord): the loop only gathers lines.
                worker.send(.lineSettled(token: token, BatchRecord(line, reply: reply, host: hostURL), generated: true))
            case .failure(is CancellationError):
                worker.send(.scheduler(.jobEnded(token: token, outcome: .putBack)))
            case .failure(let error as ModelError):
                worker.send(.lineFailed(token: token, error))
            case .failure(let error):
                worker.send(.lineSettled(token: token, BatchRecord(line, .failure(error), host: hostURL), generated: true))
            }
        }
    }

    static func start(
        token: WorkID, name: String?, context: JobContext?, host: Int?, signal: CancelSignal, runner: JobRunner, worker: SpoolWorker
    ) async {
        guard let context = await claimed(token: token, name: name, context: context, runner: runner, worker: worker) else { return }
        guard let host else {
            // Not a request when it was read, a valid one now: read it again.
            let back = await runner.putBack(context, reason: "changed since it was read")
            worker.send(.scheduler(.jobEnded(token: token, outcome: .putBack)))
            if let back { worker.send(.files([back])) }
            return
        }
        await attempt(token: token, context: context, host: host, signal: signal, runner: runner, worker: worker)
    }

    static func fail(token: WorkID, name: String?, context: JobContext?, reason: FailReason, runner: JobRunner, worker: SpoolWorker) async {
        guard let context = await claimed(token: token, name: name, context: context, runner: runner, worker: worker) else { return }
        guard let outcome = await runner.commitFailed(context, failure(reason, context)) else {
            worker.send(.attemptFailed(token: token, context, AttemptFailure(.diskFull, attempts: context.attempts)))
            return
        }
        if case .cancelled(let request) = reason, outcome != .putBack { await runner.io.removeCancel(request) }
        worker.send(.scheduler(.jobEnded(token: token, outcome: outcome)))
    }

    /// The job claimed and read (or already held); `nil` when it ended there (event sent).
    static func claimed(
        token: WorkID, name: String?, context: JobContext?, runner: JobRunner, worker: SpoolWorker
    ) async -> JobContext? {
        if let context { return context }
        guard let name else { return nil }
        switch await runner.claim(name) {
        case .lost:
            worker.send(.scheduler(.claimEnded(token: token)))
            return nil
        case .ended(let outcome):
            worker.send(.scheduler(.jobEnded(token: token, outcome: outcome)))
            return nil
        case .ready(let context):
            return context
        }
    }

    /// One attempt, cancelled as a task when a cancel request fires `signal`: then, unless its
    /// reply was already in (the job ends done), the job commits as cancelled, partial kept.
    static func attempt(token: WorkID, context: JobContext, host: Int, signal: CancelSignal, runner: JobRunner, worker: SpoolWorker) async {
        worker.send(.attemptStarted(token: token, id: context.job.id, host: host, model: context.request.chat.model))
        let (result, attempted) = await signal.run {
            var context = context
            if signal.request != nil { return (JobRunner.Attempt.cancelled, context) }
            let result = await runner.attempt(&context)
            return (result, context)
        }
        var context = attempted
        if let cancel = signal.request {
            switch result {
            case .replied, .embedded: break
            default:
                committed(await runner.commitCancelled(context, cancel), token: token, context: context, worker: worker)
                return
            }
        }
        switch result {
        case .replied(let reply, let partial):
            worker.send(.scheduler(.generationEnded(token: token)))
            committed(await runner.commitDone(context, reply: reply, partial: partial), token: token, context: context, worker: worker)
        case .embedded(let response):
            worker.send(.scheduler(.generationEnded(token: token)))
            committed(await runner.commitEmbedded(context, response), token: token, context: context, worker: worker)
        case .failed(let error):
            worker.send(.attemptFailed(token: token, context, AttemptFailure(error, attempts: context.attempts, deadline: context.deadline)))
        case .cancelled:
            _ = await runner.putBack(context, reason: "stopped")
            worker.send(.scheduler(.jobEnded(token: token, outcome: .putBack)))
        case .spoolError(let error) where (error as? SpoolError)?.isDiskFull == true:
            // Not the job's fault: it waits for room, and this attempt does not count.
            context.attempts -= 1
            runner.logger.error("the spool's disk is full (\(error)); the job waits for room", metadata: ["job": "\(context.job.id)"])
            await runner.io.discardPartial(context.job)
            worker.send(.attemptFailed(token: token, context, AttemptFailure(.diskFull, attempts: context.attempts)))
        case .spoolError(let error):
            let back = await runner.putBack(context, reason: "spool error (\(error))")
            // Queued again by this worker (not left for a rescan), after a growing pause: the
            // same error again must not make a loop.
            if let back { worker.send(.scheduler(.heldBack(name: back))) }
            worker.send(.scheduler(.jobEnded(token: token, outcome: .putBack)))
            if let back { worker.send(.files([back])) }
        }
    }

    /// After a commit: the job's end, or (`nil`: the disk is full) the job held, and this
    /// attempt not counted.
    private static func committed(_ outcome: JobOutcome?, token: WorkID, context: JobContext, worker: SpoolWorker) {
        guard let outcome else {
            var context = context
            context.attempts -= 1
            worker.send(.attemptFailed(token: token, context, AttemptFailure(.diskFull, attempts: context.attempts)))
            return
        }
        worker.send(.scheduler(.jobEnded(token: token, outcome: outcome)))
    }

    /// The error envelope's content for a failure the scheduler decided.
    static func failure(_ reason: FailReason, _ context: JobContext) -> JobFailure {
        failure(reason, model: context.request.chat.model, lastError: context.lastError)
    }

    static func failure(_ reason: FailReason, model: String, lastError: ModelError?) -> JobFailure {
        switch reason {
        case .cancelled(let request):
            return request.failure(at: Date())
        case .attemptError:
            return lastError.map(JobFailure.init) ?? JobFailure(kind: .ollamaError, message: "The job failed without an error from Ollama.")
        case .unreachable(let hosts):
            var detail: String?
            if case .notRunning(_, let cause) = lastError { detail = cause }
            return JobFailure(
                kind: .ollamaNotRunning, message: "Ollama not running at \(hosts.joined(separator: ", ")). Start it with `ollama serve`.",
                retryable: true, detail: detail)
        case .modelNotInstalled(let asked):
            var detail: String?
            if case .modelNotInstalled(_, let text) = lastError { detail = text }
            let hosts = asked.isEmpty ? "" : " Hosts asked: \(asked.joined(separator: ", "))."
            return JobFailure(
                kind: .modelNotInstalled, message: "Model '\(model)' is not installed. Run `ollama pull \(model)`.\(hosts)",
                httpStatus: 404, detail: detail ?? "model '\(model)' not found")
        }
    }
}
