//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
@testable import VibesSpool

/// File systems without `RENAME_NOREPLACE` (NFS, for one): every move is `link` + `unlink`, and a
/// crash between the two leaves one file under two names. Forced here with `renamesByLink`.
extension SpoolWorkerTests {
    @Test(arguments: [false, true])
    func renameNoReplaceNeverReplaces(byLink: Bool) throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let (a, b, c) = ("\(t.base)/a", "\(t.base)/b", "\(t.base)/c")
        try Data("A".utf8).write(to: URL(fileURLWithPath: a))
        try Data("B".utf8).write(to: URL(fileURLWithPath: b))
        #expect(try FileSystem.renameNoReplace(a, b, byLink: byLink) == .targetExists)
        #expect(t.read(a) == "A" && t.read(b) == "B", "nothing replaced, nothing removed")
        #expect(try FileSystem.renameNoReplace(a, c, byLink: byLink) == .renamed)
        #expect(t.read(a) == nil && t.read(c) == "A")
        #expect(try FileSystem.renameNoReplace(a, c, byLink: byLink) == .sourceMissing)
        // One file under two names (a link + unlink cut short): the move is completed.
        #expect(link(c, a) == 0)
        #expect(try FileSystem.renameNoReplace(a, c, byLink: byLink) == .renamed)
        #expect(t.read(a) == nil && t.read(c) == "A")
    }

    @Test func jobsRunExactlyOnceWhenEveryMoveIsALinkAndUnlink() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await withWorker(t, handler: echoHandler(), configure: { $0.spool.renamesByLink = true; $0.concurrency = 2 }) { fake, _ in
            for i in 0..<40 { try t.dropRequest("job\(i)", prompt: "p\(i)") }
            try t.dropRequest("bad", model: "", prompt: "x")
            await eventually("all finished") { t.doneIDs.count == 40 && t.failedIDs == ["bad"] }
            #expect(fake.requests.filter { $0.path == "/api/chat" }.count == 40)
        }
        #expect(t.names(t.spool.incoming).isEmpty)
        #expect(t.names(t.spool.active).isEmpty)
        #expect(t.read("\(t.spool.done)/job7.txt") == "reply to p7")
    }

    @Test func aClaimCutShortBetweenLinkAndUnlinkRunsTheJobOnce() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let request = #"{"model":"echo","prompt":"once"}"#
        try t.drop("half.json", request)
        #expect(link("\(t.spool.incoming)/half.json", "\(t.spool.active)/half.json") == 0)
        try await FakeOllama.with(echoHandler()) { fake in
            try await runWorker(t, baseURL: fake.baseURL, configure: { $0.spool.renamesByLink = true; $0.once = true })
            #expect(fake.requests.filter { $0.path == "/api/chat" }.count == 1)
        }
        #expect(t.names(t.spool.done) == ["half.json", "half.result.json", "half.txt"], "no half~2")
        #expect(t.names(t.spool.incoming).isEmpty && t.names(t.spool.active).isEmpty)
        #expect(t.read("\(t.spool.done)/half.json") == request)
    }

    @Test func aFinishCutShortBetweenLinkAndUnlinkIsCompletedNotRunAgain() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        // The text and the commit record are in done/; the request is linked into done/ but its
        // name in active/ was not yet removed.
        try Data(#"{"model":"echo","prompt":"x"}"#.utf8).write(to: URL(fileURLWithPath: "\(t.spool.active)/late.json"))
        #expect(link("\(t.spool.active)/late.json", "\(t.spool.done)/late.json") == 0)
        try Data("text".utf8).write(to: URL(fileURLWithPath: "\(t.spool.done)/late.txt"))
        try Data(#"{"id":"late","status":"done"}"#.utf8).write(to: URL(fileURLWithPath: "\(t.spool.done)/.late.result.json.tmp"))
        try await FakeOllama.with(echoHandler()) { fake in
            try await runWorker(t, baseURL: fake.baseURL, configure: { $0.spool.renamesByLink = true; $0.once = true })
            #expect(fake.requests.filter { $0.path == "/api/chat" }.isEmpty, "not run again")
        }
        #expect(t.names(t.spool.active).isEmpty && t.names(t.spool.incoming).isEmpty)
        #expect(t.names(t.spool.done) == ["late.json", "late.result.json", "late.txt"])
        #expect(t.read("\(t.spool.done)/late.txt") == "text")
    }
}
