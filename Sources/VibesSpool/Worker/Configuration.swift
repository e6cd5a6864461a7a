//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc
import VibesModels

/// One Ollama host the worker sends jobs to.
public struct HostConfiguration: Sendable, Equatable {
    /// Its base URL, normalized (`http://host:11434`).
    public var url: String
    /// Jobs it runs at once.
    public var concurrency: Int

    public init(url: String, concurrency: Int) {
        self.url = url
        self.concurrency = max(1, concurrency)
    }
}

/// Everything the worker needs to know, built once: from the command line and the environment
/// by ``WorkerConfiguration/resolve(_:environment:)``, with the defaults in ``WorkerDefaults``.
public struct WorkerConfiguration: Sendable {
    public var spool: SpoolDirectory
    /// Time limits and the first host's URL; each host's provider copies it with its own URL.
    public var ollama: OllamaProvider.Configuration
    /// The hosts; empty means one: `ollama.baseURL` with `concurrency`.
    public var hosts: [HostConfiguration]
    /// Jobs run at once on a host without its own value. 1, as Ollama's `OLLAMA_NUM_PARALLEL`.
    public var concurrency: Int
    /// Transient failures are retried up to this many times (so up to `retries + 1` attempts).
    public var retries: Int
    /// How long running jobs may go on after SIGTERM before they are put back.
    public var grace: Duration
    /// The periodic rescan of `incoming/` and `active/` (and refresh of the hosts' model lists);
    /// `nil` turns it off.
    public var rescanInterval: Duration?
    /// How often to list `incoming/` and `cancel/` for files dropped on other machines (inotify sees only
    /// this one's): `nil` lets the spool's file system decide (see ``pollPeriod(on:)``);
    /// `.zero` turns it off.
    public var pollInterval: Duration?
    public var maxRequestBytes: Int
    /// Handle what is queued at start, then return.
    public var once: Bool
    /// The first retry's delay; each next one doubles, up to `backoffCap`.
    public var backoffBase: Duration
    public var backoffCap: Duration
    /// `host:pid`, written into every envelope.
    public var workerID: String
    public var order: JobOrder
    /// In `--order model`: how long a job may be passed over for jobs of a loaded model.
    public var maxWait: Duration
    /// `NOTIFY_SOCKET` and `WATCHDOG_USEC`/`WATCHDOG_PID`, as read at start.
    public var systemd: [String: String]
    /// Batch files over these limits fail as a whole.
    public var maxBatchLines = WorkerDefaults.maxBatchLines
    public var maxBatchBytes = WorkerDefaults.maxBatchBytes
    /// Most inputs of embedding work of one model and settings sent as one `/api/embed`
    /// request (`--embed-group`); 1: each job or line alone.
    public var embedGroup = WorkerDefaults.embedGroup

    public init(
        spool: SpoolDirectory, ollama: OllamaProvider.Configuration = .init(), hosts: [HostConfiguration] = [],
        concurrency: Int = WorkerDefaults.concurrency, retries: Int = WorkerDefaults.retries,
        grace: Duration = WorkerDefaults.grace, rescanInterval: Duration? = WorkerDefaults.rescanInterval,
        maxRequestBytes: Int = WorkerDefaults.maxRequestBytes, once: Bool = false,
        backoffBase: Duration = WorkerDefaults.backoffBase, backoffCap: Duration = WorkerDefaults.backoffCap,
        workerID: String = WorkerConfiguration.defaultWorkerID(), order: JobOrder = WorkerDefaults.order,
        maxWait: Duration = WorkerDefaults.maxWait, systemd: [String: String] = [:], pollInterval: Duration? = nil
    ) {
        self.spool = spool
        self.ollama = ollama
        self.hosts = hosts
        self.concurrency = max(1, concurrency)
        self.retries = max(0, retries)
        self.grace = grace
        self.rescanInterval = rescanInterval
        self.maxRequestBytes = maxRequestBytes
        self.once = once
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
        self.workerID = workerID
        self.order = order
        self.maxWait = maxWait
        self.systemd = systemd
        self.pollInterval = pollInterval
    }

    public static func defaultWorkerID() -> String {
        "\(hostName()):\(getpid())"
    }

    /// The hosts as configured, or the one from `ollama.baseURL`.
    public var effectiveHosts: [HostConfiguration] {
        hosts.isEmpty ? [HostConfiguration(url: ollama.baseURL, concurrency: concurrency)] : hosts
    }

    /// The provider configuration for one host.
    public func ollama(for host: HostConfiguration) -> OllamaProvider.Configuration {
        var configuration = ollama
        configuration.baseURL = host.url
        return configuration
    }

    /// The listing period on a file system of this kind: as set, else every second on a
    /// network or FUSE file system and never on a local one (or one `statfs` cannot tell);
    /// `nil`: no listing.
    func pollPeriod(on kind: FileSystemKind?) -> Duration? {
        if let pollInterval { return pollInterval > .zero ? pollInterval : nil }
        return kind?.isShared == true ? WorkerDefaults.sharedPollInterval : nil
    }

    /// The scheduler's options.
    var schedulerOptions: Scheduler.Options {
        Scheduler.Options(
            order: order, maxWait: maxWait, retries: retries, backoffBase: backoffBase, backoffCap: backoffCap, once: once,
            embedGroup: embedGroup)
    }
}

/// The defaults, in one place (the command line shows them in its help).
public enum WorkerDefaults {
    public static let spool = "./spool"
    public static let concurrency = 1
    public static let retries = 3
    public static let grace = Duration.seconds(30)
    public static let rescanInterval: Duration? = .seconds(30)
    /// The listing period of `--poll-interval` on a network or FUSE file system.
    public static let sharedPollInterval = Duration.seconds(1)
    public static let maxRequestBytes = 16 << 20
    public static let backoffBase = Duration.seconds(1)
    public static let backoffCap = Duration.seconds(60)
    public static let order = JobOrder.model
    public static let maxWait = Duration.seconds(120)
    public static let maxBatchLines = 50_000
    public static let maxBatchBytes = 200_000_000
    /// Inputs per `/api/embed` request (see `bench/embed`).
    public static let embedGroup = 16
    /// Input bytes per `/api/embed` request.
    public static let embedGroupBytes = 4 << 20
    public static let firstByteTimeout = Duration.seconds(600)
    public static let idleTimeout = Duration.seconds(120)
}

/// This machine's host name.
func hostName() -> String {
    var name = [UInt8](repeating: 0, count: 256)
    name.withUnsafeMutableBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { _ = gethostname($0.baseAddress!, $0.count - 1) }
    }
    return String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
}
