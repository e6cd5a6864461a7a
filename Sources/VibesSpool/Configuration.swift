//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc
import VibesModels

/// Everything the worker needs to know, built once (CLI, then environment, then defaults).
public struct WorkerConfiguration: Sendable {
    public var spool: SpoolDirectory
    public var ollama: OllamaProvider.Configuration
    /// Jobs run at once. 1, as Ollama's own `OLLAMA_NUM_PARALLEL` default.
    public var concurrency: Int
    /// Transient failures are retried up to this many times (so up to `retries + 1` attempts).
    public var retries: Int
    /// How long running jobs may go on after SIGTERM before they are put back.
    public var grace: Duration
    /// The periodic rescan of `incoming/` and `active/`; `nil` turns it off.
    public var rescanInterval: Duration?
    public var maxRequestBytes: Int
    /// Handle what is queued at start, then return.
    public var once: Bool
    /// The first retry's delay; each next one doubles, up to `backoffCap`.
    public var backoffBase: Duration
    public var backoffCap: Duration
    /// `host:pid`, written into every envelope.
    public var workerID: String

    public init(
        spool: SpoolDirectory, ollama: OllamaProvider.Configuration = .init(), concurrency: Int = 1, retries: Int = 3,
        grace: Duration = .seconds(30), rescanInterval: Duration? = .seconds(30), maxRequestBytes: Int = 16 << 20,
        once: Bool = false, backoffBase: Duration = .seconds(1), backoffCap: Duration = .seconds(60),
        workerID: String = WorkerConfiguration.defaultWorkerID()
    ) {
        self.spool = spool
        self.ollama = ollama
        self.concurrency = max(1, concurrency)
        self.retries = max(0, retries)
        self.grace = grace
        self.rescanInterval = rescanInterval
        self.maxRequestBytes = maxRequestBytes
        self.once = once
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
        self.workerID = workerID
    }

    public static func defaultWorkerID() -> String {
        "\(hostName()):\(getpid())"
    }

    /// The delay before retry number `retry` (1-based): base, 2×base, 4×base, … capped.
    func backoff(retry: Int) -> Duration {
        let factor = 1 << min(max(retry - 1, 0), 20)
        return min(backoffBase * factor, backoffCap)
    }
}

/// This machine's host name.
func hostName() -> String {
    var name = [UInt8](repeating: 0, count: 256)
    name.withUnsafeMutableBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { _ = gethostname($0.baseAddress!, $0.count - 1) }
    }
    return String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
}
