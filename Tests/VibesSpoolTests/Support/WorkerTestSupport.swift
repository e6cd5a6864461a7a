//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import Logging
import SpoolTestSupport
import Synchronization
import Testing
import VibesModels
@testable import VibesSpool

/// Runs a worker on `spool` (in this process) against a fake with `handler`, runs `body`, then
/// shuts the worker down and waits for it.
func withWorker(
    _ spool: TestSpool, handler: @escaping FakeOllama.Handler,
    configure: (inout WorkerConfiguration) -> Void = { _ in }, logger: Logger? = nil,
    _ body: (FakeOllama, SpoolWorker) async throws -> Void
) async throws {
    try await FakeOllama.with(handler) { fake in
        _ = try await runWorker(spool, baseURL: fake.baseURL, configure: configure, logger: logger) { worker in
            try await body(fake, worker)
        }
    }
}

/// Runs a worker against `baseURL`; `body` runs once the worker watches incoming/.
@discardableResult
func runWorker(
    _ spool: TestSpool, baseURL: String, configure: (inout WorkerConfiguration) -> Void = { _ in }, logger: Logger? = nil,
    _ body: (SpoolWorker) async throws -> Void = { _ in }
) async throws -> SpoolWorker.Summary {
    try await runWorker(spool, hosts: [], baseURL: baseURL, configure: configure, logger: logger, body)
}

/// Runs a worker against `hosts` (each with concurrency 1), or the one `baseURL` when none.
func runWorker(
    _ spool: TestSpool, hosts: [String], baseURL: String = OllamaHost.defaultBaseURL,
    configure: (inout WorkerConfiguration) -> Void, logger: Logger? = nil, _ body: (SpoolWorker) async throws -> Void
) async throws -> SpoolWorker.Summary {
    let ollama = OllamaProvider.Configuration(baseURL: baseURL, connectTimeout: .seconds(2), firstByteTimeout: .seconds(10), idleTimeout: .seconds(10))
    var configuration = WorkerConfiguration(
        spool: spool.spool, ollama: ollama, hosts: hosts.map { HostConfiguration(url: $0, concurrency: 1) }, retries: 2,
        grace: .seconds(5), rescanInterval: nil, backoffBase: .milliseconds(10), backoffCap: .milliseconds(100), workerID: "test:1")
    configure(&configuration)
    let logger = logger ?? {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["VIBES_TEST_LOGS"] != nil ? .debug : .critical
        return logger
    }()
    let providers = configuration.effectiveHosts.map { OllamaProvider(configuration: configuration.ollama(for: $0)) }
    let worker = SpoolWorker(configuration: configuration, providers: providers, logger: logger)
    let task = Task { try await worker.run() }
    do {
        await worker.waitUntilReady()
        try await body(worker)
        if !configuration.once { worker.requestShutdown() }
        try await task.value
    } catch {
        worker.requestShutdown()
        _ = await task.result
        for provider in providers { try? await provider.shutdown() }
        throw error
    }
    for provider in providers { try? await provider.shutdown() }
    return worker.summary
}

/// Runs a worker (in this process) against one fake per handler, each its own host with
/// concurrency 1; `body` runs once the worker watches incoming/. Returns the worker's summary.
@discardableResult
func withHosts(
    _ spool: TestSpool, _ handlers: [FakeOllama.Handler], configure: (inout WorkerConfiguration) -> Void = { _ in },
    _ body: ([FakeOllama]) async throws -> Void = { _ in }
) async throws -> SpoolWorker.Summary {
    var fakes: [FakeOllama] = []
    for handler in handlers { fakes.append(try await FakeOllama.start(handler)) }
    defer { for fake in fakes { Task { await fake.shutdown() } } }
    return try await runWorker(spool, hosts: fakes.map(\.baseURL), configure: configure) { _ in try await body(fakes) }
}

/// Collects log events in memory, for tests of what is logged.
final class LogCapture: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let entries = Mutex<[Entry]>([])

    var all: [Entry] { entries.withLock { $0 } }

    /// A logger writing into this capture, at `level`.
    func logger(level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: "test") { _ in Handler(capture: self) }
        logger.logLevel = level
        return logger
    }

    func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.append(Entry(level: event.level, message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
        }
    }
}

/// A small tmpfs for tests of a full disk, mounted on a fresh temporary directory. Mounting
/// needs root (CAP_SYS_ADMIN): tests using it are enabled only where ``canMount``.
enum SmallFileSystem {
    /// Whether this process may mount a tmpfs (tried once).
    static let canMount: Bool = (try? with(size: 64 << 10) { _ in }) != nil

    /// Mounts a tmpfs of `size` bytes, runs `body` with its path, then unmounts and removes it.
    static func with<T>(size: Int, _ body: (String) throws -> T) throws -> T {
        var template = Array("/tmp/vibes-spool-small-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SpoolError("mkdtemp", "/tmp") }
        let path = String(cString: made)
        defer { rmdir(path) }
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(size),mode=0755") == 0 else { throw SpoolError("mount tmpfs", path) }
        defer { umount2(path, Int32(MNT_DETACH)) }
        return try body(path)
    }

    /// Fills the file system holding `directory` with one file, until it refuses more.
    static func fill(_ directory: String) throws {
        let fd = open("\(directory)/.filler", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw SpoolError("open", directory) }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 4096)
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
