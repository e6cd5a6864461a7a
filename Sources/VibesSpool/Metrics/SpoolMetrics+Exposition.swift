//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

extension SpoolMetrics {
    /// The metrics' names (CONTRACT.md, "Metrics") and help texts.
    enum Name {
        static let jobs = "vibes_spool_jobs_total"
        static let queueJobs = "vibes_spool_queue_jobs"
        static let oldestQueued = "vibes_spool_oldest_queued_seconds"
        static let jobDuration = "vibes_spool_job_duration_seconds"
        static let queueWait = "vibes_spool_queue_wait_seconds"
        static let tokens = "vibes_spool_tokens_total"
        static let modelLoad = "vibes_spool_model_load_seconds_total"
        static let hostUp = "vibes_spool_host_up"
        static let paused = "vibes_spool_paused"
        static let batchLines = "vibes_spool_batch_lines"
        static let lastSuccess = "vibes_spool_last_success_timestamp_seconds"

        static let help: [String: String] = [
            jobs: "Jobs finished, by outcome (done or failed), error kind (empty when done) and model.",
            queueJobs: "Jobs in incoming/ (queued), in active/ (running), and waiting out a retry's backoff.",
            oldestQueued: "Age in seconds of the oldest job waiting in incoming/ (0 when none waits).",
            jobDuration: "Seconds from a job's claim to its finish.",
            queueWait: "Seconds a job waited in incoming/ before it was claimed.",
            tokens: "Tokens Ollama counted, by type (prompt or completion) and model.",
            modelLoad: "Seconds Ollama spent loading models for jobs.",
            hostUp: "Whether an Ollama host answers (1) or not (0).",
            paused: "Whether the worker has stopped claiming jobs (1) or not (0).",
            batchLines: "Lines of a batch, by state.",
            lastSuccess: "When the last job finished in done/, in seconds since 1970.",
        ]
    }

    /// The metrics in Prometheus' text format (version 0.0.4), one family after the other in name
    /// order, each with its `# HELP` and `# TYPE` line.
    ///
    /// swift-metrics passes no help text to its backend, and the registry emits its families in
    /// hash order: both are put right here.
    package func exposition() -> String {
        refresh?(self)
        var families: [(name: Substring, lines: [Substring])] = []
        for line in registry.emitToString().split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                families.append((line.dropFirst(7).prefix { $0 != " " }, [line]))
            } else if !line.hasPrefix("#"), !families.isEmpty {
                families[families.count - 1].lines.append(line)
            }
        }
        var text = ""
        for family in families.sorted(by: { $0.name < $1.name }) {
            if let help = Name.help[String(family.name)] {
                text += "# HELP \(family.name) \(help)\n"
            }
            let isHistogram = family.lines[0].hasSuffix(" histogram")
            // A histogram's series are blocks of lines whose order matters; other families' lines
            // are one series each, sorted for a stable file.
            let samples = isHistogram ? Array(family.lines.dropFirst()) : family.lines.dropFirst().sorted()
            text += family.lines[0] + "\n" + samples.map { $0 + "\n" }.joined()
        }
        return text
    }
}
