//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// Hostile names end to end through a worker (issue 12): names too long for the derived files,
/// names that are not UTF-8, hard links dropped into incoming/, trailing commas.
extension SpoolWorkerTests {
    @Test func longNamesRunUnderAnIDThatFitsAndEndInDoneWithAllTheirFiles() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        // Whole names of 240, 248, 252 and 255 bytes; one with two-byte characters at the cut;
        // one whose id is exactly as long as the rule allows, kept as it is.
        let names = [240, 248, 252, 255].map { String(repeating: "n", count: $0 - 5) + ".json" }
            + [String(repeating: "é", count: 125) + ".json", String(repeating: "k", count: JobID.maxBytes) + ".json"]
        try await withWorker(t, handler: echoHandler()) { _, _ in
            for (index, name) in names.enumerated() {
                #expect(name.utf8.count <= 255)
                try t.drop(name, #"{"model":"echo","prompt":"long \#(index)"}"#)
            }
            await eventually("all done", timeout: .seconds(10)) { t.doneIDs.count == names.count }
            // The same long name again: a `~2` id, which fits too.
            try t.drop(names[3], #"{"model":"echo","prompt":"again"}"#)
            await eventually("the second one done", timeout: .seconds(10)) { t.doneIDs.count == names.count + 1 }
        }
        #expect(t.failedIDs.isEmpty)
        #expect(t.names(t.spool.active).isEmpty && t.names(t.spool.incoming).isEmpty, "nothing stuck")
        let expected = Set(names.map { JobID.forRequest(named: FileName(escaped: $0)) } + [JobID.forRequest(named: FileName(escaped: names[3])) + "~2"])
        #expect(Set(t.doneIDs) == expected)
        for id in t.doneIDs {
            #expect(id.utf8.count <= JobID.maxBytes + 2)
            for suffix in [".json", ".txt", ".result.json"] {
                #expect(FileManager.default.fileExists(atPath: "\(t.spool.done)/\(id)\(suffix)"), "\(id)\(suffix)")
            }
            #expect(t.json("\(t.spool.done)/\(id).result.json")?["id"]?.stringValue == id)
            #expect(t.read("\(t.spool.done)/\(id).txt")?.hasPrefix("reply to ") == true)
        }
        #expect(t.doneIDs.allSatisfy { $0.hasPrefix(String(repeating: "n", count: 183) + "-") || $0.hasPrefix("éé") || $0 == String(repeating: "k", count: JobID.maxBytes) })
    }

    @Test func namesThatAreNotUTF8RunUnderAnEscapedIDAndAreLogged() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let capture = LogCapture()
        // One found by the first scan, one by inotify.
        try t.drop(bytes: Array("bad".utf8) + [0xFF, 0xFE] + Array("1.json".utf8), #"{"model":"echo","prompt":"scanned"}"#)
        try await withWorker(t, handler: echoHandler(), logger: capture.logger()) { _, _ in
            try t.drop(bytes: Array("late".utf8) + [0xC3] + Array(".json".utf8), #"{"model":"echo","prompt":"watched"}"#)
            await eventually("both done", timeout: .seconds(10)) { t.doneIDs.count == 2 }
            // A symlink made in place (seen on IN_CREATE) under such a name: rejected, not followed.
            let link = (Array("\(t.spool.incoming)/link".utf8) + [0xFF] + Array(".json".utf8) + [0]).map { CChar(bitPattern: $0) }
            #expect(symlink("/etc/hostname", link) == 0)
            await eventually("the symlink is moved to failed/", timeout: .seconds(10)) { t.failedIDs == [#"link\xff"#] }
        }
        let rejected = t.errorEnvelope(#"link\xff"#)?["error"]?["message"]?.stringValue ?? ""
        #expect(rejected.contains(#"incoming/link\xff.json is a symbolic link"#), "\(rejected)")
        #expect(Set(t.doneIDs) == [#"bad\xff\xfe1"#, #"late\xc3"#])
        #expect(t.read(#"\#(t.spool.done)/bad\xff\xfe1.txt"#) == "reply to scanned")
        #expect(t.read(#"\#(t.spool.done)/late\xc3.txt"#) == "reply to watched")
        #expect(t.json(#"\#(t.spool.done)/bad\xff\xfe1.result.json"#)?["id"] == #"bad\xff\xfe1"#)
        #expect(t.names(t.spool.incoming).isEmpty && t.names(t.spool.active).isEmpty)
        let logged = capture.all.filter { $0.metadata["job"] == #"bad\xff\xfe1"# }
        #expect(logged.contains { $0.message.hasPrefix("done") }, "\(capture.all.map(\.message))")
    }

    @Test func aHardLinkIntoIncomingIsClaimedWithoutARescan() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await withWorker(t, handler: echoHandler(), configure: { $0.rescanInterval = nil }) { _, _ in
            let source = "\(t.spool.tmp)/linked.json"
            try Data(#"{"model":"echo","prompt":"linked"}"#.utf8).write(to: URL(fileURLWithPath: source))
            #expect(link(source, "\(t.spool.incoming)/linked.json") == 0)
            await eventually("the link is claimed and done", timeout: .seconds(10)) { t.doneIDs == ["linked"] }
        }
        #expect(t.read("\(t.spool.done)/linked.txt") == "reply to linked")
    }

    @Test func aFileWrittenInPlaceIsClaimedOnlyWhenClosed() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await withWorker(t, handler: echoHandler(), configure: { $0.rescanInterval = nil }) { _, _ in
            let path = "\(t.spool.incoming)/inplace.json"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            #expect(fd >= 0)
            _ = write(fd, "{\"model\":\"echo\",", 16)
            // Another file dropped and done after the half-written one was created: by then the
            // worker has seen the half-written one's IN_CREATE and must have left it alone.
            try t.dropRequest("marker", prompt: "m")
            await eventually("the marker is done") { t.doneIDs == ["marker"] }
            #expect(t.failedIDs.isEmpty, "the half-written file was not claimed")
            _ = write(fd, "\"prompt\":\"whole\"}", 17)
            close(fd)
            await eventually("the whole file is done") { t.doneIDs == ["inplace", "marker"] }
        }
        #expect(t.read("\(t.spool.done)/inplace.txt") == "reply to whole")
    }

    @Test func aTrailingCommaFailsAsInvalidRequestNamingLineAndColumn() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await withWorker(t, handler: echoHandler()) { fake, _ in
            try t.drop("comma.json", "{\"model\": \"echo\",\n \"prompt\": \"hi\",\n}")
            await eventually("failed") { t.failedIDs == ["comma"] }
            #expect(fake.requests.filter { $0.path == "/api/chat" }.isEmpty)
        }
        let error = t.errorEnvelope("comma")?["error"]
        #expect(error?["kind"] == "invalid_request")
        #expect(error?["message"]?.stringValue?.contains("line 2, column 16: a trailing comma before '}'") == true, "\(String(describing: error))")
    }

    @Test func putBackReleasesTheClaimEvenWhenItFails() throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try t.dropRequest("held", prompt: "x")
        guard case .claimed(let job) = try t.spool.claim("held.json", workerID: "test:1") else {
            Issue.record("not claimed")
            return
        }
        // incoming/ replaced by a plain file: every move back into it fails (ENOTDIR).
        #expect(rename(t.spool.incoming, "\(t.base)/incoming.moved") == 0)
        #expect(FileManager.default.createFile(atPath: t.spool.incoming, contents: Data()))
        #expect(throws: SpoolError.self) { try t.spool.putBack(job, attempts: 1) }
        let fd = open("\(t.spool.active)/held.json", O_RDONLY)
        defer { close(fd) }
        #expect(fd >= 0)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0, "the claim is released: a rescan can recover the job")
    }
}
