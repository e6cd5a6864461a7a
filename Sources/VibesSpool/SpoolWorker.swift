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
import ServiceLifecycle
import Synchronization
import VibesModels

/// The spool worker: watches `incoming/`, claims jobs while a slot is free, runs them, and
/// pauses claiming while Ollama is unreachable.
///
/// Everything the worker decides happens in one loop over one event stream (files appearing,
/// rescans, jobs ending, Ollama coming back, timer ticks, shutdown), so its state needs no locks.
public final class SpoolWorker: Service, Sendable {
    /// How a run ended.
    public struct Summary: Sendable {
        public var done = 0
        public var failed = 0
        /// A job failed with `ollama_not_running` (in `--once` mode: the run stopped there).
        public var ollamaUnreachable = false

        /// 0 all done, 1 a job failed, 3 Ollama could not be reached.
        public var exitCode: Int32 { ollamaUnreachable ? 3 : failed > 0 ? 1 : 0 }
    }

    enum Event: Sendable {
        case file(String)
        case rescan(reason: String?)
        case generationEnded(token: Int, ollamaUnreachable: Bool)
        case jobEnded(token: Int, outcome: JobRunner.Outcome)
        case resumed
        case tick
        case shutdown
        case graceExpired
    }

    let configuration: WorkerConfiguration
    let provider: OllamaProvider
    let logger: Logger
    let notifier: SystemdNotifier
    let watchdogInterval: Duration?
    private let events = AsyncStream<Event>.makeStream(bufferingPolicy: .unbounded)
    private let result = Mutex(Summary())
    private let readiness = AsyncStream<Void>.makeStream()

    public init(configuration: WorkerConfiguration, provider: OllamaProvider, logger: Logger, environment: [String: String] = [:]) {
        self.configuration = configuration
        self.provider = provider
        self.logger = logger
        self.notifier = SystemdNotifier(environment: environment)
        self.watchdogInterval = SystemdNotifier.watchdogInterval(environment: environment)
    }

    /// Returns once the worker watches `incoming/` (or has ended). For one waiter.
    public func waitUntilReady() async {
        for await _ in readiness.stream {}
    }

    /// The outcome so far (final once ``run()`` has returned).
    public var summary: Summary { result.withLock { $0 } }

    /// Stop claiming, let running jobs finish within the grace period, put the rest back.
    public func requestShutdown() {
        events.continuation.yield(.shutdown)
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await self.runLoop()
        } onGracefulShutdown: {
            self.requestShutdown()
        }
    }

    private func runLoop() async throws {
        let spool = configuration.spool
        try spool.createLayout()
        try spool.recoverCommits()
        let recovered = try spool.recoverOrphans()
        if !recovered.isEmpty {
            logger.notice("recovered \(recovered.count) job(s) left in active/ by a worker that is gone: \(recovered.joined(separator: ", "))")
        }
        let continuation = events.continuation
        // Watch first, then scan: a file dropped in between is seen by one or the other.
        let watcher: InotifyWatcher? =
            configuration.once
            ? nil
            : try InotifyWatcher(directory: spool.incoming) { event in
                switch event {
                case .file(let name): continuation.yield(.file(name))
                case .overflow: continuation.yield(.rescan(reason: "inotify queue overflow"))
                }
            }
        let blockingIO = NIOThreadPool(numberOfThreads: max(2, configuration.concurrency))
        blockingIO.start()
        let state = LoopState(worker: self, blockingIO: blockingIO)
        do {
            state.enqueue(try spool.queuedRequests())
            try state.publish()
            notifier.send("READY=1")
            readiness.continuation.finish()
            logger.info("watching \(spool.incoming) (concurrency \(configuration.concurrency), Ollama at \(configuration.ollama.baseURL)); \(state.queued) job(s) queued")
            state.startTimers()
            state.fillSlots()
            if !state.shouldExit {
                for await event in events.stream {
                    state.handle(event)
                    state.fillSlots()
                    state.updateStatus()
                    if state.shouldExit { break }
                }
            }
        } catch {
            readiness.continuation.finish()
            await state.finish(watcher: watcher)
            try? await blockingIO.shutdownGracefully()
            throw error
        }
        await state.finish(watcher: watcher)
        try? await blockingIO.shutdownGracefully()
    }

    fileprivate func record(_ update: (inout Summary) -> Void) {
        result.withLock { update(&$0) }
    }

    fileprivate var continuation: AsyncStream<Event>.Continuation { events.continuation }
}

/// The worker loop's state; used only from the loop's task.
private final class LoopState {
    let worker: SpoolWorker
    let runner: JobRunner
    var pending: [String] = []
    var head = 0
    var pendingSet: Set<String> = []
    var running: [Int: Task<Void, Never>] = [:]
    /// Jobs that still need Ollama: at most `concurrency`. The others are committing.
    var generating: Set<Int> = []
    var nextToken = 0
    var stopping = false
    var paused: (reason: String, since: Date)?
    var timers: [Task<Void, Never>] = []
    var lastStatus = ""
    let startedAt = Date()

    init(worker: SpoolWorker, blockingIO: NIOThreadPool) {
        self.worker = worker
        self.runner = JobRunner(configuration: worker.configuration, provider: worker.provider, logger: worker.logger, blockingIO: blockingIO)
    }

    var configuration: WorkerConfiguration { worker.configuration }
    var logger: Logger { worker.logger }
    var queued: Int { pending.count - head }

    var shouldExit: Bool {
        guard running.isEmpty else { return false }
        if stopping { return true }
        return configuration.once && (queued == 0 || paused != nil)
    }

    func enqueue(_ names: [String]) {
        for name in names where SpoolDirectory.isRequestName(name) && !pendingSet.contains(name) {
            pendingSet.insert(name)
            pending.append(name)
        }
    }

    func handle(_ event: SpoolWorker.Event) {
        switch event {
        case .file(let name):
            enqueue([name])
        case .rescan(let reason):
            if let reason { logger.warning("rescanning: \(reason)") }
            rescan()
        case .generationEnded(let token, let ollamaUnreachable):
            generating.remove(token)
            if ollamaUnreachable { pause() }
        case .jobEnded(let token, let outcome):
            running[token] = nil
            generating.remove(token)
            switch outcome {
            case .done: worker.record { $0.done += 1 }
            case .failed:
                // An unreachable Ollama has already paused the worker (.generationEnded).
                worker.record { $0.failed += 1 }
            case .putBack: break
            }
        case .resumed:
            guard let paused else { return }
            logger.notice("resuming: Ollama answers at \(configuration.ollama.baseURL) again (paused since \(RFC3339.format(paused.since)))")
            self.paused = nil
            try? publish()
            rescan()
        case .tick:
            worker.notifier.send("WATCHDOG=1")
        case .shutdown:
            guard !stopping else { return }
            stopping = true
            worker.notifier.send("STOPPING=1")
            logger.notice("stopping: no new claims; \(running.count) running job(s) get \(configuration.grace) to finish")
            if !running.isEmpty {
                let grace = configuration.grace
                let continuation = worker.continuation
                timers.append(Task {
                    try? await Task.sleep(for: grace)
                    if !Task.isCancelled { continuation.yield(.graceExpired) }
                })
            }
        case .graceExpired:
            logger.notice("grace period over: cancelling \(running.count) job(s); they go back to incoming/")
            for task in running.values { task.cancel() }
        }
    }

    func rescan() {
        let spool = configuration.spool
        do {
            let recovered = try spool.recoverOrphans()
            if !recovered.isEmpty { logger.notice("recovered orphaned job(s): \(recovered.joined(separator: ", "))") }
            enqueue(try spool.queuedRequests())
        } catch {
            logger.error("rescan failed: \(error)")
        }
    }

    func pause() {
        worker.record { $0.ollamaUnreachable = true }
        guard paused == nil else { return }
        paused = ("Ollama not running at \(configuration.ollama.baseURL)", Date())
        try? publish()
        logger.error("pausing: Ollama not running at \(configuration.ollama.baseURL); \(queued) job(s) wait in incoming/. Start it with `ollama serve`.")
        guard !configuration.once else { return }
        let provider = worker.provider
        let configuration = self.configuration
        let continuation = worker.continuation
        timers.append(Task {
            var attempt = 0
            while !Task.isCancelled {
                attempt += 1
                try? await Task.sleep(for: configuration.backoff(retry: attempt))
                if (try? await provider.version()) != nil {
                    continuation.yield(.resumed)
                    return
                }
            }
        })
    }

    /// Claims jobs while an Ollama slot is free (so other workers on the spool get the rest).
    /// A job gives its slot back when its reply is in, and commits (fsyncs) while the next
    /// one is generated; at most `concurrency` more jobs may be committing.
    func fillSlots() {
        let limit = configuration.concurrency
        while !stopping && paused == nil && generating.count < limit && running.count < 2 * limit && head < pending.count {
            let name = pending[head]
            head += 1
            pendingSet.remove(name)
            if head > 1024 && head * 2 > pending.count {
                pending.removeFirst(head)
                head = 0
            }
            let result: SpoolDirectory.ClaimResult
            do {
                result = try configuration.spool.claim(name, workerID: configuration.workerID)
            } catch {
                logger.error("cannot claim incoming/\(name): \(error)")
                continue
            }
            switch result {
            case .lost:
                continue
            case .rejected(let id, let reason):
                worker.record { $0.failed += 1 }
                logger.error("failed (invalid_request): \(reason)", metadata: ["job": "\(id)"])
            case .claimed(let job):
                nextToken += 1
                let token = nextToken
                let runner = self.runner
                let continuation = worker.continuation
                generating.insert(token)
                running[token] = Task {
                    let outcome = await runner.run(job) { unreachable in
                        continuation.yield(.generationEnded(token: token, ollamaUnreachable: unreachable))
                    }
                    continuation.yield(.jobEnded(token: token, outcome: outcome))
                }
            }
        }
    }

    func startTimers() {
        let continuation = worker.continuation
        if !configuration.once, let interval = configuration.rescanInterval, interval > .zero {
            timers.append(Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if !Task.isCancelled { continuation.yield(.rescan(reason: nil)) }
                }
            })
        }
        if let watchdog = worker.watchdogInterval {
            // Pinged from the loop itself (on .tick), so a stuck loop is restarted.
            let period = watchdog / 3
            worker.notifier.send("WATCHDOG=1")
            timers.append(Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: period)
                    continuation.yield(.tick)
                }
            })
        }
    }

    func updateStatus() {
        guard worker.notifier.isEnabled else { return }
        let summary = worker.summary
        var line = "queued \(queued), running \(running.count), done \(summary.done), failed \(summary.failed)"
        if paused != nil { line += "; paused: Ollama not running at \(configuration.ollama.baseURL)" }
        guard line != lastStatus else { return }
        lastStatus = line
        worker.notifier.send("STATUS=\(line)")
    }

    func publish() throws {
        let state = WorkerStateFile(
            host: hostName(), pid: getpid(), startedAt: RFC3339.format(startedAt),
            paused: paused.map { .init(reason: $0.reason, since: RFC3339.format($0.since)) })
        try state.write(to: configuration.spool)
    }

    func finish(watcher: InotifyWatcher?) async {
        for task in running.values { task.cancel() }
        for task in running.values { await task.value }
        for timer in timers { timer.cancel() }
        await watcher?.stop()
        try? FileSystem.remove(WorkerStateFile.path(in: configuration.spool, host: hostName(), pid: getpid()))
        let summary = worker.summary
        logger.info("worker stopped: \(summary.done) done, \(summary.failed) failed")
    }
}
