//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// `vibes-spool cancel` and `prune`, with and without worker processes: queued jobs cancelled
/// by the command itself, running ones through their worker, two workers, `kill -9` mid-cancel,
/// and a prune racing commits.
extension ProcessTests {
    func cancelCLI(_ t: TestSpool, _ ids: [String], wait: String = "5") async throws -> (status: Int32, stdout: String, stderr: String) {
        try await runCLI(["cancel", "--spool", t.spool.root, "--wait", wait] + ids)
    }

    @Test func theCommandCancelsQueuedJobsAndBatchesWithNoWorker() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let request = #"{"model":"m","prompt":"hi","metadata":[1]}"#
        try t.drop("q.json", request)
        try t.drop("b.jsonl", CancelFixtures.lines(4))
        let result = try await cancelCLI(t, ["q", "b"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "q: cancelled\nb: cancelled\n")
        #expect(t.read("\(t.spool.failed)/q.json") == request, "byte for byte")
        let envelope = try #require(t.errorEnvelope("q"))
        #expect(envelope["error"]?["kind"] == "cancelled")
        #expect(envelope["model"] == "m")
        #expect(envelope["metadata"] == [1])
        #expect(t.json("\(t.spool.done)/b.batch.json")?["status"] == "cancelled")
        #expect(CancelFixtures.checkExact(t, "b", total: 4) == (0, 4))
        #expect(t.names(t.spool.cancel).isEmpty && t.names(t.spool.incoming).isEmpty && t.names(t.spool.active).isEmpty)
    }

    @Test func theCommandSaysAlreadyFinishedOrNoSuchJob() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await FakeOllama.with(echoHandler()) { fake in
            try t.dropRequest("fin", prompt: "x")
            let once = try run(t, fake, ["--once"])
            #expect(await once.exitStatus() == 0)
        }
        let result = try await cancelCLI(t, ["fin", "ghost"])
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("fin: already finished (done/fin.result.json)\nghost: no such job"), "\(result.stdout)")
        #expect(t.names(t.spool.cancel) == ["ghost"], "kept for an hour, for a job dropped later")
        #expect(t.doneIDs == ["fin"])
        let bad = try await runCLI(["cancel", "--spool", t.spool.root, "../x"])
        #expect(bad.status == 2)
    }

    @Test func theCommandCancelsARunningJobThroughItsWorker() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let handler = FakeOllama.ollamaLike(models: ["echo"]) { _ in .chatStream(pieces: (0..<3000).map { "w\($0) " }, delay: .milliseconds(10)) }
        try await FakeOllama.with(handler) { fake in
            let worker = try run(t, fake)
            defer { worker.signal(SIGKILL) }
            try t.dropRequest("long", prompt: "x")
            await eventually("it streams") { (t.read("\(t.spool.active)/long.partial")?.count ?? 0) > 10 }
            let start = ContinuousClock.now
            let result = try await cancelCLI(t, ["long"])
            #expect(result.stdout == "long: cancelled\n" && result.status == 0, "\(result.stdout) \(worker.log)")
            #expect(ContinuousClock.now - start < .seconds(5), "said at once, not at the wait's end")
            #expect(t.errorEnvelope("long")?["partial_bytes"]?.doubleValue ?? 0 > 0)
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0)
        }
    }

    /// Two workers, jobs running on both and queued: each cancel acted on once, by one worker.
    @Test func twoWorkersNeverBothActOnOneCancel() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let cancelled = (0..<12).filter { $0 % 2 == 0 }.map { "j\($0)" }
        // A job to be cancelled streams for 20 s, so that it is still running when its cancel
        // comes, however loaded the machine; the others for 2 s.
        let handler = FakeOllama.ollamaLike(models: ["echo"]) { request in
            let body = String(decoding: request.body, as: UTF8.self)
            let long = cancelled.contains { body.contains("\"\($0)\"") }
            return .chatStream(pieces: (0..<(long ? 4000 : 400)).map { "w\($0) " }, delay: .milliseconds(5))
        }
        try await FakeOllama.with(handler) { fake in
            let first = try run(t, fake, ["--concurrency", "2"], log: "first")
            let second = try run(t, fake, ["--concurrency", "2"], log: "second")
            defer { first.signal(SIGKILL); second.signal(SIGKILL) }
            await eventually("both workers are up") { (try? FileManager.default.contentsOfDirectory(atPath: t.spool.workers).count) == 2 }
            for n in 0..<12 { try t.dropRequest("j\(n)", prompt: "j\(n)") }
            await eventually("four run") { t.names(t.spool.active).filter { $0.hasSuffix(".partial") }.count == 4 }
            for id in cancelled { try Data().write(to: URL(fileURLWithPath: "\(t.spool.cancel)/\(id)")) }
            await eventually("all ended", timeout: .seconds(60)) { t.doneIDs.count + t.failedIDs.count == 12 }
            #expect(Set(t.failedIDs) == Set(cancelled), "\(t.failedIDs)")
            for id in cancelled { #expect(t.errorEnvelope(id)?["error"]?["kind"] == "cancelled") }
            let logs = first.log + second.log
            for id in cancelled {
                let acted = logs.split(separator: "\n").filter { $0.contains("failed (cancelled)") && $0.contains("job=\(id)") }
                #expect(acted.count == 1, "\(id): \(acted)")
            }
            await eventually("the cancel files are gone") { t.names(t.spool.cancel).isEmpty }
        }
    }

    /// `kill -9` at a range of moments after a batch's cancel: the restart finishes the cancel,
    /// with every custom_id once.
    @Test func killMinus9MidCancelThenRestart() async throws {
        for trial in 0..<4 {
            let t = try TestSpool()
            defer { t.cleanUp() }
            let host = FakeHost(name: "a", models: ["m"], replyDelay: .milliseconds(5))
            try await FakeOllama.with(host.handler) { fake in
                try t.drop("k.jsonl", CancelFixtures.lines(400))
                let doomed = try run(t, fake, ["--concurrency", "4"], log: "doomed\(trial)")
                await eventually("lines are out") { t.jsonLines("\(t.spool.active)/k.output.jsonl").count >= 20 }
                try Data().write(to: URL(fileURLWithPath: "\(t.spool.cancel)/k"))
                try await Task.sleep(for: .milliseconds(trial * 3))
                doomed.signal(SIGKILL)
                _ = await doomed.exitStatus()
                let before = host.chats.count
                // The killed worker may have finished the cancel before the kill: then the run
                // that follows has nothing to do.
                let committedBefore = t.json("\(t.spool.done)/k.batch.json") != nil
                let again = try run(t, fake, ["--once"], log: "again\(trial)")
                #expect(await again.exitStatus() == (committedBefore ? 0 : 1), "a cancelled batch counts as failed: \(again.log)")
                #expect(t.json("\(t.spool.done)/k.batch.json")?["status"] == "cancelled", "\(again.log)")
                _ = CancelFixtures.checkExact(t, "k", total: 400)
                #expect(host.chats.count - before <= 8, "at most the lines running at the kill ran again")
                #expect(t.names(t.spool.cancel).isEmpty)
            }
        }
    }

    /// A prune with no age limit, over and over, while a worker commits 200 jobs: every job is
    /// removed whole (record first), nothing half-committed is touched, and no commit fails.
    @Test func pruneRacingCommits() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await FakeOllama.with(echoHandler()) { fake in
            let worker = try run(t, fake, ["--concurrency", "4"])
            defer { worker.signal(SIGKILL) }
            for n in 0..<200 { try t.dropRequest("p\(n)", prompt: "p\(n)") }
            var removed: [String: Int] = [:]
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                for result in try t.spool.prune(olderThan: 0, now: Date().timeIntervalSince1970 + 1, dryRun: false) {
                    removed[result.entry.id, default: 0] += 1
                    #expect(result.kept.isEmpty)
                    #expect(result.removed.map(\.name) == ["\(result.entry.id).result.json", "\(result.entry.id).json", "\(result.entry.id).txt"])
                }
                if removed.count == 200 { break }
            }
            #expect(removed.count == 200 && removed.values.allSatisfy { $0 == 1 }, "each job removed once, whole")
            #expect(t.names(t.spool.done).isEmpty && t.failedIDs.isEmpty)
            #expect(!worker.log.contains("cannot commit"), "\(worker.log)")
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0)
        }
    }

    @Test func theCommandPrunesByAgeAndLeavesTheRest() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await FakeOllama.with(echoHandler()) { fake in
            for n in 0..<3 { try t.dropRequest("j\(n)", prompt: "x") }
            let once = try run(t, fake, ["--once"])
            #expect(await once.exitStatus() == 0)
        }
        var old = [timeval(tv_sec: time(nil) - 40 * 86400, tv_usec: 0), timeval(tv_sec: time(nil) - 40 * 86400, tv_usec: 0)]
        #expect(utimes("\(t.spool.done)/j0.result.json", &old) == 0)
        try Data().write(to: URL(fileURLWithPath: "\(t.spool.cancel)/other"))
        try t.dropRequest("queued", prompt: "x")
        let dry = try await runCLI(["prune", "--spool", t.spool.root, "--older-than", "30d", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.hasPrefix("would remove done/j0 (3 file(s), "), "\(dry.stdout)")
        #expect(t.doneIDs == ["j0", "j1", "j2"])
        let real = try await runCLI(["prune", "--spool", t.spool.root, "--older-than", "30d"])
        #expect(real.stdout.hasPrefix("removed done/j0 (3 file(s), "), "\(real.stdout)")
        #expect(real.stdout.contains("removed 1 job(s) and batch(es), 3 file(s); freed "))
        #expect(t.doneIDs == ["j1", "j2"] && t.names(t.spool.done).count == 6)
        #expect(t.names(t.spool.cancel) == ["other"] && t.names(t.spool.incoming) == ["queued.json"])
        #expect(try await runCLI(["prune", "--spool", t.spool.root, "--older-than", "soon"]).status == 2)
    }
}
