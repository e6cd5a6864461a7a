//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// A spool whose disk fills up: the worker pauses (no retry storm), says so once, shows it in
/// `status`, and resumes by itself when there is room; the attempts cut short do not count.
extension SpoolWorkerTests {
    /// A reply of `bytes` in 8 KiB chunks.
    func bigReply(_ bytes: Int) -> FakeOllama.Handler {
        let piece = String(repeating: "x", count: 8 << 10)
        return FakeOllama.ollamaLike(models: ["echo"]) { _ in .chatStream(model: "echo", pieces: Array(repeating: piece, count: bytes / (8 << 10))) }
    }

    func fill(_ t: TestSpool, leaving free: Int) throws -> String {
        var info = statvfs()
        statvfs(t.spool.root, &info)
        let available = Int(info.f_bavail) * Int(info.f_frsize)
        let path = t.spool.root + "/filler"
        try Data(count: max(0, available - free)).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(.enabled(if: SmallFileSystem.canMount, "needs to mount a tmpfs (root)"), arguments: [("mid-stream", 160 << 10, 80 << 10), ("at the commit", 40 << 10, 64 << 10)])
    func aFullDiskPausesThenResumes(when: String, replyBytes: Int, free: Int) async throws {
        let t = try TestSpool(tmpfsBytes: 1 << 20)
        defer { t.cleanUp() }
        try t.dropRequest("big", prompt: "fill it")
        // Mid-stream: no room for the reply. At the commit: room for the reply, not for its copy
        // in the envelope as well.
        let filler = try fill(t, leaving: free)
        try await withWorker(t, handler: bigReply(replyBytes), configure: { $0.backoffBase = .milliseconds(200); $0.backoffCap = .seconds(1) }) { fake, _ in
            await eventually("the worker pauses for the disk") {
                (try? SpoolStatus.read(t.spool))?.paused?.reason == "the spool's disk is full"
            }
            let chatsWhilePaused = fake.requests.filter { $0.path == "/api/chat" }.count
            try await Task.sleep(for: .milliseconds(600))  // a window in which a retry storm would show
            #expect(fake.requests.filter { $0.path == "/api/chat" }.count <= chatsWhilePaused + 2, "no retry storm")
            try FileManager.default.removeItem(atPath: filler)
            await eventually("it resumes by itself and the job is done") { t.doneIDs == ["big"] }
        }
        #expect(t.json("\(t.spool.done)/big.result.json")?["attempts"] == 1, "attempts cut short by the disk do not count")
        #expect(t.read("\(t.spool.done)/big.txt")?.utf8.count == replyBytes)
        #expect(t.failedIDs.isEmpty)
    }
}

extension SpoolWorkerTests {
    /// A job put back after a spool error is queued again by the worker itself, not left for
    /// the next rescan (turned off here).
    @Test func aJobPutBackAfterASpoolErrorRunsAgainWithoutARescan() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        // The partial file's name is taken by a symlink: the first attempt cannot open it.
        #expect(symlink("/nonexistent", "\(t.spool.active)/x.partial") == 0)
        try await withWorker(t, handler: echoHandler(), configure: { $0.backoffBase = .milliseconds(50) }) { _, _ in
            try t.dropRequest("x", prompt: "again")
            await eventually("done on its second attempt", timeout: .seconds(10)) { t.doneIDs == ["x"] }
        }
        #expect(t.json("\(t.spool.done)/x.result.json")?["attempts"] == 2)
        #expect(t.read("\(t.spool.done)/x.txt") == "reply to again")
    }
}
