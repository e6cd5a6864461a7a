//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

extension SpoolWorkerTests {
    @Test func filesDroppedBeforeDuringAndAfterStartEachEndInDoneExactlyOnce() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        for n in 0..<20 { try t.dropRequest("before\(n)", prompt: "before\(n)") }
        // Drops racing with the worker's start-up (between watch and scan).
        let dropper = Task {
            for n in 0..<50 {
                try t.dropRequest("during\(n)", prompt: "during\(n)")
                await Task.yield()
            }
        }
        try await withWorker(t, handler: echoHandler(), configure: { $0.concurrency = 4 }) { fake, _ in
            try await dropper.value
            for n in 0..<500 { try t.dropRequest("burst\(n)", prompt: "burst\(n)") }
            await eventually("all 570 done", timeout: .seconds(120)) { t.doneIDs.count == 570 }
            let counts = promptCounts(fake)
            #expect(counts.count == 570)
            #expect(counts.values.allSatisfy { $0 == 1 }, "no job ran twice")
        }
        #expect(t.names(t.spool.incoming).isEmpty)
        #expect(t.names(t.spool.active).isEmpty)
        #expect(t.failedIDs.isEmpty)
        #expect(t.names(t.spool.done).count == 570 * 3)
    }

    @Test func oldestFirst() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        // Named against their age, so that name order would be wrong.
        for (index, name) in ["c", "b", "a"].enumerated() {
            try t.dropRequest(name, prompt: name)
            var times = [timespec(tv_sec: 1_700_000_000 + index * 10, tv_nsec: 0), timespec(tv_sec: 1_700_000_000 + index * 10, tv_nsec: 0)]
            utimensat(AT_FDCWD, "\(t.spool.incoming)/\(name).json", &times, 0)
        }
        try await withWorker(t, handler: echoHandler()) { fake, _ in
            await eventually("all done") { t.doneIDs.count == 3 }
            #expect(fake.requests.filter { $0.path == "/api/chat" }.map { $0.lastMessage ?? "" } == ["c", "b", "a"])
        }
    }

    @Test func anOrphanInActiveIsPutBackAndRunWithItsAttemptsKept() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        // As a worker killed mid-job leaves it: request, partial text, attempt count; no lock.
        try Data(#"{"model":"echo","prompt":"orphan"}"#.utf8).write(to: URL(fileURLWithPath: "\(t.spool.active)/orphan.json"))
        try Data("half a rep".utf8).write(to: URL(fileURLWithPath: "\(t.spool.active)/orphan.partial"))
        try Data("2\n".utf8).write(to: URL(fileURLWithPath: "\(t.spool.active)/.orphan.attempts"))
        try await withWorker(t, handler: echoHandler()) { _, _ in
            await eventually("the orphan is done") { t.doneIDs == ["orphan"] }
        }
        #expect(t.read("\(t.spool.done)/orphan.txt") == "reply to orphan", "a retry starts the partial afresh")
        #expect(t.json("\(t.spool.done)/orphan.result.json")?["attempts"] == 3)
        #expect(t.names(t.spool.active).isEmpty)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: t.spool.active)) ?? []).isEmpty, "no side files left")
    }

    @Test func aJobLockedByALiveWorkerIsNotTakenAway() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let path = "\(t.spool.active)/busy.json"
        try Data(#"{"model":"echo","prompt":"busy"}"#.utf8).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        #expect(flock(fd, LOCK_EX) == 0)
        try await withWorker(t, handler: echoHandler(), configure: { $0.rescanInterval = .milliseconds(20) }) { _, _ in
            try t.dropRequest("other", prompt: "other")
            await eventually("the other job is done") { t.doneIDs == ["other"] }
            try await Task.sleep(for: .milliseconds(100))  // a window of several rescans that must leave it alone
            #expect(FileManager.default.fileExists(atPath: path))
        }
        close(fd)
    }

    @Test func aCrashMidCommitIsCompletedFromItsCommitRecord() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        // Crashed after the request moved into done/ but before the envelope's final rename.
        try Data(#"{"model":"echo","prompt":"x"}"#.utf8).write(to: URL(fileURLWithPath: "\(t.spool.done)/late.json"))
        try Data("text".utf8).write(to: URL(fileURLWithPath: "\(t.spool.done)/late.txt"))
        try Data(#"{"id":"late","status":"done"}"#.utf8).write(to: URL(fileURLWithPath: "\(t.spool.done)/.late.result.json.tmp"))
        // Crashed before the request left active/: the half commit is dropped, the job runs again.
        try Data(#"{"model":"echo","prompt":"again"}"#.utf8).write(to: URL(fileURLWithPath: "\(t.spool.active)/early.json"))
        try Data("stale".utf8).write(to: URL(fileURLWithPath: "\(t.spool.done)/early.txt"))
        try Data(#"{"id":"early"}"#.utf8).write(to: URL(fileURLWithPath: "\(t.spool.done)/.early.result.json.tmp"))
        try await withWorker(t, handler: echoHandler()) { _, _ in
            await eventually("both complete") { t.doneIDs == ["early", "late"] }
        }
        #expect(t.json("\(t.spool.done)/late.result.json")?["id"] == "late")
        #expect(t.read("\(t.spool.done)/early.txt") == "reply to again")
        #expect(!FileManager.default.fileExists(atPath: "\(t.spool.done)/.late.result.json.tmp"))
    }

    @Test func gracefulShutdownPutsARunningJobBackWithItsAttempt() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let endless = FakeResponse(status: 200, steps: [.send(Array((FakeResponse.chatLine(content: "x") + "\n").utf8)), .sleep(.seconds(60))])
        try await FakeOllama.with({ _ in endless }) { fake in
            try await runWorker(t, baseURL: fake.baseURL, configure: { $0.grace = .milliseconds(100) }) { worker in
                try t.dropRequest("long", prompt: "x")
                await eventually("streaming") { FileManager.default.fileExists(atPath: "\(t.spool.active)/long.partial") }
                worker.requestShutdown()
            }
            await eventually("the connection closed") { fake.closedConnections >= 1 }
        }
        #expect(t.names(t.spool.incoming) == ["long.json"])
        #expect(t.read("\(t.spool.incoming)/.long.json.attempts") == "1\n")
        #expect(t.names(t.spool.active).isEmpty)
        try await withWorker(t, handler: echoHandler(), configure: { $0.once = true }) { _, _ in }
        #expect(t.doneIDs == ["long"])
        #expect(t.json("\(t.spool.done)/long.result.json")?["attempts"] == 2)
    }

    @Test func statusShowsCountsRunningJobsAndBytes() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let handler = FakeOllama.ollamaLike(models: ["slow", "echo"]) { request in
            request.model == "slow"
                ? FakeResponse(status: 200, steps: [.send(Array((FakeResponse.chatLine(content: "12345") + "\n").utf8)), .sleep(.seconds(60))])
                : .chatStream(pieces: ["ok"])
        }
        try await withWorker(t, handler: handler, configure: { $0.grace = .milliseconds(50); $0.concurrency = 2 }) { _, _ in
            try t.dropRequest("done1", prompt: "a")
            await eventually("done") { t.doneIDs == ["done1"] }
            try t.drop("bad.json", "nope")
            await eventually("failed") { t.failedIDs == ["bad"] }
            try t.dropRequest("running", model: "slow", prompt: "b")
            await eventually("five bytes streamed") { (try? SpoolStatus.read(t.spool))?.running.first?.bytes == 5 }
            let status = try SpoolStatus.read(t.spool)
            #expect(status.counts.done == 1)
            #expect(status.counts.failed == 1)
            #expect(status.counts.active == 1)
            #expect(status.running.first?.id == "running")
            #expect(status.paused == nil)
            let json = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(status))
            #expect(json["counts"]?["incoming"] == 0)
            #expect(json["running"]?.arrayValue?.first?["age_s"] != nil)
            #expect(json["paused"] == .null)
        }
    }

    @Test func submitFollowAndRequeue() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let id = try t.spool.submit(["model": "echo", "prompt": "follow me"], preferredID: "sub")
        #expect(id == "sub")
        #expect(try t.spool.submit(["model": "echo", "prompt": "again"], preferredID: "sub") == "sub~2", "a taken id gets a suffix")
        #expect(t.names(t.spool.tmp).isEmpty)
        try await withWorker(t, handler: echoHandler(delay: .milliseconds(20))) { _, _ in
            var text: [UInt8] = []
            let result = try await t.spool.follow(id: "sub", output: { text += $0 }, notice: { _ in })
            #expect(result == .done)
            #expect(String(decoding: text, as: UTF8.self) == "reply to follow me")
            let failing = try t.spool.submit(["model": "missing", "prompt": "x"], preferredID: nil)
            let outcome = try await t.spool.follow(id: failing, output: { _ in }, notice: { _ in })
            guard case .failed(let message) = outcome else { Issue.record("\(outcome)"); return }
            #expect(message.hasPrefix("Model 'missing' is not installed. Run `ollama pull missing`. Hosts asked: http://127.0.0.1:"))
            #expect(try t.spool.failedIDs() == [failing], "\(t.names(t.spool.failed)) \(failing)")
            #expect(try t.spool.requeue(ids: [failing]) == [failing])
            await eventually("it ran again and failed again") { t.failedIDs == [failing] }
            #expect(t.errorEnvelope(failing)?["attempts"] == 1, "the attempt count started again")
        }
        #expect(throws: RequeueError.self) { try t.spool.requeue(ids: ["nope"]) }
    }
}
