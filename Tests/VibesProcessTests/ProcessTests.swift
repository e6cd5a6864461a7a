//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Synchronization
import Testing
import VibesModels
@testable import VibesSpool

/// Real `vibes-spool` processes: several workers on one spool, `kill -9`, signals, the CLI.
@Suite struct ProcessTests {
    func run(_ t: TestSpool, _ fake: FakeOllama, _ extra: [String] = [], log: String = "worker") throws -> WorkerProcess {
        try WorkerProcess(
            ["run", "--spool", t.spool.root, "--ollama-url", fake.baseURL, "--retry-delay", "0.05", "--rescan-interval", "0.5"] + extra,
            logPath: "\(t.base)/\(log).log")
    }

    @Test func twoWorkerProcessesOnOneSpoolRunEachJobExactlyOnce() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await FakeOllama.with(echoHandler()) { fake in
            let first = try run(t, fake, ["--concurrency", "2"], log: "first")
            let second = try run(t, fake, ["--concurrency", "2"], log: "second")
            defer { first.signal(SIGKILL); second.signal(SIGKILL) }
            await eventually("both workers are up") { (try? FileManager.default.contentsOfDirectory(atPath: t.spool.workers).count) == 2 }
            for n in 0..<300 { try t.dropRequest("job\(n)", prompt: "job\(n)") }
            await eventually("all 300 done", timeout: .seconds(120)) { t.doneIDs.count == 300 }
            let counts = promptCounts(fake)
            #expect(counts.count == 300)
            #expect(counts.values.allSatisfy { $0 == 1 }, "the fake saw each job exactly once")
            let workers = Set(t.doneIDs.compactMap { t.json("\(t.spool.done)/\($0).result.json")?["worker"]?.stringValue })
            #expect(workers.count == 2, "both workers took jobs")
            first.signal(SIGTERM)
            second.signal(SIGTERM)
            #expect(await first.exitStatus() == 0)
            #expect(await second.exitStatus() == 0)
        }
        #expect(t.failedIDs.isEmpty)
        #expect(t.names(t.spool.incoming).isEmpty && t.names(t.spool.active).isEmpty)
    }

    @Test func killMinus9MidJobThenRestartEndsEveryJobExactlyOnce() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let slowFirstRun = Mutex(true)
        let handler = FakeOllama.ollamaLike(models: ["echo"]) { request in
            let slow = slowFirstRun.withLock { $0 }
            return .chatStream(pieces: ["reply to ", request.lastMessage ?? ""], delay: slow ? .seconds(30) : nil)
        }
        try await FakeOllama.with(handler) { fake in
            for n in 0..<20 { try t.dropRequest("job\(n)", prompt: "job\(n)") }
            let doomed = try run(t, fake, ["--concurrency", "3"], log: "doomed")
            await eventually("three jobs are streaming") { t.names(t.spool.active).filter { $0.hasSuffix(".partial") }.count == 3 }
            doomed.signal(SIGKILL)
            _ = await doomed.exitStatus()
            #expect(t.names(t.spool.active).filter { $0.hasSuffix(".json") }.count == 3, "left behind, unlocked")
            slowFirstRun.withLock { $0 = false }
            let restarted = try WorkerProcess(
                ["run", "--once", "--spool", t.spool.root, "--ollama-url", fake.baseURL], logPath: "\(t.base)/restart.log")
            #expect(await restarted.exitStatus() == 0, "\(restarted.log)")
        }
        #expect(t.doneIDs.count == 20)
        #expect(t.failedIDs.isEmpty)
        #expect(t.names(t.spool.incoming).isEmpty)
        #expect(t.names(t.spool.active).isEmpty)
        let retried = t.doneIDs.filter { t.json("\(t.spool.done)/\($0).result.json")?["attempts"] == 2 }
        #expect(retried.count == 3, "the killed attempts were counted")
        for id in t.doneIDs { #expect(t.read("\(t.spool.done)/\(id).txt") == "reply to \(id)") }
    }

    @Test func sigtermMidJobExitsZeroAndLosesNothing() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let endless = FakeResponse(status: 200, steps: [.send(Array((FakeResponse.chatLine(content: "x") + "\n").utf8)), .sleep(.seconds(60))])
        try await FakeOllama.with(FakeOllama.ollamaLike(models: ["echo"]) { _ in endless }) { fake in
            for n in 0..<3 { try t.dropRequest("job\(n)", prompt: "job\(n)") }
            let worker = try run(t, fake, ["--grace", "0.2"])
            await eventually("a job is streaming") { t.names(t.spool.active).contains { $0.hasSuffix(".partial") } }
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.log)")
            await eventually("the fake sees the connection closed") { fake.closedConnections >= 1 }
        }
        #expect(t.names(t.spool.incoming) == ["job0.json", "job1.json", "job2.json"])
        #expect(t.names(t.spool.active).isEmpty)
        #expect(t.doneIDs.isEmpty && t.failedIDs.isEmpty)
    }

    @Test func submitWaitPrintsExactlyTheReplyAndExitCodes() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await FakeOllama.with(echoHandler(models: ["echo"], delay: .milliseconds(10))) { fake in
            let worker = try run(t, fake)
            defer { worker.signal(SIGKILL) }
            let done = try await runCLI(["submit", "--spool", t.spool.root, "--model", "echo", "--option", "num_predict=3", "--wait", "hi there"])
            #expect(done.status == 0)
            #expect(done.stdout == "reply to hi there")
            let id = done.stderr.split(separator: "\n").first.map(String.init) ?? ""
            let request = try #require(t.json("\(t.spool.done)/\(id).json"))
            #expect(request["options"]?["num_predict"] == 3, "--option values are JSON when they parse")
            let failed = try await runCLI(["submit", "--spool", t.spool.root, "--model", "nope", "--wait", "x"])
            #expect(failed.status == 1)
            #expect(failed.stdout == "")
            #expect(failed.stderr.contains("Model 'nope' is not installed. Run `ollama pull nope`."))
            let status = try await runCLI(["status", "--spool", t.spool.root, "--json"])
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(status.stdout.utf8))
            #expect(json["counts"]?["done"] == 1)
            #expect(json["counts"]?["failed"] == 1)
            let requeue = try await runCLI(["requeue", "--spool", t.spool.root, "--all-failed"])
            #expect(requeue.status == 0)
        }
        let usage = try await runCLI(["run", "--concurrency", "0"])
        #expect(usage.status == 2, "bad usage")
        let port = try await FakeOllama.closedPort()
        let models = try await runCLI(["models", "--ollama-url", "http://127.0.0.1:\(port)"])
        #expect(models.status == 3)
        #expect(models.stderr.contains("Ollama not running at http://127.0.0.1:\(port). Start it with `ollama serve`."))
    }

    @Test func modelsListsNamesContextAndCapabilities() async throws {
        try await FakeOllama.with(FakeOllama.ollamaLike(models: ["llama3.2:latest"], contextLength: 131072) { _ in .error(500, "x") }) { fake in
            let table = try await runCLI(["models", "--ollama-url", fake.baseURL])
            #expect(table.status == 0)
            #expect(table.stdout.contains("llama3.2:latest"))
            #expect(table.stdout.contains("131072"))
            let json = try await runCLI(["models", "--ollama-url", fake.baseURL, "--json"])
            let value = try JSONDecoder().decode(JSONValue.self, from: Data(json.stdout.utf8))
            let first = try #require(value.arrayValue?.first)
            #expect(first["id"] == "ollama:llama3.2:latest")
            #expect(first["context_window"] == 131072)
            #expect(first["capabilities"] == ["completion", "tools"])
            #expect(first["local"] == true)
        }
    }
}
