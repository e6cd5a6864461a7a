//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import SpoolTestSupport
import Testing
@testable import VibesSpool

/// File names as bytes, the job-id rule for long names, and the full-disk test on errors.
@Suite struct NameRuleTests {
    @Test(arguments: [
        (Array("plain.json".utf8), "plain.json"),
        (Array("héllo wörld.json".utf8), "héllo wörld.json"),
        (Array("bad".utf8) + [0xFF, 0xFE] + Array("1.json".utf8), #"bad\xff\xfe1.json"#),
        (Array(#"back\slash.json"#.utf8), #"back\\slash.json"#),
        (Array(#"looks\xffescaped.json"#.utf8), #"looks\\xffescaped.json"#),
        ([0xE2, 0x82] + Array("x".utf8), #"\xe2\x82x"#),  // a cut-short sequence
        ([0xED, 0xA0, 0x80], #"\xed\xa0\x80"#),  // an encoded surrogate is not UTF-8
        ([0x0A, 0x41], "\nA"),
    ] as [([UInt8], String)])
    func everyNameHasOneEscapedFormThatReadsBack(bytes: [UInt8], escaped: String) {
        let name = FileName(bytes: bytes)
        #expect(name.escaped == escaped)
        #expect(FileName(escaped: escaped) == name)
    }

    @Test func escapedFormsOfDifferentNamesDiffer() {
        let names: [[UInt8]] = [[0xFF], Array(#"\xff"#.utf8), Array(#"\\xff"#.utf8), Array(#"\"#.utf8), Array(#"\\"#.utf8)]
        let escaped = names.map { FileName(bytes: $0).escaped }
        #expect(Set(escaped).count == names.count, "\(escaped)")
        #expect(escaped.map { FileName(escaped: $0).bytes } == names)
    }

    @Test func requestNamesAreJudgedOnTheBytes() {
        #expect(SpoolDirectory.isRequestName(FileName(bytes: [0xFF] + Array(".json".utf8))))
        #expect(SpoolDirectory.isRequestName(FileName(bytes: [0xFF] + Array(".json".utf8)).escaped))
        #expect(!SpoolDirectory.isRequestName(FileName(bytes: Array(".hidden.json".utf8))))
        #expect(!SpoolDirectory.isRequestName(FileName(bytes: Array(".json".utf8))))
        #expect(!SpoolDirectory.isRequestName(FileName(bytes: Array("x.json.tmp".utf8))))
    }

    @Test func idsUpToTheLimitAreKeptLongerOnesShortenedToAPrefixAndAHash() {
        let fits = String(repeating: "a", count: JobID.maxBytes)
        #expect(JobID.fitting(fits) == fits)
        let long = String(repeating: "a", count: 250)
        let short = JobID.fitting(long)
        #expect(short.utf8.count == JobID.maxBytes)
        #expect(short.hasPrefix(String(repeating: "a", count: 183) + "-"))
        #expect(JobID.fitting(long) == short, "the same every time")
        #expect(JobID.fitting(long + "b") != short, "another name, another hash")
        // The longest derived name fits NAME_MAX even with a `~N`.
        #expect((".\(short)~99999.result.json.tmp").utf8.count <= 255)
        #expect(JobID.fnv1a64(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c, "FNV-1a 64 as published")
    }

    @Test func aShortenedIDNeverSplitsACharacter() {
        for count in 90...130 {
            let id = JobID.fitting(String(repeating: "é", count: count) + "x")
            #expect(id.utf8.count <= JobID.maxBytes)
            #expect(id.unicodeScalars.allSatisfy { $0 == "é" || $0 == "x" || $0 == "-" || $0.properties.isASCIIHexDigit })
        }
    }

    @Test func theIDOfANameIsItsStemEscaped() {
        #expect(JobID.forRequest(named: FileName(escaped: "job.json")) == "job")
        #expect(JobID.forRequest(named: FileName(bytes: Array("bad".utf8) + [0xFF, 0xFE] + Array("1.json".utf8))) == #"bad\xff\xfe1"#)
        #expect(JobID.forRequest(named: FileName(escaped: #"back\\slash.json"#)) == #"back\slash"#)
        #expect(JobID.forRequest(named: FileName(escaped: String(repeating: "x", count: 250) + ".json")).utf8.count == JobID.maxBytes)
    }

    @Test func aFullDiskIsRecognisedFromTheErrorItself() throws {
        #expect(SpoolError("write", "x", errno: ENOSPC).isDiskFull)
        #expect(SpoolError("write", "x", errno: EDQUOT).isDiskFull)
        #expect(!SpoolError("write", "x", errno: EIO).isDiskFull)
        #expect(!SpoolError.isDiskFull(CancellationError()))
        // A real ENOSPC: /dev/full refuses every write that way.
        let fd = try #require(try FileSystem.open("/dev/full", O_WRONLY))
        defer { close(fd) }
        let error = #expect(throws: SpoolError.self) { try FileSystem.writeAll(fd, "x", path: "/dev/full") }
        #expect(error?.isDiskFull == true)
        #expect(error.map { SpoolError.isDiskFull($0) } == true)
    }
}

/// The probes a worker paused by a full disk can use.
@Suite struct SpoolSpaceTests {
    @Test func freeSpaceAndAProbeWriteOnAWritableSpool() throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let space = try t.spool.freeSpace()
        #expect(space.bytes > 0)
        try t.spool.probeWrite()
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.spool.active).isEmpty, "the probe file is gone")
    }

    @Test func aProbeThatCannotWriteThrowsTheSpoolError() throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        #expect(rmdir(t.spool.active) == 0)
        #expect(throws: SpoolError.self) { try t.spool.probeWrite() }
        #expect(throws: SpoolError.self) { try t.spool.freeSpace() }
    }
}

extension SpoolSpaceTests {
    @Test(.enabled(if: SmallFileSystem.canMount, "mounting a tmpfs needs root (CAP_SYS_ADMIN)"))
    func onAFullFileSystemTheProbeFailsAsDiskFullAndPassesOnceThereIsRoom() throws {
        try SmallFileSystem.with(size: 256 << 10) { mount in
            let spool = SpoolDirectory("\(mount)/spool")
            try spool.createLayout()
            try spool.probeWrite()
            try SmallFileSystem.fill(spool.active)
            #expect(try spool.freeSpace().bytes < 4096)
            let error = #expect(throws: SpoolError.self) { try spool.probeWrite() }
            #expect(error?.isDiskFull == true, "\(String(describing: error))")
            #expect(throws: SpoolError.self, "a request cannot be submitted either") {
                _ = try spool.submit(["model": "m", "prompt": "x"], preferredID: "full")
            }
            #expect(unlink("\(spool.active)/.filler") == 0)
            try spool.probeWrite()
        }
    }
}
