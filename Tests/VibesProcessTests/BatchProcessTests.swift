//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// Batches through worker processes: `kill -9` mid-batch and resume, `submit FILE.jsonl --wait`.
extension ProcessTests {
    func batchLines(_ count: Int, prefix: String = "") -> String {
        (1...count).map { #"{"custom_id":"\#(prefix)\#($0)","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"n\#($0)"}]}}"# }
            .joined(separator: "\n") + "\n"
    }

    func customIDs(_ path: String, _ t: TestSpool) -> [String] {
        (t.read(path) ?? "").split(separator: "\n").compactMap { line in
            (try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)))?["custom_id"]?.stringValue
        }
    }

    @Test func aBatchKilledMidwayResumesWithoutRunningALineTwice() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"], replyDelay: .milliseconds(15))
        try await FakeOllama.with(host.handler) { fake in
            try t.drop("big.jsonl", batchLines(60))
            let first = try run(t, fake, ["--concurrency", "2"], log: "first")
            await eventually("some lines are out") { customIDs("\(t.spool.active)/big.output.jsonl", t).count >= 10 }
            first.signal(SIGKILL)
            _ = await first.exitStatus()
            let second = try run(t, fake, ["--concurrency", "2", "--once"], log: "second")
            #expect(await second.exitStatus() == 0, "\(second.log)")
            let ids = customIDs("\(t.spool.done)/big.output.jsonl", t)
            #expect(ids.count == 60, "every line once")
            #expect(Set(ids).count == 60, "no custom_id twice")
            #expect(t.read("\(t.spool.done)/big.errors.jsonl") == "")
            // At most the lines that were running at the kill (concurrency 2), or settled and
            // waiting for their group's write (as many again), ran twice.
            #expect(host.chats.count <= 64, "chats: \(host.chats.count)")
            #expect(t.json("\(t.spool.done)/big.batch.json")?["status"] == "completed")
        }
    }

    @Test func sigtermMidBatchExitsAndTheBatchResumesLater() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"], replyDelay: .milliseconds(15))
        try await FakeOllama.with(host.handler) { fake in
            try t.drop("big.jsonl", batchLines(40))
            let first = try run(t, fake, [], log: "first")
            await eventually("some lines are out") { customIDs("\(t.spool.active)/big.output.jsonl", t).count >= 5 }
            first.signal(SIGTERM)
            #expect(await first.exitStatus() == 0, "\(first.log)")
            #expect(t.names(t.spool.active).contains("big.jsonl"), "the batch stays in active/ for the next start")
            let second = try run(t, fake, ["--once"], log: "second")
            #expect(await second.exitStatus() == 0, "\(second.log)")
            let ids = customIDs("\(t.spool.done)/big.output.jsonl", t)
            #expect(ids.count == 40 && Set(ids).count == 40)
        }
    }

    @Test func linesStillOutAtTheGracesEndGoBackAndRunLater() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let held = FakeHost(name: "held", models: ["m"], holdChats: true)
        try await FakeOllama.with(held.handler) { fake in
            try t.drop("big.jsonl", batchLines(10))
            let first = try run(t, fake, ["--concurrency", "2", "--grace", "0.3"], log: "first")
            await eventually("two lines are out") { held.chats.count == 2 }
            first.signal(SIGTERM)
            let start = ContinuousClock.now
            #expect(await first.exitStatus() == 0, "\(first.log)")
            #expect(ContinuousClock.now - start < .seconds(10))
            #expect(first.log.contains("grace period over: cancelling 0 job(s) and 2 batch line(s)"), "\(first.log)")
            await eventually("their connections closed") { fake.closedConnections >= 2 }
            #expect(t.names(t.spool.active).contains("big.jsonl"), "the batch stays in active/ for the next start")
            #expect(customIDs("\(t.spool.active)/big.output.jsonl", t).isEmpty, "no line recorded")
            held.gate?.open()
        }
        let host = FakeHost(name: "a", models: ["m"])
        try await FakeOllama.with(host.handler) { fake in
            let second = try run(t, fake, ["--once"], log: "second")
            #expect(await second.exitStatus() == 0, "\(second.log)")
            let ids = customIDs("\(t.spool.done)/big.output.jsonl", t)
            #expect(ids.count == 10 && Set(ids).count == 10, "every line once")
            #expect(host.chats.count == 10)
        }
    }

    @Test func submitABatchAndWait() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"])
        try await FakeOllama.with(host.handler) { fake in
            let worker = try run(t, fake)
            defer { worker.signal(SIGKILL) }
            let file = "\(t.base)/lines.jsonl"
            try Data(batchLines(5).utf8).write(to: URL(fileURLWithPath: file))
            let done = try await runCLI(["submit", "--spool", t.spool.root, "--wait", file])
            #expect(done.status == 0, "\(done.stderr)")
            #expect(done.stdout == "\(t.spool.done)/lines.output.jsonl\n")
            #expect(done.stderr.contains("5/5 lines, 0 failed"))
            try Data((batchLines(2, prefix: "x") + #"{"custom_id":"bad","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[],"n":3}}"# + "\n").utf8)
                .write(to: URL(fileURLWithPath: file))
            let partly = try await runCLI(["submit", "--spool", t.spool.root, "--wait", file])
            #expect(partly.status == 1, "a line failed")
            #expect(partly.stdout == "\(t.spool.done)/lines~2.output.jsonl\n")
            let status = try await runCLI(["status", "--spool", t.spool.root, "--json"])
            #expect(status.status == 0)
        }
    }
}
