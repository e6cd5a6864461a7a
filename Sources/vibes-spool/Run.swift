//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import ServiceLifecycle
import VibesModels
import VibesSpool

extension VibesSpoolCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the worker: handle what is queued, then watch incoming/.",
            discussion: """
                SIGTERM/SIGINT: stop claiming, let running jobs finish within --grace, put the rest \
                back into incoming/, exit 0. --once: exit 0 if all done, 1 if any failed, 3 if Ollama \
                could not be reached.
                """)

        @OptionGroup var spool: SpoolOption
        @OptionGroup var metricsOptions: MetricsOptions

        @Option(name: .customLong("ollama-url"), help: ArgumentHelp(
            "An Ollama base URL; repeat for several hosts (default: $VIBES_OLLAMA_URLS, comma-separated, else $OLLAMA_HOST, else http://127.0.0.1:11434).",
            valueName: "url"))
        var ollamaURLs: [String] = []

        @Option(help: ArgumentHelp(
            "Jobs run at once on each host (Ollama's own default parallelism is 1); URL=N sets one host's. Repeatable.",
            valueName: "n|url=n"))
        var concurrency: [String] = []

        @Option(help: "Retries of transient failures (up to N+1 attempts).")
        var retries = WorkerDefaults.retries

        @Option(help: ArgumentHelp("model: a free slot prefers jobs whose model is loaded on its host; fifo: oldest first.", valueName: "model|fifo"))
        var order: String = WorkerDefaults.order.rawValue

        @Option(name: .customLong("max-wait"), help: "Seconds a job may be passed over for jobs of a loaded model (--order model).")
        var maxWait: Double = WorkerDefaults.maxWait.seconds

        @Flag(help: "Handle everything queued, then exit (for cron).")
        var once = false

        @Option(help: "Seconds running jobs get to finish after SIGTERM.")
        var grace: Double = WorkerDefaults.grace.seconds

        @Option(name: .customLong("rescan-interval"), help: "Seconds between rescans of incoming/ and active/ and refreshes of the hosts' model lists (0: off).")
        var rescanInterval: Double = 30

        @Option(name: .customLong("poll-interval"), help: ArgumentHelp(
            "Seconds between listings of incoming/ and cancel/ for files dropped on other machines (0: off; default: 1 on a network or FUSE file system, off on a local one).",
            valueName: "s"))
        var pollInterval: Double?

        @Option(name: .customLong("max-request-bytes"), help: "Largest request file accepted.")
        var maxRequestBytes = WorkerDefaults.maxRequestBytes

        @Option(name: .customLong("max-batch-lines"), help: "Most lines a batch file may have.")
        var maxBatchLines = WorkerDefaults.maxBatchLines

        @Option(name: .customLong("max-batch-bytes"), help: "Largest batch file accepted.")
        var maxBatchBytes = WorkerDefaults.maxBatchBytes

        @Option(name: .customLong("embed-group"), help: "Most inputs of embedding work (one model, same settings) sent as one /api/embed request; 1: off.")
        var embedGroup = WorkerDefaults.embedGroup

        @Option(name: .customLong("first-byte-timeout"), help: "Seconds to wait for Ollama's first byte (model loads count).")
        var firstByteTimeout: Double = WorkerDefaults.firstByteTimeout.seconds

        @Option(name: .customLong("idle-timeout"), help: "Seconds to wait between chunks of a reply.")
        var idleTimeout: Double = WorkerDefaults.idleTimeout.seconds

        @Option(name: .customLong("retry-delay"), help: "Seconds before the first retry; each next one doubles, up to 60.")
        var retryDelay: Double = WorkerDefaults.backoffBase.seconds

        var settings: RunSettings {
            var settings = RunSettings()
            settings.spool = spool.spool
            settings.ollamaURLs = ollamaURLs
            settings.concurrency = concurrency
            settings.retries = retries
            settings.once = once
            settings.grace = grace
            settings.rescanInterval = rescanInterval
            settings.pollInterval = pollInterval
            settings.maxRequestBytes = maxRequestBytes
            settings.firstByteTimeout = firstByteTimeout
            settings.idleTimeout = idleTimeout
            settings.retryDelay = retryDelay
            settings.order = JobOrder(rawValue: order)
            settings.maxWait = maxWait
            settings.maxBatchLines = maxBatchLines
            settings.maxBatchBytes = maxBatchBytes
            settings.embedGroup = embedGroup
            return settings
        }

        func validate() throws {
            guard JobOrder(rawValue: order) != nil else { throw ValidationError("--order must be model or fifo, not \(order)") }
            do {
                _ = try WorkerConfiguration.resolve(settings, environment: ProcessInfo.processInfo.environment)
            } catch let error as ConfigurationError {
                throw ValidationError(error.description)
            }
        }

        func run() async throws {
            let logger = makeLogger()
            let configuration = try WorkerConfiguration.resolve(settings, environment: ProcessInfo.processInfo.environment)
            // One event loop for every host's connections, and the worker runs on it too.
            let executor = EventLoopExecutor.next()
            let providers = configuration.effectiveHosts.map {
                OllamaProvider(configuration: configuration.ollama(for: $0), eventLoop: executor.loop)
            }
            let spool = configuration.spool
            let metrics = metricsOptions.enabled ? SpoolMetrics(refresh: { $0.observe(spool: spool) }) : nil
            var services: [any Service] = []
            if let metrics {
                do {
                    services = try await metricsOptions.makeServices(metrics, logger: logger)
                } catch {
                    printError("vibes-spool: \(error)")
                    exitProcess(2)
                }
            }
            let worker = SpoolWorker(
                configuration: configuration, providers: providers, logger: logger, metrics: metrics, executor: executor)
            // The worker returning (--once, or after a graceful stop) ends the group cleanly; the
            // metrics services then write (or serve) a last time and stop.
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)]
                        + services.map { .init(service: $0) },
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            var failure: (any Error)?
            do {
                try await group.run()
            } catch {
                failure = error
            }
            for provider in providers { try? await provider.shutdown() }
            if let failure {
                printError("vibes-spool: \(failure)")
                exitProcess(1)
            }
            exitProcess(once ? worker.summary.exitCode : 0)
        }
    }
}
