//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// A batch's files from claim to `done/`, on temporary spools with a provider that needs no network.
@Suite struct BatchRunTests {
    @Test func aMixedBatchEndsInDoneWithOutputErrorsAndProgress() async throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        let text = [
            TestSpool.line("chat"), TestSpool.line("embed", url: "/v1/embeddings"),
            TestSpool.line("ollama", url: "/api/chat", body: #"{"model":"m","prompt":"hi","stream":true}"#),
            TestSpool.line("ollama-embed", url: "/api/embed"),
            TestSpool.line("missing", body: #"{"model":"missing","messages":[{"role":"user","content":"x"}]}"#),
            TestSpool.line("busy", url: "/api/chat", body: #"{"model":"busy","prompt":"x"}"#),
            TestSpool.line("two", body: #"{"model":"m","n":2,"messages":[{"role":"user","content":"x"}]}"#),
        ].joined(separator: "\n") + "\n"
        let claim = try test.claimBatch("mixed", text)
        #expect(claim.id == "mixed")
        #expect(test.names(test.spool.active) == ["mixed.batch.json", "mixed.jsonl"])
        let run = try test.open(claim)
        #expect(test.json("\(test.spool.active)/mixed.batch.json")?["status"] == "in_progress")
        try await test.runAll(run)

        #expect(test.names(test.spool.active).isEmpty)
        #expect(test.names(test.spool.done) == ["mixed.batch.json", "mixed.errors.jsonl", "mixed.jsonl", "mixed.output.jsonl"])
        #expect(test.read("\(test.spool.done)/mixed.jsonl") == text, "the input byte for byte")
        let output = test.jsonLines("\(test.spool.done)/mixed.output.jsonl")
        #expect(output.map { $0["custom_id"] } == ["chat", "embed", "ollama", "ollama-embed"])
        for line in output {
            #expect(line["id"]?.stringValue?.hasPrefix("batch_req_") == true)
            #expect(line["error"] == .null)
            #expect(line["response"]?["status_code"] == 200)
            #expect(line["response"]?["request_id"]?.stringValue?.hasPrefix("req_") == true)
        }
        let chat = try #require(output[0]["response"]?["body"])
        #expect(chat["object"] == "chat.completion")
        #expect(chat["choices"]?.arrayValue?.first?["message"]?["content"] == "reply to say chat")
        #expect(chat["usage"] == ["prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8])
        #expect(output[1]["response"]?["body"]?["object"] == "list")
        #expect(output[1]["response"]?["body"]?["data"]?.arrayValue?.first?["embedding"]?.arrayValue?.compactMap(\.doubleValue) == [10, 0.25])
        #expect(output[2]["response"]?["body"]?["message"]?["content"] == "reply to hi", "Ollama's own reply for /api/chat")
        #expect(output[2]["response"]?["body"]?["done"] == true)
        #expect(output[3]["response"]?["body"]?["embeddings"]?.arrayValue?.first?.arrayValue?.compactMap(\.doubleValue) == [17, 0.25])

        let errors = test.jsonLines("\(test.spool.done)/mixed.errors.jsonl")
        #expect(errors.map { $0["custom_id"] } == ["missing", "busy", "two"])
        #expect(errors[0]["error"] == ["code": "model_not_installed", "message": "Model 'missing' is not installed. Run `ollama pull missing`."])
        #expect(errors[0]["response"]?["status_code"] == 404)
        #expect(errors[0]["response"]?["body"]?["error"]?["code"] == "model_not_installed", "OpenAI's error body for /v1 lines")
        #expect(errors[1]["error"]?["code"] == "ollama_error")
        #expect(errors[1]["response"]?["body"] == ["error": "server busy"], "Ollama's error body for /api lines")
        #expect(errors[2]["error"]?["code"] == "invalid_request")
        #expect(errors[2]["error"]?["message"]?.stringValue?.hasPrefix("Invalid request: `n`: expected 1, found 2") == true)
        #expect(errors[2]["response"] == .null)

        let progress = try #require(test.json("\(test.spool.done)/mixed.batch.json"))
        #expect(progress["status"] == "completed")
        #expect(progress["object"] == "batch")
        #expect(progress["request_counts"] == ["total": 7, "completed": 4, "failed": 3])
        #expect(progress["usage"]?["prompt_tokens"] == 12, "5 + 1 + 5 + 1")
        #expect(progress["usage"]?["completion_tokens"] == 6)
        #expect(progress["host_counts"] == ["http://h1:11434": 7])
        #expect(progress["output_file"] == "mixed.output.jsonl")
        #expect(progress["error_file"] == "mixed.errors.jsonl")
        #expect(progress["input_file"] == "mixed.jsonl")
        #expect(progress["completed_at"]?.stringValue != nil && progress["in_progress_at"]?.stringValue != nil)
        #expect(progress["errors"] == .null)
    }

    @Test func anInvalidFileFailsWholeAndNothingRuns() throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        let text = TestSpool.line("a") + "\n{oops\n" + TestSpool.line("a") + "\n"
        let claim = try test.claimBatch("bad", text)
        guard case .failed(let id, let failure) = try BatchRun.open(claim, spool: test.spool, workerID: "test:1") else {
            Issue.record("expected the batch to fail")
            return
        }
        #expect(id == "bad")
        #expect(failure.kind == .invalidRequest)
        #expect(test.names(test.spool.active).isEmpty)
        #expect(test.names(test.spool.failed) == ["bad.error.json", "bad.jsonl"])
        #expect(test.read("\(test.spool.failed)/bad.jsonl") == text)
        let envelope = try #require(test.errorEnvelope("bad"))
        #expect(envelope["error"]?["kind"] == "invalid_request")
        let message = try #require(envelope["error"]?["message"]?.stringValue)
        #expect(message.contains("line 2: not valid JSON") && message.contains(#"line 3: `custom_id` "a" repeats line 1"#))
    }

    @Test func resumeAfterACrashSkipsSettledLinesAndCutsATornLine() async throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        let ids = (1...10).map { "r\($0)" }
        let claim = try test.claimBatch("crash", ids.map { TestSpool.line($0) }.joined(separator: "\n") + "\n")
        var run: BatchRun? = try test.open(claim, sync: BatchSyncPolicy(interval: .seconds(3600), lines: 1000))
        // Settle four lines, hand out two more that never finish, then "crash": the process dies
        // with the lock; a torn half line is left at the end of the output.
        let lines = try #require(try run?.nextLines(max: 6))
        for line in lines.prefix(4) { try run?.record(line, try await runLine(line, provider: StubProvider()), host: "http://h1:11434") }
        try run?.tick()
        run = nil
        let outputPath = "\(test.spool.active)/crash.output.jsonl"
        let handle = try #require(FileHandle(forWritingAtPath: outputPath))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"id":"batch_req_x","custom_id":"r5","respo"#.utf8))
        handle.closeFile()

        let orphans = try test.spool.orphanBatches()
        #expect(orphans.map(\.id) == ["crash"])
        #expect(orphans.first?.resumed == true)
        let resumed = try test.open(try #require(orphans.first))
        #expect(resumed.progress.completed == 4)
        #expect(resumed.progress.hostCounts == ["http://h1:11434": 4])
        #expect(try test.spool.orphanBatches().isEmpty, "a batch this worker holds is not an orphan")
        let next = try resumed.nextLines(max: 100)
        #expect(next.map(\.customID) == Array(ids.dropFirst(4)), "the settled lines are skipped, the handed-out ones run again")
        for line in next { try resumed.record(line, try await runLine(line, provider: StubProvider()), host: nil) }
        #expect(try resumed.nextLines(max: 100).isEmpty)
        try resumed.commit()

        let output = test.jsonLines("\(test.spool.done)/crash.output.jsonl")
        #expect(output.compactMap { $0["custom_id"]?.stringValue } == ids, "every custom_id once, the torn line gone")
        #expect(!output.contains(.null))
        #expect(test.json("\(test.spool.done)/crash.batch.json")?["request_counts"] == ["total": 10, "completed": 10, "failed": 0])
    }

    @Test func aLineIsRecordedOnceAndNothingAfterClose() async throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        let run = try test.open(try test.claimBatch("once", TestSpool.line("a") + "\n" + TestSpool.line("b")))
        let lines = try run.nextLines(max: 1)
        #expect(lines.map(\.customID) == ["a"])
        #expect(!run.isFinished)
        let result = try await runLine(lines[0], provider: StubProvider())
        #expect(try run.record(lines[0], result, host: nil))
        #expect(try !run.record(lines[0], result, host: nil), "a second record of a custom_id is refused")
        try run.close()
        #expect(throws: SpoolError.self) { try run.record(lines[0], result, host: nil) }
        #expect(test.jsonLines("\(test.spool.active)/once.output.jsonl").count == 1)
        #expect(test.json("\(test.spool.active)/once.batch.json")?["request_counts"]?["completed"] == 1)
    }

    @Test func namesAreNeverReplacedAndNeverLookLikeAnotherBatchsOutput() throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        try Data("old".utf8).write(to: URL(fileURLWithPath: "\(test.spool.done)/same.output.jsonl"))
        #expect(try test.claimBatch("same", TestSpool.line("a")).id == "same~2")
        #expect(try test.claimBatch("x.output", TestSpool.line("a")).id == "x.output~2")
        #expect(try test.claimBatch("x.batch", TestSpool.line("a")).id == "x.batch")
        // A job named like a running batch's progress file gets another id.
        #expect(!test.spool.isFree("x.batch.batch"))
        #expect(test.spool.isBatchProgressFile(activeName: "x.batch.batch.json"))
        #expect(!test.spool.isBatchProgressFile(activeName: "job.json"))
        #expect(test.read("\(test.spool.done)/same.output.jsonl") == "old")
    }

    @Test func aCommitCutShortIsCompletedByRecovery() async throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        let run = try test.open(try test.claimBatch("cut", TestSpool.line("a") + "\n"))
        try await test.runAll(run, commit: false)
        try run.close()
        // Replay a commit that stopped after moving the input: record written, input moved.
        let active = BatchFiles(folder: test.spool.active, id: "cut")
        let done = BatchFiles(folder: test.spool.done, id: "cut")
        try Data(#"{"id":"cut","status":"completed"}"#.utf8).write(to: URL(fileURLWithPath: done.commitRecord))
        #expect(rename(active.input, done.input) == 0)
        #expect(try test.spool.orphanBatches().isEmpty)
        #expect(test.names(test.spool.active).isEmpty)
        #expect(test.names(test.spool.done) == ["cut.batch.json", "cut.errors.jsonl", "cut.jsonl", "cut.output.jsonl"])

        // A record whose input never left active/ is dropped: the batch resumes.
        let again = try test.open(try test.claimBatch("again", TestSpool.line("a") + "\n"))
        try again.close()
        try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(test.spool.done)/.again.batch.json.tmp"))
        #expect(try test.spool.orphanBatches().map(\.id) == ["again"])
        #expect(!FileManager.default.fileExists(atPath: "\(test.spool.done)/.again.batch.json.tmp"))
    }

    @Test func jobRecoveryLeavesARunningBatchsProgressFileAlone() async throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        let claim = try test.claimBatch("held", TestSpool.line("a") + "\n" + TestSpool.line("b"))
        #expect(try test.spool.recoverOrphans().isEmpty, "the reserved progress file is locked from the claim on")
        let run = try test.open(claim)
        let line = try #require(try run.nextLines(max: 1).first)
        try run.record(line, try await runLine(line, provider: StubProvider()), host: nil)
        for _ in 0..<3 {
            try run.tick()
            #expect(try test.spool.recoverOrphans().isEmpty, "each new progress file is locked before it is renamed in")
        }
        #expect(test.names(test.spool.incoming).isEmpty)
        #expect(test.names(test.spool.active).contains("held.batch.json"))
    }

    @Test func aSymlinkDroppedAsABatchIsNeverFollowed() throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        #expect(symlink("/etc/passwd", "\(test.spool.incoming)/link.jsonl") == 0)
        guard case .rejected(let id, let reason) = try test.spool.claimBatch("link.jsonl", workerID: "t") else {
            Issue.record("expected a rejection")
            return
        }
        #expect(id == "link")
        #expect(reason.contains("symbolic link"))
        #expect(test.names(test.spool.failed) == ["link.error.json", "link.jsonl"])
        #expect(try test.spool.queuedBatches().isEmpty)
    }
}
