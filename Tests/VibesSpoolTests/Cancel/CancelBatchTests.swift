//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// Cancelling batches: mid-run in a worker, after a crash mid-cancel (the cancel resumes, not
/// the batch), and the exactness of the errors file.
extension SpoolWorkerTests {
    @Test func aBatchCancelledMidRunCommitsWithEveryLineOnce() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"], replyDelay: .milliseconds(10))
        try t.drop("big.jsonl", CancelFixtures.lines(300))
        try await withHosts(t, [host.handler], configure: { _ in }) { _ in
            await eventually("some lines are out") { t.jsonLines("\(t.spool.active)/big.output.jsonl").count >= 10 }
            try Data().write(to: URL(fileURLWithPath: "\(t.spool.cancel)/big"))
            await eventually("committed", timeout: .seconds(10)) { FileManager.default.fileExists(atPath: "\(t.spool.done)/big.batch.json") }
        }
        let progress = try #require(t.json("\(t.spool.done)/big.batch.json"))
        #expect(progress["status"] == "cancelled")
        #expect(progress["cancel_reason"] == "cancelled")
        let (output, errors) = CancelFixtures.checkExact(t, "big", total: 300)
        #expect(output >= 10 && errors > 0)
        #expect(progress["request_counts"]?["completed"]?.doubleValue == Double(output))
        #expect(progress["request_counts"]?["failed"]?.doubleValue == Double(errors))
        #expect(host.chats.count < 300, "no line started after the cancel (few ran: \(host.chats.count))")
        #expect(t.names(t.spool.cancel).isEmpty && t.names(t.spool.active).isEmpty)
    }

    @Test func anExpiredBatchSaysSo() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"], holdChats: true)
        try t.drop("old.jsonl", CancelFixtures.lines(20))
        try await withHosts(t, [host.handler], configure: { _ in }) { _ in
            await eventually("a line is out") { host.chats.count == 1 }
            try Data(#"{"reason": "expired"}"#.utf8).write(to: URL(fileURLWithPath: "\(t.spool.cancel)/old"))
            await eventually("committed", timeout: .seconds(10)) { FileManager.default.fileExists(atPath: "\(t.spool.done)/old.batch.json") }
            host.gate?.open()
        }
        #expect(t.json("\(t.spool.done)/old.batch.json")?["status"] == "expired")
        #expect(CancelFixtures.checkExact(t, "old", total: 20, code: "batch_expired") == (0, 20), "the held line was closed, not waited for")
    }

    /// A crash after the cancel was recorded: the next run finishes the cancel and runs no line.
    @Test func aCrashMidCancelResumesTheCancelNotTheBatch() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let claim = try t.claimBatch("crashy", CancelFixtures.lines(50))
        let run = try t.open(claim)
        let first = try run.nextLines(max: 5)
        for line in first { try run.record(line, .succeeded(body: ["ok": true], usage: Usage(promptTokens: 1, completionTokens: 1)), host: nil) }
        _ = try run.nextLines(max: 5)  // handed out, running at the crash
        try run.beginCancel(.cancelled)
        #expect(t.json("\(t.spool.active)/crashy.batch.json")?["status"] == "cancelling")
        let status = try SpoolStatus.read(t.spool)
        #expect(status.batches.first?.status == "cancelling")
        #expect(status.text.contains("batch crashy: cancelling: 5 of 50 lines"), "\(status.text)")
        try run.close()  // the crash: files synced and the lock released, nothing committed
        let host = FakeHost(name: "a", models: ["m"])
        let summary = try await withHosts(t, [host.handler], configure: { $0.once = true })
        #expect(host.chats.isEmpty, "no line ran after the restart")
        #expect(summary.failed == 1)
        #expect(t.json("\(t.spool.done)/crashy.batch.json")?["status"] == "cancelled")
        #expect(CancelFixtures.checkExact(t, "crashy", total: 50) == (5, 45))
    }

    @Test func cancellingTwiceOrAfterTheCommitChangesNothing() throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let run = try t.open(try t.claimBatch("twice", CancelFixtures.lines(3)))
        try run.beginCancel(.expired)
        try run.beginCancel(.cancelled)
        #expect(run.cancel?.reason == .expired, "the first cancel stands")
        try run.commitCancelled(id: "twice")
        #expect(throws: SpoolError.self) { try run.beginCancel(.cancelled) }
        #expect(CancelFixtures.checkExact(t, "twice", total: 3, code: "batch_expired") == (0, 3))
    }

    @Test func theProgressFileCarriesTheCancelAcrossAReopen() {
        var progress = BatchProgress(id: "p", createdAt: Date(timeIntervalSince1970: 0), workerID: "w")
        #expect(!progress.json.contains("cancel"))
        progress.cancel = BatchProgress.Cancel(reason: .expired, at: Date(timeIntervalSince1970: 60))
        progress.status = .cancelling
        #expect(progress.json.contains(#""status":"cancelling""#))
        #expect(progress.json.contains(#","cancelling_at":"1970-01-01T00:01:00.000Z","cancel_reason":"expired"}"#))
        var again = BatchProgress(id: "p", createdAt: Date(), workerID: "w")
        again.adopt(previous: Array(progress.json.utf8))
        #expect(again.cancel == progress.cancel)
    }
}
