//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import ArgumentParser
import Logging
import ServiceLifecycle
import VibesSpool

/// `--metrics-file PATH` and `--metrics-listen HOST:PORT` of `run` (README, "Metrics").
struct MetricsOptions: ParsableArguments {
    @Option(name: .customLong("metrics-file"), help: ArgumentHelp(
        "Write Prometheus metrics to this file (for node_exporter's textfile collector), replaced atomically every 10 s.",
        valueName: "path"))
    var metricsFile: String?

    @Option(name: .customLong("metrics-listen"), help: ArgumentHelp(
        "Serve Prometheus metrics at GET /metrics on this address: HOST:PORT or [IPv6]:PORT, e.g. 127.0.0.1:9464.",
        valueName: "address"))
    var metricsListen: String?

    /// The parsed `--metrics-listen` (valid after `validate()`).
    var listenAddress: MetricsServer.Address? {
        metricsListen.flatMap { try? MetricsServer.Address(parsing: $0) }
    }

    /// Whether metrics are wanted at all (else the worker need not count them).
    var enabled: Bool { metricsFile != nil || metricsListen != nil }

    /// The services these options ask for, for the worker's `ServiceGroup` (or a task group):
    /// the server, already listening, and the file writer. Empty without either flag.
    /// - Throws: ``MetricsServerError`` when the address cannot be listened on.
    func makeServices(_ metrics: SpoolMetrics, logger: Logger) async throws -> [any Service] {
        var services: [any Service] = []
        if let address = listenAddress {
            let server = try await MetricsServer.bind(address, metrics: metrics)
            logger.info("metrics at http://\(MetricsServer.Address(host: address.host, port: server.port))/metrics")
            services.append(server)
        }
        if let metricsFile {
            services.append(MetricsFileWriter(path: metricsFile, metrics: metrics, logger: logger))
        }
        return services
    }

    func validate() throws {
        if let metricsListen {
            do {
                _ = try MetricsServer.Address(parsing: metricsListen)
            } catch {
                throw ValidationError("--metrics-listen \(error)")
            }
        }
        if let metricsFile {
            guard !metricsFile.isEmpty, !metricsFile.hasSuffix("/") else {
                throw ValidationError("--metrics-file '\(metricsFile)': give a file name, e.g. /var/lib/prometheus/node-exporter/vibes-spool.prom")
            }
        }
    }
}
