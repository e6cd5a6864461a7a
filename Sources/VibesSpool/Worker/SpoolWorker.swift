//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
import VibesModels

/// The spool worker: watches `incoming/`, and runs jobs on the Ollama hosts as the
/// ``Scheduler`` decides. This type is the scheduler's driver: it feeds it events (files,
/// answers of hosts, ends of attempts, time) and turns its actions into effects, as child
/// tasks of one task group.
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

    /// What the worker's loop reacts to.
    enum Event: Sendable {
        case scheduler(SchedulerEvent)
        /// Names inotify reported (or the worker put back): read them for the scheduler.
        case files([String])
        case rescan(reason: String?)
        /// A poll's listings of the polled folders (`nil`: that folder could not be listed).
        case listed([(path: String, names: [String]?)])
        /// An attempt started: for `status`.
        case attemptStarted(token: WorkID, id: String, host: Int, model: String)
        /// An attempt failed; the loop keeps the job until the scheduler says what next.
        case attemptFailed(token: WorkID, JobContext, AttemptFailure)
        case batchOpened(BatchRun, key: String)
        case batchLines(id: String, [WorkerLoop.ReadLine], exhausted: Bool)
        /// The batch known by `key` is done (`id`), or never opened (`nil`).
        case batchClosed(key: String, id: String? = nil)
        /// An attempt of a batch line failed; the scheduler says what next.
        case lineFailed(token: WorkID, ModelError)
        /// A batch line's result, encoded for its file (`generated`: by an attempt just ended).
        case lineSettled(token: WorkID, BatchRecord, generated: Bool)
        /// A group of a batch's lines was appended (or not).
        case linesRecorded(batch: String, [WorkerLoop.RecordedLine])
        /// Names in `cancel/` (``FileName/escaped``): from inotify, a rescan, or a poll of a
        /// shared file system.
        case cancels([String])
        /// Cancel requests read, for the loop to decide on.
        case cancelsRead([WorkerLoop.SeenCancel])
        /// A batch's cancel is recorded in its progress (or could not be).
        case batchCancelRecorded(id: String)
        case batchCancelFailed(id: String)
        case publish
        /// Time to publish the state file even if nothing changed (see ``WorkerStateFile/heartbeat``).
        case heartbeat
        case watchdog
        case shutdown
        case graceExpired
    }

    let configuration: WorkerConfiguration
    let providers: [any ModelProvider]
    let logger: Logger
    let notifier: SystemdNotifier
    /// Counts jobs, tokens and loads as they end (`nil`: no metrics wanted).
    let metrics: SpoolMetrics?
    let events = AsyncStream<Event>.makeStream(bufferingPolicy: .unbounded)
    private let result = Mutex(Summary())
    let readiness = AsyncStream<Void>.makeStream()

    /// Where the loop and the attempts run (`nil`: Swift's global executor).
    let executor: (any TaskExecutor)?

    /// `providers`: one per host of `configuration.effectiveHosts`, in order. `executor`: where
    /// the worker's loop and its attempts run; the executor of the event loop the providers read
    /// their replies on saves a thread's wake-up per job (see ``EventLoopExecutor``).
    public init(
        configuration: WorkerConfiguration, providers: [any ModelProvider], logger: Logger, metrics: SpoolMetrics? = nil,
        executor: (any TaskExecutor)? = nil
    ) {
        precondition(providers.count == configuration.effectiveHosts.count, "one provider per host")
        self.configuration = configuration
        self.providers = providers
        self.logger = logger
        self.metrics = metrics
        self.executor = executor
        self.notifier = SystemdNotifier(environment: configuration.systemd)
    }

    /// One host.
    public convenience init(configuration: WorkerConfiguration, provider: any ModelProvider, logger: Logger) {
        self.init(configuration: configuration, providers: [provider], logger: logger)
    }

    /// Returns once the worker watches `incoming/` (or has ended). For one waiter.
    public func waitUntilReady() async {
        for await _ in readiness.stream {}
    }

    /// The outcome so far (final once ``run()`` has returned).
    public var summary: Summary { result.withLock { $0 } }

    func record(_ update: (inout Summary) -> Void) {
        result.withLock { update(&$0) }
    }

    /// Stop claiming, let running jobs finish within the grace period, put the rest back.
    public func requestShutdown() {
        events.continuation.yield(.shutdown)
    }

    func send(_ event: Event) {
        events.continuation.yield(event)
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await self.runLoop()
        } onGracefulShutdown: {
            self.requestShutdown()
        }
    }

    private func runLoop() async throws {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let spool = configuration.spool
        let loop: WorkerLoop
        do {
            let recovered = try await SpoolIO(spool: spool, pool: pool, kind: nil).createLayoutAndRecover()
            // The folders exist now: the kind of file system they are on can be asked.
            let io = SpoolIO(spool: spool, pool: pool, kind: FileSystemKind.of(path: spool.incoming))
            if !recovered.jobs.isEmpty {
                logger.notice("recovered \(recovered.jobs.count) job(s) left in active/ by a worker that is gone: \(recovered.jobs.joined(separator: ", "))")
            }
            loop = WorkerLoop(worker: self, io: io, resumedBatches: recovered.batches)
            try await withTaskExecutorPreference(executor) { try await loop.run() }
        } catch {
            readiness.continuation.finish()
            throw error
        }
    }
}
