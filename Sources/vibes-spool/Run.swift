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
        @OptionGroup var ollama: OllamaOption

        @Option(help: "Jobs run at once (Ollama's own default parallelism is 1).")
        var concurrency = 1

        @Option(help: "Retries of transient failures (up to N+1 attempts).")
        var retries = 3

        @Flag(help: "Handle everything queued, then exit (for cron).")
        var once = false

        @Option(help: "Seconds running jobs get to finish after SIGTERM.")
        var grace: Double = 30

        @Option(name: .customLong("rescan-interval"), help: "Seconds between rescans of incoming/ and active/ (0: off).")
        var rescanInterval: Double = 30

        @Option(name: .customLong("max-request-bytes"), help: "Largest request file accepted.")
        var maxRequestBytes = 16 << 20

        @Option(name: .customLong("first-byte-timeout"), help: "Seconds to wait for Ollama's first byte (model loads count).")
        var firstByteTimeout: Double = 600

        @Option(name: .customLong("idle-timeout"), help: "Seconds to wait between chunks of a reply.")
        var idleTimeout: Double = 120

        @Option(name: .customLong("retry-delay"), help: "Seconds before the first retry; each next one doubles, up to 60.")
        var retryDelay: Double = 1

        func validate() throws {
            guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
            guard retries >= 0 else { throw ValidationError("--retries must be 0 or more") }
            guard grace >= 0, rescanInterval >= 0, firstByteTimeout > 0, idleTimeout > 0, retryDelay >= 0 else {
                throw ValidationError("durations must be positive")
            }
            guard maxRequestBytes > 0 else { throw ValidationError("--max-request-bytes must be positive") }
        }

        func run() async throws {
            let logger = makeLogger()
            var ollamaConfiguration = ollama.configuration
            ollamaConfiguration.firstByteTimeout = .milliseconds(Int64(firstByteTimeout * 1000))
            ollamaConfiguration.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
            let configuration = WorkerConfiguration(
                spool: spool.directory, ollama: ollamaConfiguration, concurrency: concurrency, retries: retries,
                grace: .milliseconds(Int64(grace * 1000)),
                rescanInterval: rescanInterval > 0 ? .milliseconds(Int64(rescanInterval * 1000)) : nil,
                maxRequestBytes: maxRequestBytes, once: once, backoffBase: .milliseconds(Int64(retryDelay * 1000)))
            let provider = OllamaProvider(configuration: ollamaConfiguration)
            let worker = SpoolWorker(
                configuration: configuration, provider: provider, logger: logger,
                environment: ProcessInfo.processInfo.environment)
            // The worker returning (--once, or after a graceful stop) ends the group cleanly.
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do {
                try await group.run()
            } catch {
                try? await provider.shutdown()
                printError("vibes-spool: \(error)")
                exitProcess(1)
            }
            try? await provider.shutdown()
            exitProcess(once ? worker.summary.exitCode : 0)
        }
    }
}
