//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// The worker's settings as given on the command line; `nil` or empty: not given.
package struct RunSettings: Sendable {
    package var spool: String?
    /// `--ollama-url`, repeated.
    package var ollamaURLs: [String] = []
    /// `--concurrency N` (every host) and `--concurrency URL=N` (one host), repeated.
    package var concurrency: [String] = []
    package var retries: Int?
    package var once = false
    package var grace: Double?
    package var rescanInterval: Double?
    /// `--poll-interval`: 0 off; not given: by the file system.
    package var pollInterval: Double?
    package var maxRequestBytes: Int?
    package var firstByteTimeout: Double?
    package var idleTimeout: Double?
    package var retryDelay: Double?
    package var order: JobOrder?
    package var maxWait: Double?
    package var maxBatchLines: Int?
    package var maxBatchBytes: Int?
    package var embedGroup: Int?

    package init() {}
}

/// A setting that cannot be used; its text says which and why (exit code 2).
package struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}

extension SpoolDirectory {
    /// `explicit`, else `$VIBES_SPOOL`, else `./spool`.
    package static func resolve(explicit: String?, environment: [String: String]) -> SpoolDirectory {
        let fromEnvironment = environment["VIBES_SPOOL"].flatMap { $0.isEmpty ? nil : $0 }
        return SpoolDirectory(explicit ?? fromEnvironment ?? WorkerDefaults.spool)
    }
}

extension WorkerConfiguration {
    /// The one place where flags and environment become a configuration: `--spool` or
    /// `VIBES_SPOOL`; the hosts from `--ollama-url` (repeated), else `VIBES_OLLAMA_URLS`
    /// (comma-separated), else `OLLAMA_HOST`, else the default; `NOTIFY_SOCKET` and
    /// `WATCHDOG_USEC` for systemd.
    package static func resolve(_ settings: RunSettings, environment: [String: String]) throws -> WorkerConfiguration {
        func seconds(_ value: Double?, _ flag: String, allowZero: Bool = true) throws -> Duration? {
            guard let value else { return nil }
            guard value > 0 || (allowZero && value == 0), value.isFinite else {
                throw ConfigurationError("\(flag) must be \(allowZero ? "0 or more" : "more than 0") seconds, not \(value)")
            }
            return .milliseconds(Int64((value * 1000).rounded()))
        }
        var urls = settings.ollamaURLs
        if urls.isEmpty, let list = environment["VIBES_OLLAMA_URLS"] {
            urls = list.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        }
        let resolved = urls.isEmpty
            ? [OllamaHost.resolve(explicit: nil, environment: environment)]
            : urls.map { OllamaHost.resolve(explicit: $0, environment: [:]) }
        var seen: Set<String> = []
        for url in resolved where !seen.insert(url).inserted {
            throw ConfigurationError("--ollama-url \(url) is given twice")
        }

        var concurrency = WorkerDefaults.concurrency
        var perHost: [String: Int] = [:]
        for item in settings.concurrency {
            if let equals = item.lastIndex(of: "=") {
                let url = OllamaHost.resolve(explicit: String(item[..<equals]), environment: [:])
                guard let count = Int(item[item.index(after: equals)...]), count >= 1 else {
                    throw ConfigurationError("--concurrency \(item): expected URL=N with N at least 1")
                }
                guard resolved.contains(url) else {
                    throw ConfigurationError("--concurrency \(item): \(url) is not one of the hosts (\(resolved.joined(separator: ", ")))")
                }
                perHost[url] = count
            } else {
                guard let count = Int(item), count >= 1 else {
                    throw ConfigurationError("--concurrency \(item): expected a number of at least 1, or URL=N")
                }
                concurrency = count
            }
        }
        if let retries = settings.retries, retries < 0 { throw ConfigurationError("--retries must be 0 or more") }
        if let bytes = settings.maxRequestBytes, bytes <= 0 { throw ConfigurationError("--max-request-bytes must be positive") }

        if let lines = settings.maxBatchLines, lines <= 0 { throw ConfigurationError("--max-batch-lines must be positive") }
        if let bytes = settings.maxBatchBytes, bytes <= 0 { throw ConfigurationError("--max-batch-bytes must be positive") }
        if let group = settings.embedGroup, group < 1 { throw ConfigurationError("--embed-group must be 1 (off) or more, not \(group)") }

        var ollama = OllamaProvider.Configuration(baseURL: resolved[0])
        ollama.firstByteTimeout = try seconds(settings.firstByteTimeout, "--first-byte-timeout", allowZero: false) ?? WorkerDefaults.firstByteTimeout
        ollama.idleTimeout = try seconds(settings.idleTimeout, "--idle-timeout", allowZero: false) ?? WorkerDefaults.idleTimeout
        let rescan = try seconds(settings.rescanInterval, "--rescan-interval")
        var configuration = WorkerConfiguration(
            spool: SpoolDirectory.resolve(explicit: settings.spool, environment: environment),
            ollama: ollama,
            hosts: resolved.map { HostConfiguration(url: $0, concurrency: perHost[$0] ?? concurrency) },
            concurrency: concurrency,
            retries: settings.retries ?? WorkerDefaults.retries,
            grace: try seconds(settings.grace, "--grace") ?? WorkerDefaults.grace,
            rescanInterval: rescan.map { $0 == .zero ? nil : $0 } ?? WorkerDefaults.rescanInterval,
            maxRequestBytes: settings.maxRequestBytes ?? WorkerDefaults.maxRequestBytes,
            once: settings.once,
            backoffBase: try seconds(settings.retryDelay, "--retry-delay") ?? WorkerDefaults.backoffBase,
            order: settings.order ?? WorkerDefaults.order,
            maxWait: try seconds(settings.maxWait, "--max-wait") ?? WorkerDefaults.maxWait,
            systemd: environment.filter { ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"].contains($0.key) })
        configuration.pollInterval = try seconds(settings.pollInterval, "--poll-interval")
        configuration.maxBatchLines = settings.maxBatchLines ?? WorkerDefaults.maxBatchLines
        configuration.maxBatchBytes = settings.maxBatchBytes ?? WorkerDefaults.maxBatchBytes
        configuration.embedGroup = settings.embedGroup ?? WorkerDefaults.embedGroup
        return configuration
    }
}
