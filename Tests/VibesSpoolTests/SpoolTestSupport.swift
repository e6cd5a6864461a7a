//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import Logging
import Testing
import VibesModels
@testable import VibesSpool

/// A fresh spool in its own temporary folder (`…/spool`), with room beside it for files that
/// must stay untouched ("outside the spool"). Removed by `cleanUp()`.
struct TestSpool {
    let base: String
    let spool: SpoolDirectory

    /// The spool on its own tmpfs of `tmpfsBytes` (unmounted by `cleanUp()`), when given.
    init(tmpfsBytes: Int? = nil) throws {
        var template = Array("/tmp/vibes-spool-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SpoolError("mkdtemp", "/tmp") }
        base = String(cString: made)
        if let tmpfsBytes {
            guard mkdir(base + "/fs", 0o755) == 0, mount("tmpfs", base + "/fs", "tmpfs", 0, "size=\(tmpfsBytes)") == 0 else {
                throw SpoolError("mount tmpfs", base + "/fs")
            }
            spool = SpoolDirectory(base + "/fs/spool")
        } else {
            spool = SpoolDirectory(base + "/spool")
        }
        try spool.createLayout()
    }

    /// Whether this process may mount a tmpfs (root, outside a container that forbids it).
    static let canMountTmpfs: Bool = {
        guard let probe = try? TestSpool(tmpfsBytes: 64 << 10) else { return false }
        probe.cleanUp()
        return true
    }()

    func cleanUp() {
        if FileManager.default.fileExists(atPath: base + "/fs") { umount2(base + "/fs", Int32(MNT_DETACH)) }
        try? FileManager.default.removeItem(atPath: base)
    }

    /// Drops a request the way producers should: write into tmp/, rename into incoming/.
    @discardableResult
    func drop(_ name: String, _ text: String) throws -> String {
        let tmpPath = "\(spool.tmp)/\(name)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: tmpPath))
        guard rename(tmpPath, "\(spool.incoming)/\(name)") == 0 else { throw SpoolError("rename", tmpPath) }
        return name
    }

    func dropRequest(_ name: String, model: String = "echo", prompt: String, extra: String = "") throws {
        try drop("\(name).json", #"{"model":"\#(model)","prompt":"\#(prompt)"\#(extra)}"#)
    }

    func names(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    func json(_ path: String) -> JSONValue? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
    }

    /// Ids with a result envelope in done/.
    var doneIDs: [String] { names(spool.done).filter { $0.hasSuffix(".result.json") }.map { String($0.dropLast(12)) } }
    /// Ids with an error envelope in failed/.
    var failedIDs: [String] { names(spool.failed).filter { $0.hasSuffix(".error.json") }.map { String($0.dropLast(11)) } }

    func errorEnvelope(_ id: String) -> JSONValue? { json("\(spool.failed)/\(id).error.json") }
}

/// A chat handler that answers `reply to PROMPT` in two chunks, for the models installed.
func echoHandler(models: [String] = ["echo"], delay: Duration? = nil) -> FakeOllama.Handler {
    FakeOllama.ollamaLike(models: models) { request in
        .chatStream(model: request.model ?? "", pieces: ["reply to ", request.lastMessage ?? ""], delay: delay)
    }
}

/// Runs a worker on `spool` (in this process) against a fake with `handler`, runs `body`, then
/// shuts the worker down and waits for it.
func withWorker(
    _ spool: TestSpool, handler: @escaping FakeOllama.Handler,
    configure: (inout WorkerConfiguration) -> Void = { _ in },
    _ body: (FakeOllama, SpoolWorker) async throws -> Void
) async throws {
    try await FakeOllama.with(handler) { fake in
        _ = try await runWorker(spool, baseURL: fake.baseURL, configure: configure) { worker in
            try await body(fake, worker)
        }
    }
}

/// Runs a worker against `baseURL`; `body` runs once the worker watches incoming/.
@discardableResult
func runWorker(
    _ spool: TestSpool, baseURL: String, configure: (inout WorkerConfiguration) -> Void = { _ in },
    _ body: (SpoolWorker) async throws -> Void = { _ in }
) async throws -> SpoolWorker.Summary {
    try await runWorker(spool, hosts: [], baseURL: baseURL, configure: configure, body)
}

/// Runs a worker against `hosts` (each with concurrency 1), or the one `baseURL` when none.
func runWorker(
    _ spool: TestSpool, hosts: [String], baseURL: String = OllamaHost.defaultBaseURL,
    configure: (inout WorkerConfiguration) -> Void, _ body: (SpoolWorker) async throws -> Void
) async throws -> SpoolWorker.Summary {
    let ollama = OllamaProvider.Configuration(baseURL: baseURL, connectTimeout: .seconds(2), firstByteTimeout: .seconds(10), idleTimeout: .seconds(10))
    var configuration = WorkerConfiguration(
        spool: spool.spool, ollama: ollama, hosts: hosts.map { HostConfiguration(url: $0, concurrency: 1) }, retries: 2,
        grace: .seconds(5), rescanInterval: nil, backoffBase: .milliseconds(10), backoffCap: .milliseconds(100), workerID: "test:1")
    configure(&configuration)
    var logger = Logger(label: "test")
    logger.logLevel = ProcessInfo.processInfo.environment["VIBES_TEST_LOGS"] != nil ? .debug : .critical
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

/// The built `vibes-spool` executable, beside the test bundle.
func executablePath() -> String {
    let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var directory = testBinary.deletingLastPathComponent()
    if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
    return directory.appendingPathComponent("vibes-spool").path
}

/// A child process running `vibes-spool` with `arguments`.
final class WorkerProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String

    /// Runs `vibes-spool arguments`; its stderr goes to `logPath` (a pipe could fill and block it).
    init(_ arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executablePath())
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit (polling with a deadline) and returns its status.
    func exitStatus(timeout: Duration = .seconds(30)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning {
            signal(SIGKILL)
            return nil
        }
        return process.terminationStatus
    }

    var log: String { (FileManager.default.contents(atPath: logPath)).map { String(decoding: $0, as: UTF8.self) } ?? "" }
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
