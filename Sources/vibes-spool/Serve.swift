//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Hummingbird
import VibesAPI
import VibesSpool

extension VibesSpoolCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "OpenAI's Files and Batches API and a status page over the spool.",
            discussion: """
                Serves POST/GET/DELETE /v1/files, POST/GET /v1/batches, POST /v1/batches/ID/cancel, GET /v1/models \
                and a status page at /, so that OpenAI's SDKs run batches with base_url=http://HOST:PORT/v1. \
                Without --api-key-file it listens on loopback addresses only. Its records live in the spool's api/. \
                VIBES_SERVE_CLOCK_OFFSET=SECONDS shifts serve's clock (for tests of the completion window).
                """)

        @OptionGroup var spool: SpoolOption

        @Option(help: "The address to listen on, HOST:PORT ([::1]:PORT for IPv6).")
        var listen = "127.0.0.1:11435"

        @Option(name: .customLong("api-key-file"), help: "A file of API keys, one a line: each request then needs 'Authorization: Bearer KEY'.")
        var apiKeyFile: String?

        /// The settings, or why they cannot be used (bad usage: exit 2).
        func settings() throws(ListenError) -> ServeSettings {
            var settings = ServeSettings(spool: spool.directory)
            settings.listen = try ListenAddress(parsing: listen)
            if let apiKeyFile {
                guard let text = try? String(contentsOfFile: apiKeyFile, encoding: .utf8) else {
                    throw ListenError("cannot read --api-key-file \(apiKeyFile)")
                }
                settings.keys = APIKeys(fileText: text)
                if settings.keys.isEmpty { throw ListenError("--api-key-file \(apiKeyFile) holds no key (one key a line)") }
            }
            try settings.listen.check(hasKeys: !settings.keys.isEmpty)
            if let offset = ProcessInfo.processInfo.environment["VIBES_SERVE_CLOCK_OFFSET"] {
                guard let seconds = Int64(offset) else { throw ListenError("VIBES_SERVE_CLOCK_OFFSET must be whole seconds, not \(offset)") }
                settings.clockOffset = seconds
            }
            return settings
        }

        func run() async throws {
            let settings: ServeSettings
            do {
                settings = try self.settings()
            } catch {
                printError("vibes-spool serve: \(error)")
                exitProcess(2)
            }
            let logger = makeLogger()
            let service = APIService(settings: settings)
            do {
                try service.store.createLayout()
                try service.store.recover()
            } catch {
                printError("vibes-spool serve: \(error)")
                exitProcess(1)
            }
            let app = service.application(logger: logger) { channel in
                let port = channel.localAddress?.port ?? settings.listen.port
                logger.info("serve: listening on http://\(settings.listen.host):\(port) (spool \(settings.spool.root))")
            }
            do {
                try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            } catch {
                printError("vibes-spool serve: \(error)")
                exitProcess(1)
            }
        }
    }
}
