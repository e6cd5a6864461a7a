//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// The frame `vibes-spool status --watch` draws: a plain function of a ``SpoolStatus``.
package enum StatusView {
    /// Bytes of reply text per token, for the tokens/s estimate: about 4 for English with the
    /// tokenizers of current models (more for code and other languages, so the estimate is rough).
    package static let bytesPerToken = 4.0

    /// Reply bytes per second of each running job: the growth since `previous` over `elapsed`
    /// seconds, or for a job new since then, its bytes over its age.
    package static func bytesPerSecond(_ status: SpoolStatus, previous: SpoolStatus?, elapsed: Double) -> [String: Double] {
        let before = Dictionary((previous?.running ?? []).map { ($0.id, $0.bytes) }, uniquingKeysWith: { a, _ in a })
        var rates: [String: Double] = [:]
        for job in status.running {
            if let old = before[job.id], elapsed > 0 {
                rates[job.id] = Double(max(0, job.bytes - old)) / elapsed
            } else if job.ageS > 0 {
                rates[job.id] = Double(job.bytes) / job.ageS
            }
        }
        return rates
    }

    /// The frame's lines, each at most `width` columns.
    /// - Parameters:
    ///   - rates: Reply bytes per second by job id (``bytesPerSecond(_:previous:elapsed:)``).
    ///   - time: Shown on the first line (the time of the reading), if given.
    package static func render(_ status: SpoolStatus, rates: [String: Double] = [:], time: String? = nil, width: Int = 80) -> [String] {
        let width = max(40, width)
        var lines = ["vibes-spool status  \(status.spool)" + (time.map { "  \($0)" } ?? "")]
        let c = status.counts
        lines.append("queued \(c.incoming)  running \(status.running.count)  retrying \(status.retrying.count)  done \(c.done)  failed \(c.failed)")
        if let paused = status.paused {
            lines.append("PAUSED since \(paused.since): \(paused.reason)")
        }
        if !status.running.isEmpty {
            lines.append("")
            lines.append("running")
            for job in status.running {
                var fields = [job.id, job.model ?? "-", job.host ?? "-", formatBytes(job.bytes), formatSeconds(job.ageS)]
                if let rate = rates[job.id] {
                    fields.append("~\(Int((rate / bytesPerToken).rounded())) tok/s")
                }
                lines.append("  " + fields.joined(separator: "  "))
            }
        }
        if !status.retrying.isEmpty {
            lines.append("")
            lines.append("retrying")
            for job in status.retrying {
                lines.append("  \(job.id)  attempt \(job.attempts), next at \(job.nextAt)")
            }
        }
        if !status.batches.isEmpty {
            lines.append("")
            lines.append("batches")
            for batch in status.batches {
                let finished = batch.completed + batch.failed
                let percent = batch.total > 0 ? finished * 100 / batch.total : 100
                let counts = "\(percent)%  \(finished)/\(batch.total)" + (batch.failed > 0 ? ", \(batch.failed) failed" : "")
                let barWidth = min(30, max(10, width - 2 - batch.id.count - 2 - 2 - 2 - counts.count))
                lines.append("  \(batch.id)  " + progressBar(done: batch.completed, failed: batch.failed, total: batch.total, width: barWidth) + "  " + counts)
            }
        }
        if !status.hosts.isEmpty {
            lines.append("")
            lines.append("hosts")
            for host in status.hosts {
                let loaded = host.loaded.isEmpty ? "" : "  loaded \(host.loaded.joined(separator: ", "))"
                lines.append("  \(host.url)  \(host.state)  running \(host.running)  free \(host.free)" + loaded)
            }
        }
        if status.workers.count > 1 || status.workers.contains(where: \.stale) {
            lines.append("")
            lines.append("workers")
            for worker in status.workers {
                lines.append("  \(worker.host):\(worker.pid)  running \(worker.running)" + (worker.stale ? "  STALE since \(worker.updatedAt ?? "?")" : ""))
            }
        }
        return lines.map { clip($0, to: width) }
    }

    /// `[#####!!....]`: `#` completed, `!` failed, `.` to do; `width` columns in all.
    package static func progressBar(done: Int, failed: Int, total: Int, width: Int) -> String {
        let inner = max(1, width - 2)
        guard total > 0 else { return "[" + String(repeating: "#", count: inner) + "]" }
        let cells = { (count: Int) in min(inner, count * inner / total) }
        // A failure shows even when it is less than a cell; a finished batch fills the bar.
        let failedCells = failed > 0 ? max(1, cells(failed)) : 0
        let doneCells = done + failed >= total ? inner - failedCells : min(cells(done), inner - failedCells)
        return "[" + String(repeating: "#", count: doneCells) + String(repeating: "!", count: failedCells)
            + String(repeating: ".", count: inner - doneCells - failedCells) + "]"
    }

    /// `812 B`, `12.3 KiB`, `4.0 MiB`.
    package static func formatBytes(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return "\(oneDecimal(value)) \(units[unit])"
    }

    /// `45.1 s`, `12 min 5 s`, `3 h 2 min`.
    package static func formatSeconds(_ seconds: Double) -> String {
        if seconds < 60 { return "\(oneDecimal(seconds)) s" }
        let whole = Int(seconds)
        if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
        return "\(whole / 3600) h \(whole % 3600 / 60) min"
    }

    private static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func clip(_ line: String, to width: Int) -> String {
        line.count <= width ? line : String(line.prefix(width - 1)) + "…"
    }
}
