//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// Submitting a batch file and waiting for it, as `submit FILE.jsonl --wait` will.
@Suite struct BatchProducerTests {
    @Test func submitCopiesTheFileInUnderAnIDTheBatchKeeps() throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        let source = "\(test.base)/work.jsonl"
        let text = TestSpool.line("a") + "\n" + TestSpool.line("b") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: source))
        #expect(try test.spool.submitBatch(from: source) == "work")
        #expect(try test.spool.submitBatch(from: source) == "work~2", "a name waiting in incoming/ is taken")
        #expect(try test.spool.submitBatch(from: source, preferredID: "x.output") == "x.output~2")
        #expect(test.names(test.spool.incoming) == ["work.jsonl", "work~2.jsonl", "x.output~2.jsonl"])
        #expect(test.read("\(test.spool.incoming)/work~2.jsonl") == text)
        #expect(test.names(test.spool.tmp).isEmpty)
        guard case .claimed(let claim) = try test.spool.claimBatch("work~2.jsonl", workerID: "t") else {
            Issue.record("expected a claim")
            return
        }
        #expect(claim.id == "work~2")
    }

    @Test func waitReportsProgressThenTheOutputPath() async throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        let run = try test.open(try test.claimBatch("w", (1...4).map { TestSpool.line("l\($0)") }.joined(separator: "\n")))
        let line = try #require(try run.nextLines(max: 1).first)
        try run.record(line, try await runLine(line, provider: StubProvider()), host: nil)
        try run.tick()
        #expect(try test.spool.activeBatches().map(\.completed) == [1])
        #expect(try test.spool.activeBatches().first?.total == 4)

        let seen = Seen()
        let waiter = Task { try await test.spool.waitBatch(id: "w", pollInterval: .milliseconds(5)) { seen.add($0) } }
        await eventually("the waiter sees the first line settled") { seen.last?.completed == 1 }
        try await test.runAll(run)
        let result = try await waiter.value
        guard case .completed(let counts, let output) = result else {
            Issue.record("expected completion, got \(result)")
            return
        }
        #expect(counts.total == 4 && counts.completed == 4 && counts.failed == 0 && counts.status == "completed")
        #expect(output == "\(test.spool.done)/w.output.jsonl")
        #expect(seen.last?.completed == 4)
        #expect(try test.spool.activeBatches().isEmpty)
    }

    @Test func waitReportsAFileThatFailedWhole() async throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        _ = try BatchRun.open(try test.claimBatch("bad", "nope\n"), spool: test.spool, workerID: "t")
        let result = try await test.spool.waitBatch(id: "bad")
        guard case .failed(let message) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(message.contains("line 1: not valid JSON"))
    }
}

/// Progress reports seen by a waiter.
final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [BatchCounts] = []
    func add(_ counts: BatchCounts) { lock.withLock { all.append(counts) } }
    var last: BatchCounts? { lock.withLock { all.last } }
}
