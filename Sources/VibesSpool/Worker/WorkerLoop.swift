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

/// The worker's loop: one task reading one event stream, holding the ``Scheduler`` and the jobs
/// between their attempts, so its state needs no locks. Effects run as child tasks of one
/// discarding task group (see `WorkerLoop+Effects.swift`); they only send events back.
final class WorkerLoop {
    let worker: SpoolWorker
    let io: SpoolIO
    /// One per host, in the configuration's order.
    let runners: [JobRunner]
    var scheduler: Scheduler
    /// Claimed jobs between attempts (retrying, or failing).
    var contexts: [WorkID: JobContext] = [:]
    /// Attempts under way, for `status`.
    var running: [WorkID: WorkerStateFile.Running] = [:]
    /// Claiming paused (every host down after a failure, or the disk full).
    var pause: (reason: String, since: Date)?
    var exited = false
    var batches: [String: OpenBatch] = [:]
    /// Batch lines the scheduler holds.
    var lines: [WorkID: LineState] = [:]
    /// Lines handed to the scheduler so far: the last ``WorkID/line(_:)`` number given.
    var linesQueued = 0
    /// Batch lines whose attempt is under way (see `startAttempt`), for the stop's log lines.
    var linesOut: Set<WorkID> = []
    /// Jobs' attempts under way (from their start to their end), for a cancel request.
    var signals: [WorkID: CancelSignal] = [:]
    /// Jobs a cancel request was handed to the scheduler for, until they end.
    var cancelAsked: [WorkID: CancelRequest] = [:]
    /// Batches a crashed worker left in `active/`, opened at start.
    let resumedBatches: [BatchClaim]
    var stateChanged = true
    /// A publish is due within a second (see `armPublish`).
    var publishArmed = false
    var lastStatus = ""
    /// The polled folders' last listings, by path (empty: no polling).
    var listings: [String: FolderListing] = [:]
    let startedAt = Date()

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
        self.scheduler = Scheduler(hosts: hosts.map { ($0.url, $0.concurrency) }, options: worker.configuration.schedulerOptions, now: Self.now())
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
            perform(scheduler.start(now: Self.now()), &group)
            perform(scheduler.handle(.queued(queued), now: Self.now()), &group)
            for claim in resumedBatches { openBatch(name: nil, resumed: claim, &group) }
            for name in queuedBatches { openBatch(name: name, resumed: nil, &group) }
            listCancels(&group)
            startTimers(&group)
            startPolling(seen: queued.map(\.name) + queuedBatches, &group)
            if !exited {
                for await event in worker.events.stream {
                    handle(event, &group)
                    if exited { break }
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
                linesOut.remove(token)
                lineEnded(token, outcome, &group)
                return
            case .jobEnded(let token, let outcome):
                running[token] = nil
                contexts[token] = nil
                cancelledJobEnded(token, outcome, &group)
                stateChanged = true
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
                running[token] = nil
                if let name = scheduler.jobs[token]?.name { claimLost(name) }
                signals[token] = nil
                cancelAsked[token] = nil
            case .queued(let requests):
                sawQueued(requests.map(\.name))
            default: break
            }
            perform(scheduler.handle(event, now: Self.now()), &group)
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
            running[token] = WorkerStateFile.Running(id: id, host: configuration.effectiveHosts[host].url, model: model)
            stateChanged = true
        case .attemptFailed(let token, let context, let failure):
            running[token] = nil
            signals[token] = nil
            contexts[token] = context
            stateChanged = true
            perform(scheduler.handle(.attemptFailed(token: token, failure), now: Self.now()), &group)
        case .batchOpened(let run, let key):
            batchOpened(run, key: key, &group)
        case .batchLines(let id, let read, let exhausted):
            batchLines(id, read, exhausted: exhausted, &group)
        case .batchClosed(let key, let id):
            batchClosed(key: key, id: id, &group)
        case .lineSettled(let token, let record, let generated):
            linesOut.remove(token)
            lineSettled(token, record, generated: generated, &group)
        case .linesRecorded(let id, let recorded):
            linesRecorded(id, recorded, &group)
        case .lineFailed(let token, let error):
            linesOut.remove(token)
            guard var state = lines[token] else { return }
            state.attempts += 1
            state.lastError = error
            lines[token] = state
            perform(scheduler.handle(.attemptFailed(token: token, AttemptFailure(error, attempts: state.attempts, deadline: nil)), now: Self.now()), &group)
        case .cancels(let names):
            cancelsReported(names, &group)
        case .cancelsRead(let seen):
            cancelsRead(seen, &group)
        case .batchCancelRecorded(let id):
            batchCancelRecorded(id, &group)
        case .batchCancelFailed(let id):
            batchCancelFailed(id, &group)
        case .publish:
            publishArmed = false
            if stateChanged { try? publish() }
            updateStatus()
            tickBatches(&group)
        case .heartbeat:
            try? publish()
        case .watchdog:
            worker.notifier.send("WATCHDOG=1")
        case .shutdown:
            guard !scheduler.stopping else { return }
            worker.notifier.send("STOPPING=1")
            logger.notice("stopping: no new claims; \(running.count) running job(s) and \(linesOut.count) batch line(s) get \(configuration.grace) to finish")
            let (grace, worker) = (configuration.grace, self.worker)
            group.addTask {
                try? await Task.sleep(for: grace)
                if !Task.isCancelled { worker.send(.graceExpired) }
            }
            perform(scheduler.handle(.shutdown, now: Self.now()), &group)
        case .graceExpired:
            logger.notice("grace period over: cancelling \(running.count) job(s) and \(linesOut.count) batch line(s); they go back to incoming/ (the lines run when the batch resumes)")
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
                let batches = try await io.run { try io.spool.queuedBatches() }
                if !batches.isEmpty { worker.send(.files(batches)) }
                let cancels = await WorkerLoop.seen(try await io.run { try io.spool.listCancels() }, io: io, worker: worker)
                if !cancels.isEmpty { worker.send(.cancelsRead(cancels)) }
            } catch {
                logger.error("rescan failed: \(error)")
            }
            worker.send(.scheduler(.refreshDue))
        }
    }
}
