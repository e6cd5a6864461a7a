//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import SpoolTestSupport
import Testing
@testable import VibesSpool

@Suite struct SpoolMetricsTests {
    @Test func startsWithZerosForTheFixedSeries() {
        let text = SpoolMetrics().exposition()
        for state in ["incoming", "active", "retrying"] {
            #expect(sample(text, #"vibes_spool_queue_jobs{state="\#(state)"}"#) == 0)
        }
        #expect(sample(text, "vibes_spool_paused") == 0)
        #expect(sample(text, "vibes_spool_oldest_queued_seconds") == 0)
        #expect(sample(text, "vibes_spool_model_load_seconds_total") == 0)
        #expect(sample(text, "vibes_spool_job_duration_seconds_count") == 0)
        #expect(sample(text, "vibes_spool_queue_wait_seconds_count") == 0)
        // Not before the first event: a job count needs its labels, a timestamp of 0 would lie.
        #expect(!text.contains("vibes_spool_jobs_total{"))
        #expect(!text.contains("vibes_spool_last_success_timestamp_seconds "))
    }

    @Test func countsFinishedJobsByOutcomeKindAndModel() {
        let metrics = SpoolMetrics()
        metrics.jobFinished(outcome: .done, kind: nil, model: "gemma3:latest", duration: 3, queueWait: 0.05)
        metrics.jobFinished(outcome: .done, kind: nil, model: "gemma3:latest", duration: 40, queueWait: 2000)
        metrics.jobFinished(outcome: .failed, kind: "model_not_found", model: "nope", duration: 0.2, queueWait: 1)
        let text = metrics.exposition()
        #expect(sample(text, #"vibes_spool_jobs_total{outcome="done",kind="",model="gemma3:latest"}"#) == 2)
        #expect(sample(text, #"vibes_spool_jobs_total{outcome="failed",kind="model_not_found",model="nope"}"#) == 1)
        #expect(sample(text, "vibes_spool_job_duration_seconds_count") == 3)
        #expect(sample(text, "vibes_spool_job_duration_seconds_sum") == 43.2)
        #expect(sample(text, #"vibes_spool_job_duration_seconds_bucket{le="0.5"}"#) == 1)
        #expect(sample(text, #"vibes_spool_job_duration_seconds_bucket{le="5.0"}"#) == 2)
        #expect(sample(text, #"vibes_spool_job_duration_seconds_bucket{le="3600.0"}"#) == 3)
        #expect(sample(text, #"vibes_spool_job_duration_seconds_bucket{le="+Inf"}"#) == 3)
        #expect(sample(text, #"vibes_spool_queue_wait_seconds_bucket{le="0.1"}"#) == 1)
        #expect(sample(text, #"vibes_spool_queue_wait_seconds_bucket{le="1800.0"}"#) == 2)
        #expect(sample(text, #"vibes_spool_queue_wait_seconds_bucket{le="3600.0"}"#) == 3)
    }

    @Test func tokensModelLoadQueueHostsPauseAndLastSuccess() {
        let metrics = SpoolMetrics()
        metrics.tokens(prompt: 12, completion: 30, model: "m")
        metrics.tokens(prompt: 3, completion: 4, model: "m")
        metrics.modelLoad(seconds: 1.5)
        metrics.modelLoad(seconds: 0.25)
        metrics.queue(incoming: 7, active: 2, retrying: 1, oldestQueuedSeconds: 93.5)
        metrics.hostUp("http://127.0.0.1:11434", true)
        metrics.hostUp("http://gpu.lan:11434", false)
        metrics.paused(true)
        metrics.lastSuccess(at: 1_764_668_985.25)
        let text = metrics.exposition()
        #expect(sample(text, #"vibes_spool_tokens_total{type="prompt",model="m"}"#) == 15)
        #expect(sample(text, #"vibes_spool_tokens_total{type="completion",model="m"}"#) == 34)
        #expect(sample(text, "vibes_spool_model_load_seconds_total") == 1.75)
        #expect(sample(text, #"vibes_spool_queue_jobs{state="incoming"}"#) == 7)
        #expect(sample(text, #"vibes_spool_queue_jobs{state="active"}"#) == 2)
        #expect(sample(text, #"vibes_spool_queue_jobs{state="retrying"}"#) == 1)
        #expect(sample(text, "vibes_spool_oldest_queued_seconds") == 93.5)
        #expect(sample(text, #"vibes_spool_host_up{host="http://127.0.0.1:11434"}"#) == 1)
        #expect(sample(text, #"vibes_spool_host_up{host="http://gpu.lan:11434"}"#) == 0)
        #expect(sample(text, "vibes_spool_paused") == 1)
        #expect(sample(text, "vibes_spool_last_success_timestamp_seconds") == 1_764_668_985.25)
        metrics.paused(false)
        #expect(sample(metrics.exposition(), "vibes_spool_paused") == 0)
    }

    @Test func instancesDoNotShareNumbers() {
        let a = SpoolMetrics(), b = SpoolMetrics()
        a.paused(true)
        #expect(sample(a.exposition(), "vibes_spool_paused") == 1)
        #expect(sample(b.exposition(), "vibes_spool_paused") == 0)
    }

    @Test func aRemovedBatchLosesItsSeries() {
        let metrics = SpoolMetrics()
        metrics.batchLines(batch: "b1", state: "completed", count: 3)
        metrics.batchLines(batch: "b1", state: "failed", count: 1)
        metrics.batchLines(batch: "b2", state: "completed", count: 5)
        var text = metrics.exposition()
        #expect(sample(text, #"vibes_spool_batch_lines{batch="b1",state="completed"}"#) == 3)
        #expect(sample(text, #"vibes_spool_batch_lines{batch="b1",state="failed"}"#) == 1)
        metrics.removeBatch("b1")
        text = metrics.exposition()
        #expect(!text.contains(#"batch="b1""#))
        #expect(sample(text, #"vibes_spool_batch_lines{batch="b2",state="completed"}"#) == 5)
        metrics.removeBatch("b2")
        #expect(!metrics.exposition().contains("vibes_spool_batch_lines"))
    }

    @Test func batchSeriesAreBoundedLeastRecentlyUpdatedFirst() {
        let metrics = SpoolMetrics()
        for n in 0..<SpoolMetrics.maxBatches {
            metrics.batchLines(batch: "b\(n)", state: "completed", count: n)
        }
        metrics.batchLines(batch: "b0", state: "completed", count: 100)  // b1 is now the stalest
        metrics.batchLines(batch: "new", state: "completed", count: 1)
        let text = metrics.exposition()
        let batches = Set(text.split(separator: "\n").filter { $0.hasPrefix("vibes_spool_batch_lines{") }
            .map { $0.split(separator: "\"")[1] })
        #expect(batches.count == SpoolMetrics.maxBatches)
        #expect(batches.contains("b0") && batches.contains("new") && !batches.contains("b1"))
    }

    @Test func exposesHelpAndTypeOncePerFamilyInNameOrder() {
        let metrics = SpoolMetrics()
        metrics.jobFinished(outcome: .done, kind: nil, model: "a", duration: 1, queueWait: 1)
        metrics.jobFinished(outcome: .done, kind: nil, model: "b", duration: 1, queueWait: 1)
        metrics.hostUp("h", true)
        metrics.lastSuccess(at: 1)
        metrics.batchLines(batch: "x", state: "completed", count: 1)
        metrics.tokens(prompt: 1, completion: 1, model: "a")
        let text = metrics.exposition()
        let types = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) }
        #expect(types == types.sorted())
        #expect(Set(types) == Set(SpoolMetrics.Name.help.keys))
        for name in types {
            #expect(text.contains("# HELP \(name) "), "no HELP for \(name)")
        }
        #expect(text.contains("# TYPE vibes_spool_jobs_total counter\n"))
        #expect(text.contains("# TYPE vibes_spool_job_duration_seconds histogram\n"))
        #expect(text.contains("# TYPE vibes_spool_paused gauge\n"))
        #expect(text.hasSuffix("\n"))
        #expect(metrics.exposition() == text)
    }

    @Test func escapesLabelValues() {
        let metrics = SpoolMetrics()
        metrics.jobFinished(outcome: .failed, kind: "x", model: #"we"ird\name"#, duration: 1, queueWait: 1)
        #expect(metrics.exposition().contains(#"model="we\"ird\\name""#))
    }
}

@Suite struct SpoolMetricsObserveTests {
    @Test func gaugesMatchTheSpoolsFolders() throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        for name in ["a", "b", "c"] { try t.dropRequest(name, prompt: "hi") }
        #expect(rename("\(t.spool.incoming)/c.json", "\(t.spool.active)/c.json") == 0)
        try t.drop("d.json", "{}")
        #expect(rename("\(t.spool.incoming)/d.json", "\(t.spool.done)/d.json") == 0)
        try FileSystem.writeFile("\(t.spool.done)/d.result.json", "{}")
        let metrics = SpoolMetrics(refresh: { $0.observe(spool: t.spool) })
        let text = metrics.exposition()
        #expect(sample(text, #"vibes_spool_queue_jobs{state="incoming"}"#) == 2)
        #expect(sample(text, #"vibes_spool_queue_jobs{state="active"}"#) == 1)
        #expect(sample(text, #"vibes_spool_queue_jobs{state="retrying"}"#) == 0)
        #expect(sample(text, "vibes_spool_paused") == 0)
        // Both requests were put in incoming/ within the last minute.
        let oldest = try #require(sample(text, "vibes_spool_oldest_queued_seconds"))
        #expect(oldest >= 0 && oldest < 60)
        let now = Date().timeIntervalSince1970
        #expect(try t.spool.oldestQueuedSeconds(now: now + 100) >= 100)
        try FileSystem.remove("\(t.spool.incoming)/a.json")
        try FileSystem.remove("\(t.spool.incoming)/b.json")
        #expect(try t.spool.oldestQueuedSeconds() == 0)
        #expect(sample(metrics.exposition(), #"vibes_spool_queue_jobs{state="incoming"}"#) == 0)
    }

    @Test func hostsPauseAndBatchesFromAStatus() {
        let metrics = SpoolMetrics()
        var status = SpoolStatus(spool: "s")
        status.paused = .init(reason: "Ollama unreachable", since: "2026-12-02T09:00:00Z")
        status.hosts = [.init(url: "http://a:1", state: "up", running: 1, free: 0, loaded: []),
                        .init(url: "http://b:1", state: "paused", running: 0, free: 1, loaded: [])]
        status.retrying = [.init(id: "r", attempts: 1, nextAt: "2026-12-02T09:00:01Z")]
        status.batches = [.init(id: "essays", total: 10, completed: 6, failed: 1), .init(id: "old", total: 1, completed: 1, failed: 0)]
        metrics.observe(status, oldestQueuedSeconds: 42)
        var text = metrics.exposition()
        #expect(sample(text, "vibes_spool_paused") == 1)
        #expect(sample(text, "vibes_spool_oldest_queued_seconds") == 42)
        #expect(sample(text, #"vibes_spool_queue_jobs{state="retrying"}"#) == 1)
        #expect(sample(text, #"vibes_spool_host_up{host="http://a:1"}"#) == 1)
        #expect(sample(text, #"vibes_spool_host_up{host="http://b:1"}"#) == 0)
        #expect(sample(text, #"vibes_spool_batch_lines{batch="essays",state="completed"}"#) == 6)
        #expect(sample(text, #"vibes_spool_batch_lines{batch="essays",state="failed"}"#) == 1)
        #expect(sample(text, #"vibes_spool_batch_lines{batch="essays",state="queued"}"#) == 3)
        status.batches.removeLast()
        metrics.observe(status, oldestQueuedSeconds: 0)
        text = metrics.exposition()
        #expect(!text.contains(#"batch="old""#))
        #expect(sample(text, #"vibes_spool_batch_lines{batch="essays",state="queued"}"#) == 3)
    }
}
