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

/// The scheduler's actions as effects: child tasks that do the I/O and send events back.
extension WorkerLoop {
    func perform(_ actions: [SchedulerAction], _ group: inout DiscardingTaskGroup) {
        for action in actions {
            switch action {
            case .start(let token, _, let host) where token.isLine:
                guard let held = state.lines[token] else { continue }
                startAttempt(token, held, host: host, &group)
            case .fail(let token, _, let reason) where token.isLine:
                guard let held = state.lines[token] else { continue }
                let failure = Self.failure(reason, model: held.model ?? "", lastError: held.lastError)
                lineSettled(token, BatchRecord(held.line, .failed(failure), host: nil), generated: false, &group)
            case .putBack(let token) where token.isLine:
                // A line not recorded runs again when the batch resumes.
                worker.send(.scheduler(.jobEnded(token: token, outcome: .putBack)))
            case .start(let token, let name, let host):
                let context = name == nil ? state.contexts.removeValue(forKey: token) : nil
                let signal = CancelSignal()
                state.signals[token] = signal
                Self.spawn(.start(token: token, name: name, context: context, host: host, signal: signal), runners, io, worker, &group)
            case .cancelAttempt(let token, let request):
                state.signals[token]?.fire(request)
            case .startGroup(let members, let host):
                startGroup(members, host: host, &group)
            case .fail(let token, let name, let reason):
                let context = name == nil ? state.contexts.removeValue(forKey: token) : nil
                Self.spawn(.fail(token: token, name: name, context: context, reason: reason), runners, io, worker, &group)
            case .putBack(let token):
                let context = state.contexts.removeValue(forKey: token)
                Self.spawn(.putBack(token: token, context: context, paused: !state.scheduler.stopping), runners, io, worker, &group)
            case .refreshModels(let host):
                Self.spawn(.refresh(host: host), runners, io, worker, &group)
            case .probe(let host, let delay):
                Self.spawn(.probe(host: host, after: delay), runners, io, worker, &group)
            case .probeDisk(let delay):
                Self.spawn(.probeDisk(after: delay), runners, io, worker, &group)
            case .wake(let at):
                Self.spawn(.wake(after: max(.zero, at - .now)), runners, io, worker, &group)
            case .log(let notice):
                log(notice)
            case .exit:
                state.exited = true
            }
        }
    }

    /// An action with what its task needs, taken out of the loop's state.
    enum Effect: Sendable {
        case start(token: WorkID, name: String?, context: JobContext?, host: Int?, signal: CancelSignal)
        /// A job's attempt as a member of a group: its embedding call goes to `meeting`.
        case member(token: WorkID, name: String?, context: JobContext?, host: Int, meeting: EmbedMeeting, seat: Int, signal: CancelSignal)
        case fail(token: WorkID, name: String?, context: JobContext?, reason: FailReason)
        /// `paused`: put back by a pause (else by a shutdown).
        case putBack(token: WorkID, context: JobContext?, paused: Bool)
        case refresh(host: Int)
        case probe(host: Int, after: Duration)
        case probeDisk(after: Duration)
        case wake(after: Duration)
    }

    static func spawn(_ effect: Effect, _ runners: [JobRunner], _ io: SpoolIO, _ worker: SpoolWorker, _ group: inout DiscardingTaskGroup) {
        group.addTask {
            switch effect {
            case .start(let token, let name, let context, let host, let signal):
                await start(token: token, name: name, context: context, host: host, signal: signal, runner: runners[host ?? 0], worker: worker)
            case .member(let token, let name, let context, let host, let meeting, let seat, let signal):
                defer { meeting.leave(seat) }
                await member(
                    token: token, name: name, context: context, host: host, runner: runners[host], meeting: meeting, seat: seat, signal: signal,
                    worker: worker)
            case .fail(let token, let name, let context, let reason):
                await fail(token: token, name: name, context: context, reason: reason, runner: runners[0], worker: worker)
            case .putBack(let token, let context, let paused):
                var back: String?
                if let context { back = await runners[0].putBack(context, reason: paused ? "paused, so not held" : "stopping") }
                worker.send(.scheduler(.jobEnded(token: token, outcome: .putBack)))
                // Queued here again too (unclaimed, as any file in incoming/): whichever worker
                // can run it first takes it (this one once its pause ends; `--once` has no watcher).
                if paused, let back { worker.send(.files([back])) }
            case .refresh(let host):
                worker.send(.scheduler(await refresh(host, worker.providers[host])))
            case .probe(let host, let delay):
                guard await sleep(delay) else { return }
                do {
                    try await worker.providers[host].probe()
                    worker.send(.scheduler(.hostAnswered(host: host)))
                } catch let error as ModelError where error.isConnectionProblem {
                    worker.send(.scheduler(.hostUnreachable(host: host)))
                } catch {
                    worker.send(.scheduler(.hostAnswered(host: host)))
                }
            case .probeDisk(let delay):
                guard await sleep(delay) else { return }
                worker.send(.scheduler(.diskProbed(ok: await io.hasRoom())))
            case .wake(let delay):
                guard await sleep(delay) else { return }
                worker.send(.scheduler(.tick))
            }
        }
    }

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

    /// Sleeps `delay`; false when cancelled.
    private static func sleep(_ delay: Duration) async -> Bool {
        (try? await Task.sleep(for: delay)) != nil
    }

    private static func start(
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

    private static func fail(token: WorkID, name: String?, context: JobContext?, reason: FailReason, runner: JobRunner, worker: SpoolWorker) async {
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

    private static func refresh(_ host: Int, _ provider: any ModelProvider) async -> SchedulerEvent {
        do {
            let installed = try await provider.installedModels()
            let loaded = (try? await provider.loadedModels()) ?? []
            return .hostModels(host: host, installed: installed, loaded: loaded.map(\.name))
        } catch let error as ModelError where error.isConnectionProblem {
            return .hostUnreachable(host: host)
        } catch {
            // It answers, but not with a list: any model may be there.
            return .hostModels(host: host, installed: nil, loaded: [])
        }
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
