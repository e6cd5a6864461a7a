//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// The worker end to end against a real model (Ollama, or `scripts/ollama-standin` in CI).
/// Skipped, saying so, when none answers at `OLLAMA_HOST` or 127.0.0.1:11434.
@Suite(.serialized) struct SpoolIntegrationTests {
    static let model = RealOllama.model

    @Test(.enabled(if: model != nil, "no Ollama reachable (set OLLAMA_HOST)"))
    func aDroppedRequestEndsInDoneWithTextEnvelopeAndUsage() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try t.drop("story.json", #"{"model":"\#(Self.model!)","prompt":"Once upon a time","options":{"num_predict":16,"temperature":0}}"#)
        let worker = try WorkerProcess(
            ["run", "--once", "--spool", t.spool.root, "--ollama-url", RealOllama.baseURL], logPath: "\(t.base)/worker.log")
        #expect(await worker.exitStatus(timeout: .seconds(300)) == 0, "\(worker.log)")
        #expect(t.doneIDs == ["story"], "\(worker.log)")
        let text = try #require(t.read("\(t.spool.done)/story.txt"))
        #expect(!text.isEmpty)
        let envelope = try #require(t.json("\(t.spool.done)/story.result.json"))
        #expect(envelope["message"]?["content"]?.stringValue == text)
        #expect((envelope["usage"]?["completion_tokens"]?.doubleValue ?? 0) > 0)
        #expect(envelope["done_reason"] != nil)
    }

    @Test(.enabled(if: model != nil, "no Ollama reachable (set OLLAMA_HOST)"))
    func submitWaitPrintsAReply() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let worker = try WorkerProcess(["run", "--spool", t.spool.root, "--ollama-url", RealOllama.baseURL], logPath: "\(t.base)/worker.log")
        defer { worker.signal(SIGKILL) }
        let result = try await runCLI(
            ["submit", "--spool", t.spool.root, "--model", Self.model!, "--option", "num_predict=12", "--wait", "Say hello."],
            timeout: .seconds(300))
        #expect(result.status == 0, "\(result.stderr) \(worker.log)")
        #expect(!result.stdout.isEmpty)
        let id = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(t.read("\(t.spool.done)/\(id).txt") == result.stdout, "stdout is exactly the reply")
        worker.signal(SIGTERM)
        #expect(await worker.exitStatus() == 0)
    }
}
