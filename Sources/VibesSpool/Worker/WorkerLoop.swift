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

/// The worker's loop: one task reading one event stream. Everything it changes is one value,
/// ``State`` (the ``Scheduler`` with the jobs and batch lines held between their attempts), which
/// only this task touches, so it needs no locks. Effects run as child tasks of one discarding
/// task group (see `WorkerLoop+Effects.swift`): they get copies of what they need, and only send
/// events back.
final class WorkerLoop {
    let worker: SpoolWorker
    let io: SpoolIO
    /// One per host, in the configuration's order.
    let runners: [JobRunner]
    /// Batches a crashed worker left in `active/`, opened at start.
    let resumedBatches: [BatchClaim]
    let startedAt = Date()
    /// The loop's state: changed by the loop's handlers, and by nothing else.
    var state: State

    var configuration: WorkerConfiguration { worker.configuration }
    var logger: Logger { worker.logger }

    init(worker: SpoolWorker, io: SpoolIO, resumedBatches: [BatchClaim] = []) {
        self.worker = worker
        self.io = io
        self.resumedBatches = resumedBatches
        let hosts = worker.configuration.effectiveHosts
        self.runners = zip(hosts, worker.providers).map { host, provider in
            JobRunner(configuration: worker.configuration, io: io, logger: worker.logger, provider: provider, hostURL: host.url, metrics: worker.metrics)
        }
        self.state = State(
            scheduler: Scheduler(hosts: hosts.map { ($0.url, $0.concurrency) }, options: worker.configuration.schedulerOptions, now: Self.now()))
    }

    /// The time the scheduler runs on (see ``WallClock``).
    static func now() -> ContinuousClock.Instant { .now }

    func run() async throws {
        let spool = configuration.spool
        let worker = self.worker
        // Watch first, then scan: a file dropped in between is seen by one or the other.
        // A request is read for the scheduler where inotify reports it, on the watcher's own
        // thread: no trip to the pool and back per file dropped.
        let watcher: InotifyWatcher? =
            configuration.once
            ? nil
            : try InotifyWatcher(directory: spool.incoming, cancelDirectory: spool.cancel) { event in
                switch event {
                case .cancel(let name): worker.send(.cancels([name]))
                case .file(let name) where SpoolDirectory.isRequestName(name):
                    if let request = spool.peek(name) { worker.send(.scheduler(.queued([request]))) }
                case .file(let name): worker.send(.files([name]))
                case .overflow: worker.send(.rescan(reason: "inotify queue overflow"))
                }
            }
        let queued: [QueuedRequest]
        let queuedBatches: [String]
        do {
            queued = try await io.scan()
            queuedBatches = try await io.run { try spool.queuedBatches() }
            try publish()
        } catch {
            await watcher?.stop()
            throw error
        }
        worker.notifier.send("READY=1")
        worker.readiness.continuation.finish()
        let hosts = configuration.effectiveHosts.map { "\($0.url) (concurrency \($0.concurrency))" }.joined(separator: ", ")
        logger.info("watching \(spool.incoming); Ollama at \(hosts); order \(configuration.order.rawValue); \(queued.count) job(s) queued")

        await runEvents(queued: queued, queuedBatches: queuedBatches)
        await closeBatches()
        await watcher?.stop()
        try? FileSystem.remove(WorkerStateFile.path(in: spool, host: hostName(), pid: getpid()))
        let summary = worker.summary
        logger.info("worker stopped: \(summary.done) done, \(summary.failed) failed")
    }

    private func runEvents(queued: [QueuedRequest], queuedBatches: [String]) async {
        await withDiscardingTaskGroup { group in
            perform(state.scheduler.start(now: Self.now()), &group)
            perform(state.scheduler.handle(.queued(queued), now: Self.now()), &group)
            for claim in resumedBatches { openBatch(name: nil, resumed: claim, &group) }
            for name in queuedBatches { openBatch(name: name, resumed: nil, &group) }
            listCancels(&group)
            startTimers(&group)
            startPolling(seen: queued.map(\.name) + queuedBatches, &group)
            if !state.exited {
                for await event in worker.events.stream {
                    handle(event, &group)
                    if state.exited { break }
                    armPublish(&group)
                }
            }
            group.cancelAll()
        }
    }

    func handle(_ event: SpoolWorker.Event, _ group: inout DiscardingTaskGroup) {
        switch event {
        case .scheduler(let event):
            switch event {
            case .jobEnded(let token, let outcome) where token.isLine:
                // A batch line: the batch counts, when it is done.
                state.linesOut.remove(token)
                lineEnded(token, outcome, &group)
                return
            case .jobEnded(let token, let outcome):
                state.running[token] = nil
                state.contexts[token] = nil
                cancelledJobEnded(token, outcome, &group)
                state.changed = true
                worker.record { summary in
                    switch outcome {
                    case .done: summary.done += 1
                    case .failed(let unreachable):
                        summary.failed += 1
                        if unreachable { summary.ollamaUnreachable = true }
                    case .putBack: break
                    }
                }
            case .claimEnded(let token):
                state.running[token] = nil
                if let name = state.scheduler.jobs[token]?.name { claimLost(name) }
                state.signals[token] = nil
                state.cancelAsked[token] = nil
            case .queued(let requests):
                sawQueued(requests.map(\.name))
            default: break
            }
            perform(state.scheduler.handle(event, now: Self.now()), &group)
        case .files(let names):
            for name in names where SpoolDirectory.isBatchName(name) { openBatch(name: name, resumed: nil, &group) }
            let (io, worker) = (self.io, self.worker)
            group.addTask {
                guard let requests = try? await io.peek(names), !requests.isEmpty else { return }
                worker.send(.scheduler(.queued(requests)))
            }
        case .listed(let listed):
            self.listed(listed, &group)
        case .rescan(let reason):
            if let reason { logger.warning("rescanning: \(reason)") }
            rescan(&group)
        case .attemptStarted(let token, let id, let host, let model):
            state.running[token] = WorkerStateFile.Running(id: id, host: configuration.effectiveHosts[host].url, model: model)
            state.changed = true
        case .attemptFailed(let token, let context, let failure):
            state.running[token] = nil
            state.signals[token] = nil
            state.contexts[token] = context
            state.changed = true
            perform(state.scheduler.handle(.attemptFailed(token: token, failure), now: Self.now()), &group)
        case .batchOpened(let run, let key):
            batchOpened(run, key: key, &group)
        case .batchLines(let id, let read, let exhausted):
            batchLines(id, read, exhausted: exhausted, &group)
        case .batchClosed(let key, let id):
            batchClosed(key: key, id: id, &group)
        case .lineSettled(let token, let record, let generated):
            state.linesOut.remove(token)
            lineSettled(token, record, generated: generated, &group)
        case .linesRecorded(let id, let recorded):
            linesRecorded(id, recorded, &group)
        case .lineFailed(let token, let error):
            state.linesOut.remove(token)
            guard var held = state.lines[token] else { return }
            held.attempts += 1
            held.lastError = error
            state.lines[token] = held
            perform(state.scheduler.handle(.attemptFailed(token: token, AttemptFailure(error, attempts: held.attempts, deadline: nil)), now: Self.now()), &group)
        case .cancels(let names):
            cancelsReported(names, &group)
        case .cancelsRead(let seen):
            cancelsRead(seen, &group)
        case .batchCancelRecorded(let id):
            batchCancelRecorded(id, &group)
        case .batchCancelFailed(let id):
            batchCancelFailed(id, &group)
        case .publish:
            state.publishArmed = false
            if state.changed { try? publish() }
            updateStatus()
            tickBatches(&group)
        case .heartbeat:
            try? publish()
        case .watchdog:
            worker.notifier.send("WATCHDOG=1")
        case .shutdown:
            guard !state.scheduler.stopping else { return }
            worker.notifier.send("STOPPING=1")
            logger.notice("stopping: no new claims; \(state.running.count) running job(s) and \(state.linesOut.count) batch line(s) get \(configuration.grace) to finish")
            let (grace, worker) = (configuration.grace, self.worker)
            group.addTask {
                try? await Task.sleep(for: grace)
                if !Task.isCancelled { worker.send(.graceExpired) }
            }
            perform(state.scheduler.handle(.shutdown, now: Self.now()), &group)
        case .graceExpired:
            logger.notice("grace period over: cancelling \(state.running.count) job(s) and \(state.linesOut.count) batch line(s); they go back to incoming/ (the lines run when the batch resumes)")
            group.cancelAll()
        }
    }

    func rescan(_ group: inout DiscardingTaskGroup) {
        let (io, worker, logger) = (self.io, self.worker, self.logger)
        group.addTask {
            do {
                let recovered = try await io.recoverOrphans()
                if !recovered.isEmpty { logger.notice("recovered orphaned job(s): \(recovered.joined(separator: ", "))") }
                worker.send(.scheduler(.queued(try await io.scan())))
                let queuedBatches = try await io.run { try io.spool.queuedBatches() }
                if !queuedBatches.isEmpty { worker.send(.files(queuedBatches)) }
                let cancels = await WorkerLoop.seen(try await io.run { try io.spool.listCancels() }, io: io, worker: worker)
                if !cancels.isEmpty { worker.send(.cancelsRead(cancels)) }
            } catch {
                logger.error("rescan failed: \(error)")
            }
            worker.send(.scheduler(.refreshDue))
        }
    }
}
