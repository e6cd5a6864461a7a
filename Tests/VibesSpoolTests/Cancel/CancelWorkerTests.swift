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

/// A worker (in this process: one at a time, so in the serialized suite) and cancel files: each
/// state a job can be in when its cancel comes.
extension SpoolWorkerTests {
    @Test func aRunningJobIsCancelledMidStreamWithItsPartialKept() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await withWorker(t, handler: CancelFixtures.slowChat()) { fake, _ in
            try t.dropRequest("long", prompt: "write a lot")
            let partial = "\(t.spool.active)/long.partial"
            await eventually("text streams") { (t.read(partial)?.utf8.count ?? 0) > 20 }
            try CancelFixtures.touch(t, "long")
            await eventually("the job is in failed/", timeout: .seconds(5)) { t.failedIDs == ["long"] }
            let envelope = try #require(t.errorEnvelope("long"))
            #expect(envelope["error"]?["kind"] == "cancelled")
            #expect(envelope["error"]?["retryable"] == false)
            #expect(envelope["error"]?["message"]?.stringValue?.hasSuffix("(cancel/long).") == true)
            let kept = try #require(t.read("\(t.spool.failed)/long.partial"))
            #expect(kept.hasPrefix("w0 w1 "))
            #expect(envelope["partial_bytes"]?.doubleValue == Double(kept.utf8.count))
            #expect(envelope["attempts"] == 1)
            await eventually("the cancel file is gone") { !FileManager.default.fileExists(atPath: "\(t.spool.cancel)/long") }
            await eventually("the request to Ollama was closed") { fake.closedConnections >= 1 }
            #expect(t.read("\(t.spool.failed)/long.json") == #"{"model":"echo","prompt":"write a lot"}"#)
        }
        #expect(t.doneIDs.isEmpty)
    }

    @Test func aQueuedJobIsFailedAtOnceWhileAnotherRuns() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await withWorker(t, handler: CancelFixtures.slowChat(count: 100, delay: .milliseconds(10))) { _, _ in
            try t.dropRequest("first", prompt: "one")
            await eventually("the first runs") { FileManager.default.fileExists(atPath: "\(t.spool.active)/first.partial") }
            try t.drop("second.json", #"{"model":"echo","prompt":"two","id":"my-id","metadata":{"k":1}}"#)
            try CancelFixtures.touch(t, "my-id")
            await eventually("the second is failed", timeout: .seconds(5)) { t.failedIDs == ["my-id"] }
            #expect(t.errorEnvelope("my-id")?["error"]?["kind"] == "cancelled")
            #expect(t.errorEnvelope("my-id")?["metadata"]?["k"] == 1)
            #expect(t.errorEnvelope("my-id")?["partial_bytes"] == 0)
            #expect(t.read("\(t.spool.failed)/my-id.json") == #"{"model":"echo","prompt":"two","id":"my-id","metadata":{"k":1}}"#)
            await eventually("the first is done") { t.doneIDs == ["first"] }
        }
        #expect(t.names(t.spool.cancel).isEmpty)
    }

    @Test func aRetryingJobFailsAtOnce() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let handler = FakeOllama.ollamaLike(models: ["echo"]) { _ in .error(500, "overloaded") }
        try await withWorker(t, handler: handler, configure: { $0.backoffBase = .seconds(60); $0.backoffCap = .seconds(60) }) { fake, _ in
            try t.dropRequest("flaky", prompt: "x")
            await eventually("the first attempt failed") { fake.requests.contains { $0.path == "/api/chat" } }
            await eventually("it waits for its retry") { (try? SpoolStatus.read(t.spool))?.retrying.map(\.id) == ["flaky"] }
            try CancelFixtures.touch(t, "flaky")
            await eventually("failed at once, not after a minute", timeout: .seconds(5)) { t.failedIDs == ["flaky"] }
            #expect(t.errorEnvelope("flaky")?["error"]?["kind"] == "cancelled")
            #expect(fake.requests.filter { $0.path == "/api/chat" }.count == 1)
        }
    }

    @Test func aCancelDroppedBeforeTheJobCancelsItAtItsClaim() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await withWorker(t, handler: echoHandler()) { fake, _ in
            try CancelFixtures.touch(t, "later")
            try t.dropRequest("later", prompt: "x")
            await eventually("failed", timeout: .seconds(5)) { t.failedIDs == ["later"] }
            #expect(!fake.requests.contains { $0.path == "/api/chat" }, "never sent to Ollama")
            await eventually("the cancel file is gone") { t.names(t.spool.cancel).isEmpty }
        }
    }

    @Test func aCancelOverAnHourOldDoesNotCancelAJobDroppedNow() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try CancelFixtures.touch(t, "fresh")
        var old = [timeval(tv_sec: time(nil) - 7200, tv_usec: 0), timeval(tv_sec: time(nil) - 7200, tv_usec: 0)]
        #expect(utimes("\(t.spool.cancel)/fresh", &old) == 0)
        try await withWorker(t, handler: echoHandler()) { _, _ in
            await eventually("the stale cancel is removed") { t.names(t.spool.cancel).isEmpty }
            try t.dropRequest("fresh", prompt: "x")
            await eventually("done", timeout: .seconds(5)) { t.doneIDs == ["fresh"] }
        }
        #expect(t.failedIDs.isEmpty)
    }

    @Test func aCancelForAFinishedJobIsRemovedAndChangesNothing() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await withWorker(t, handler: echoHandler()) { _, _ in
            try t.dropRequest("over", prompt: "x")
            await eventually("done") { t.doneIDs == ["over"] }
            try CancelFixtures.touch(t, "over")
            await eventually("the cancel is removed") { t.names(t.spool.cancel).isEmpty }
        }
        #expect(t.doneIDs == ["over"] && t.failedIDs.isEmpty)
    }

    /// A cancel racing the commit: the job ends in exactly one of done/ and failed/, and the
    /// cancel file is gone either way.
    @Test func aCancelRacingTheCommitEndsTheJobOnce() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await withWorker(t, handler: echoHandler()) { _, _ in
            for n in 0..<60 {
                try t.dropRequest("race\(n)", prompt: "x")
                if n % 3 != 0 { try await Task.sleep(for: .microseconds(200 * (n % 7))) }
                try CancelFixtures.touch(t, "race\(n)")
            }
            await eventually("all ended", timeout: .seconds(30)) { t.doneIDs.count + t.failedIDs.count == 60 }
            await eventually("every cancel file is gone") { t.names(t.spool.cancel).isEmpty }
        }
        let done = Set(t.doneIDs), failed = Set(t.failedIDs)
        #expect(done.isDisjoint(with: failed), "never both")
        #expect(done.count + failed.count == 60)
        for id in failed { #expect(t.errorEnvelope(id)?["error"]?["kind"] == "cancelled") }
    }

    @Test func badEntriesInCancelHaveAClearOutcomeAndNothingOutsideIsTouched() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let outside = "\(t.base)/outside.txt"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: outside))
        try FileManager.default.createDirectory(atPath: "\(t.base)/outside-dir", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(t.base)/outside-dir/f"))
        try await withWorker(t, handler: echoHandler()) { _, _ in
            try t.dropRequest("victim", prompt: "x")
            await eventually("done") { t.doneIDs == ["victim"] }
            #expect(symlink(outside, "\(t.spool.cancel)/victim") == 0)
            #expect(symlink("\(t.base)/outside-dir", "\(t.spool.cancel)/dirlink") == 0)
            #expect(mkfifo("\(t.spool.cancel)/fifo", 0o600) == 0)
            #expect(mkdir("\(t.spool.cancel)/empty", 0o755) == 0)
            // Filled before it appears (an empty folder is removed at once).
            #expect(mkdir("\(t.spool.tmp)/full", 0o755) == 0)
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(t.spool.tmp)/full/inside"))
            #expect(rename("\(t.spool.tmp)/full", "\(t.spool.cancel)/full") == 0)
            let odd = Array("\(t.spool.cancel)/bad\n\u{1b}[31m".utf8) + [0xff, 0]
            let fd = open(odd.map { CChar(bitPattern: $0) }, O_WRONLY | O_CREAT, 0o644)
            #expect(fd >= 0)
            close(fd)
            await eventually("links, FIFO and the empty folder are removed") {
                Set(t.names(t.spool.cancel)).isDisjoint(with: ["victim", "dirlink", "fifo", "empty"])
            }
            // Still served: a job dropped now runs.
            try t.dropRequest("after", prompt: "y")
            await eventually("done") { t.doneIDs.contains("after") }
        }
        #expect(t.read(outside) == "keep me")
        #expect(t.read("\(t.base)/outside-dir/f") == "x")
        #expect(t.read("\(t.spool.cancel)/full/inside") == "x", "a folder with entries is left")
        #expect(t.names(t.spool.cancel).count == 2, "the folder and the odd name (it names nothing; it goes after its hour)")
        #expect(t.doneIDs == ["after", "victim"])
    }

    @Test func tenThousandCancelFilesAtOnce() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await withWorker(t, handler: echoHandler()) { _, _ in
            try t.dropRequest("queued", prompt: "x")
            await eventually("done") { t.doneIDs == ["queued"] }
            let old = time(nil) - 7200
            for n in 0..<10_000 {
                // Made in tmp/ and renamed in, so that each is whole (and dated) when it appears.
                let path = "\(t.spool.tmp)/c\(n)"
                let fd = open(path, O_WRONLY | O_CREAT, 0o644)
                close(fd)
                // Half of them over an hour old: they go at once; the others name nothing and stay.
                if n % 2 == 0 {
                    var times = [timeval(tv_sec: old, tv_usec: 0), timeval(tv_sec: old, tv_usec: 0)]
                    utimes(path, &times)
                }
                rename(path, "\(t.spool.cancel)/c\(n)")
            }
            try t.dropRequest("c1", prompt: "cancelled before it came")
            await eventually("the old half is removed", timeout: .seconds(60)) { t.names(t.spool.cancel).count == 4_999 }
            await eventually("c1 is cancelled") { t.failedIDs == ["c1"] }
        }
        #expect(t.names(t.spool.cancel).allSatisfy { Int($0.dropFirst())! % 2 == 1 })
    }
}
