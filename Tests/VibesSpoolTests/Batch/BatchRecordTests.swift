//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// Settled lines appended in groups (``BatchRun/record(_:)``): each line whole, once, in its file.
@Suite struct BatchRecordTests {
    func lines(_ test: TestSpool, _ name: String, _ ids: [String]) throws -> (BatchRun, [BatchLine]) {
        let run = try test.open(try test.claimBatch(name, ids.map { TestSpool.line($0) }.joined(separator: "\n") + "\n"))
        return (run, try run.nextLines(max: ids.count))
    }

    func success(_ line: BatchLine, text: String = "ok") -> BatchRecord {
        BatchRecord(line, .succeeded(body: ["text": .string(text)], usage: Usage(promptTokens: 2, completionTokens: 3)), host: "http://h1:11434")
    }

    func failure(_ line: BatchLine) -> BatchRecord {
        BatchRecord(line, .failed(JobFailure(kind: .ollamaError, message: "it broke")), host: nil)
    }

    @Test func aGroupGoesToBothFilesAndCountsEachLineOnce() throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        let (run, read) = try lines(test, "group", ["a", "b", "c"])
        let written = try run.record([success(read[0]), failure(read[1]), success(read[0]), success(read[2])])
        #expect(written == [true, true, false, true], "a line twice in one group is written once")
        #expect(try run.record([success(read[2])]) == [false], "and once across groups")
        let output = test.jsonLines("\(test.spool.active)/group.output.jsonl")
        #expect(output.map { $0["custom_id"] } == ["a", "c"])
        #expect(output.map { $0["response"]?["body"]?["text"] } == ["ok", "ok"])
        #expect(test.jsonLines("\(test.spool.active)/group.errors.jsonl").map { $0["custom_id"] } == ["b"])
        #expect(try run.nextLines(max: 1).isEmpty)
        #expect(run.isFinished)
        let progress = run.progress
        #expect((progress.completed, progress.failed, progress.promptTokens, progress.completionTokens) == (2, 1, 4, 6))
        #expect(progress.hostCounts == ["http://h1:11434": 2])
    }

    @Test(.enabled(if: SmallFileSystem.canMount, "needs to mount a tmpfs (root)"))
    func aGroupThatDoesNotFitLeavesNoTornLineAndCountsNothing() throws {
        let test = try TestSpool(tmpfsBytes: 1 << 20)
        defer { test.cleanUp() }
        let (run, read) = try lines(test, "full", ["a", "b"])
        let big = String(repeating: "x", count: 48 << 10)
        let group = [success(read[0], text: big), success(read[1], text: big)]
        let output = "\(test.spool.active)/full.output.jsonl"
        // Room for about one of the two lines: the write stops in the middle of the group.
        let filler = "\(test.spool.root)/filler"
        var info = statvfs()
        statvfs(test.spool.root, &info)
        try Data(count: Int(info.f_bavail) * Int(info.f_frsize) - (64 << 10)).write(to: URL(fileURLWithPath: filler))

        #expect(throws: SpoolError.self) { try run.record(group) }
        #expect(test.read(output) == "", "cut back to where it was: no torn line")
        #expect(run.progress.completed == 0)
        #expect(!run.isFinished)

        try FileManager.default.removeItem(atPath: filler)
        #expect(try run.record(group) == [true, true])
        #expect(test.jsonLines(output).map { $0["custom_id"] } == ["a", "b"])
        #expect(run.progress.completed == 2)
    }
}
