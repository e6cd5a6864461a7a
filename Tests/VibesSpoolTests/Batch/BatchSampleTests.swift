//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// Writes a batch's output and errors files with every kind of line, for
/// `scripts/check-openai-batch`, which validates them with the official `openai` package. With
/// `VIBES_BATCH_SAMPLE_DIR` set, the committed files are copied there.
@Suite struct BatchSampleTests {
    @Test func writesASampleBatchForTheOpenAIChecker() async throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        let lines = [
            TestSpool.line("chat"),
            TestSpool.line("chat-length", body: #"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}]}"#),
            TestSpool.line("chat-tools", body: #"{"model":"tools","messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}"#),
            TestSpool.line("embed-one", url: "/v1/embeddings", body: #"{"model":"emb","input":"one text"}"#),
            TestSpool.line("embed-many", url: "/v1/embeddings"),
            TestSpool.line("ollama-chat", url: "/api/chat"),
            TestSpool.line("ollama-embed", url: "/api/embed"),
            TestSpool.line("missing", body: #"{"model":"missing","messages":[{"role":"user","content":"x"}]}"#),
            TestSpool.line("busy", url: "/api/embed", body: #"{"model":"busy","input":"x"}"#),
            TestSpool.line("stream", body: #"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#),
        ]
        let run = try test.open(try test.claimBatch("sample", lines.joined(separator: "\n") + "\n"))
        try await test.runAll(run)
        let done = BatchFiles(folder: test.spool.done, id: "sample")
        #expect(test.jsonLines(done.output).count == 7)
        #expect(test.jsonLines(done.errors).count == 3)
        let tools = try #require(test.jsonLines(done.output).first { $0["custom_id"] == "chat-tools" })
        let choice = try #require(tools["response"]?["body"]?["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["tool_calls"]?.arrayValue?.first?["function"]?["arguments"] == #"{"city":"Paris","days":2}"#)

        if let folder = ProcessInfo.processInfo.environment["VIBES_BATCH_SAMPLE_DIR"], !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (source, name) in [(done.output, "sample.output.jsonl"), (done.errors, "sample.errors.jsonl"), (done.progress, "sample.batch.json")] {
                try? FileManager.default.removeItem(atPath: "\(folder)/\(name)")
                try FileManager.default.copyItem(atPath: source, toPath: "\(folder)/\(name)")
            }
        }
    }
}
