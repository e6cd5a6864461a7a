//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// `vibes-spool run --metrics-file`: after a run, the file's values match the spool.
@Suite struct MetricsProcessTests {
    @Test func theMetricsFileMatchesTheSpoolAfterARun() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        // With $VIBES_METRICS_SAMPLE set (.ci/check-metrics), the file lands there for the strict
        // parser and node_exporter.
        let path = ProcessInfo.processInfo.environment["VIBES_METRICS_SAMPLE"] ?? "\(t.base)/vibes-spool.prom"
        try await FakeOllama.with(echoHandler(models: ["echo"])) { fake in
            try t.dropRequest("one", prompt: "a")
            try t.dropRequest("two", prompt: "b")
            try t.dropRequest("lost", model: "nope", prompt: "c")
            try t.drop("broken.json", "{")
            try t.dropRequest("gone", prompt: "e")
            try Data().write(to: URL(fileURLWithPath: "\(t.spool.cancel)/gone"))
            try t.drop("batch.jsonl", #"{"custom_id":"x","method":"POST","url":"/api/chat","body":{"model":"echo","prompt":"d"}}"# + "\n")
            let run = try await runCLI([
                "run", "--once", "--spool", t.spool.root, "--ollama-url", fake.baseURL, "--retries", "0", "--metrics-file", path,
            ])
            #expect(run.status == 1, "a job failed: \(run.stderr)")
            let text = try #require(t.read(path))
            #expect(sample(text, #"vibes_spool_jobs_total{outcome="done",kind="",model="echo"}"#) == 2)
            #expect(sample(text, #"vibes_spool_jobs_total{outcome="failed",kind="model_not_installed",model="nope"}"#) == 1)
            #expect(sample(text, #"vibes_spool_jobs_total{outcome="failed",kind="invalid_request",model=""}"#) == 1)
            #expect(sample(text, #"vibes_spool_jobs_total{outcome="failed",kind="cancelled",model="echo"}"#) == 1)
            #expect(sample(text, #"vibes_spool_tokens_total{type="prompt",model="echo"}"#) == 52, "26 per reply")
            #expect(sample(text, #"vibes_spool_tokens_total{type="completion",model="echo"}"#) == 4)
            #expect(sample(text, #"vibes_spool_job_duration_seconds_count"#) == 5)
            #expect(sample(text, #"vibes_spool_queue_jobs{state="incoming"}"#) == 0)
            #expect(sample(text, #"vibes_spool_paused"#) == 0)
            #expect(sample(text, #"vibes_spool_host_up{host="\#(fake.baseURL)"}"#) == 1, "the worker's own view of its hosts")
            #expect((sample(text, "vibes_spool_last_success_timestamp_seconds") ?? 0) > Date().timeIntervalSince1970 - 60)
            #expect(sample(text, #"vibes_spool_model_load_seconds_total"#) == 0.006, "3 ms per reply, as the fake says")
            #expect(t.names(t.spool.done).contains("batch.output.jsonl"))
        }
    }
}
