//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import CoreMetrics
import Prometheus
import Synchronization

/// All the spool's metrics: counted through swift-metrics, with swift-prometheus as the backend.
///
/// Each instance has its own `PrometheusCollectorRegistry` (the global `MetricsSystem` is never
/// bootstrapped), so tests and several workers in one process do not share numbers. Every method is
/// cheap and thread-safe: call it from wherever the event happens.
///
/// Label values are bounded: model names, host URLs, error kinds and batch ids (the last kept to at
/// most ``maxBatches``, and removed by ``removeBatch(_:)``); never a job id.
public final class SpoolMetrics: Sendable {
    /// How a job ended.
    package enum Outcome: String, Sendable {
        case done
        case failed
    }

    /// Upper bounds (seconds) of `vibes_spool_job_duration_seconds`: a short reply takes about a
    /// second on a GPU, a long one on a CPU several minutes; above an hour is counted in `+Inf`.
    package static let jobDurationBuckets: [Double] = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600]
    /// Upper bounds (seconds) of `vibes_spool_queue_wait_seconds`: from claimed at once to a
    /// backlog of a day (batches of thousands of lines wait that long).
    package static let queueWaitBuckets: [Double] = [0.1, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600, 86400]
    /// Batches whose `vibes_spool_batch_lines` series are kept at most; past it, the batch updated
    /// least recently loses its series (a bound on the label's values even if a batch is never
    /// removed).
    package static let maxBatches = 100

    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let batches = Mutex(BatchSeries())
    /// Called by ``exposition()`` first, to bring gauges up to date (e.g. ``observe(spool:)``).
    let refresh: (@Sendable (SpoolMetrics) -> Void)?

    /// - Parameter refresh: Called before each exposition (each file write and scrape), e.g.
    ///   `{ $0.observe(spool: directory) }` to set the gauges from the spool's folders.
    package init(refresh: (@Sendable (SpoolMetrics) -> Void)? = nil) {
        self.refresh = refresh
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            Name.jobDuration: Self.jobDurationBuckets.map(Self.exactDuration),
            Name.queueWait: Self.queueWaitBuckets.map(Self.exactDuration),
        ]
        self.factory = factory
        // The series that exist from the start, so that a scrape before the first job sees zeros.
        for state in ["incoming", "active", "retrying"] {
            gauge(Name.queueJobs, ["state": state]).record(0)
        }
        gauge(Name.oldestQueued).record(0)
        gauge(Name.paused).record(0)
        CoreMetrics.FloatingPointCounter(label: Name.modelLoad, dimensions: [], factory: factory).increment(by: 0.0)
        _ = timer(Name.jobDuration)
        _ = timer(Name.queueWait)
    }

    /// A job left `active/` for `done/` or `failed/`.
    /// - Parameters:
    ///   - kind: The error's kind (`model_not_found`, `timeout`, …) for a failure; `nil` for done.
    ///   - duration: Seconds from the claim to the finish.
    ///   - queueWait: Seconds from the drop into `incoming/` to the claim.
    package func jobFinished(outcome: Outcome, kind: String?, model: String, duration: Double, queueWait: Double) {
        counter(Name.jobs, ["outcome": outcome.rawValue, "kind": kind ?? "", "model": model]).increment()
        timer(Name.jobDuration).recordSeconds(max(0, duration))
        timer(Name.queueWait).recordSeconds(max(0, queueWait))
    }

    /// Tokens Ollama reported for one reply (`prompt_eval_count`, `eval_count`).
    package func tokens(prompt: Int, completion: Int, model: String) {
        counter(Name.tokens, ["type": "prompt", "model": model]).increment(by: max(0, prompt))
        counter(Name.tokens, ["type": "completion", "model": model]).increment(by: max(0, completion))
    }

    /// Seconds Ollama spent loading a model (its `load_duration`).
    package func modelLoad(seconds: Double) {
        CoreMetrics.FloatingPointCounter(label: Name.modelLoad, dimensions: [], factory: factory).increment(by: max(0, seconds))
    }

    /// The queue as it is now: jobs in `incoming/`, running, and waiting out a retry's backoff, and
    /// the age of the oldest job in `incoming/` (0 when it is empty).
    package func queue(incoming: Int, active: Int, retrying: Int, oldestQueuedSeconds: Double) {
        gauge(Name.queueJobs, ["state": "incoming"]).record(incoming)
        gauge(Name.queueJobs, ["state": "active"]).record(active)
        gauge(Name.queueJobs, ["state": "retrying"]).record(retrying)
        gauge(Name.oldestQueued).record(max(0, oldestQueuedSeconds))
    }

    /// Whether an Ollama host answers (`url` as configured).
    package func hostUp(_ url: String, _ up: Bool) {
        gauge(Name.hostUp, ["host": url]).record(up ? 1 : 0)
    }

    /// Whether the worker stopped claiming (Ollama unreachable, disk full, …).
    package func paused(_ paused: Bool) {
        gauge(Name.paused).record(paused ? 1 : 0)
    }

    /// How many lines of a batch are in `state` (e.g. `queued`, `completed`, `failed`).
    ///
    /// A batch's series stay until ``removeBatch(_:)`` (call it once the batch's output is complete
    /// and a last value was written) or until ``maxBatches`` newer batches pushed them out.
    package func batchLines(batch: String, state: String, count: Int) {
        batches.withLock { series in
            series.touch(batch, state: state)
            gauge(Name.batchLines, ["batch": batch, "state": state]).record(count)
            while series.count > Self.maxBatches, let (oldest, states) = series.removeOldest() {
                destroyBatchGauges(oldest, states)
            }
        }
    }

    /// Removes every `vibes_spool_batch_lines` series of a batch.
    package func removeBatch(_ batch: String) {
        batches.withLock { series in
            if let states = series.remove(batch) { destroyBatchGauges(batch, states) }
        }
    }

    /// The batches that have `vibes_spool_batch_lines` series.
    func batchesWithSeries() -> [String] {
        batches.withLock { $0.ids }
    }

    /// The time of the last job that ended in `done/`, in seconds since 1970.
    package func lastSuccess(at seconds: Double) {
        gauge(Name.lastSuccess).record(seconds)
    }

    /// A bucket bound in whole milliseconds (`Duration.seconds(0.1)` is 0.100000000000000005 s, which
    /// would be its `le` label).
    private static func exactDuration(_ seconds: Double) -> Duration {
        .milliseconds(Int64((seconds * 1000).rounded()))
    }

    // MARK: - swift-metrics handles on this instance's registry

    private func counter(_ name: String, _ labels: KeyValuePairs<String, String>) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: name, dimensions: labels.map { ($0.key, $0.value) }, factory: factory)
    }

    private func gauge(_ name: String, _ labels: KeyValuePairs<String, String> = [:]) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: name, dimensions: labels.map { ($0.key, $0.value) }, factory: factory)
    }

    private func timer(_ name: String) -> CoreMetrics.Timer {
        CoreMetrics.Timer(label: name, dimensions: [], factory: factory)
    }

    private func destroyBatchGauges(_ batch: String, _ states: Set<String>) {
        for state in states {
            gauge(Name.batchLines, ["batch": batch, "state": state]).destroy()
        }
    }
}

/// The batches that have `batch_lines` series, and which was updated least recently.
struct BatchSeries {
    private var states: [String: Set<String>] = [:]
    private var touched: [String: UInt64] = [:]
    private var clock: UInt64 = 0

    var count: Int { states.count }
    var ids: [String] { Array(states.keys) }

    mutating func touch(_ batch: String, state: String) {
        clock += 1
        states[batch, default: []].insert(state)
        touched[batch] = clock
    }

    mutating func remove(_ batch: String) -> Set<String>? {
        touched[batch] = nil
        return states.removeValue(forKey: batch)
    }

    mutating func removeOldest() -> (String, Set<String>)? {
        guard let oldest = touched.min(by: { $0.value < $1.value })?.key, let states = remove(oldest) else { return nil }
        return (oldest, states)
    }
}
