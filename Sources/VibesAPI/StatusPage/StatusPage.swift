//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesSpool

/// `GET /`: the spool's state for people, server-rendered HTML that reloads itself every few
/// seconds (no script, no build chain). It shows `status --json`'s data: the counts, the
/// pause, the hosts, the running and retrying jobs, the batches with a progress bar. Each value
/// sits in an element with a `data-` name, so a check can read it back.
package enum StatusPage {
    package static let refreshSeconds = 3

    package static func html(_ status: SpoolStatus) -> String {
        var body = "<h1>vibes-spool <small>\(escape(status.spool))</small></h1>\n"
        if let paused = status.paused {
            body += "<p class=\"paused\" data-paused=\"\(escape(paused.reason))\">Paused since \(escape(paused.since)): \(escape(paused.reason))</p>\n"
        }
        body += "<h2>Queue</h2>\n<table class=\"counts\"><tr><th>incoming</th><th>active</th><th>done</th><th>failed</th></tr><tr>"
        for (name, value) in [("incoming", status.counts.incoming), ("active", status.counts.active), ("done", status.counts.done), ("failed", status.counts.failed)] {
            body += "<td data-count=\"\(name)\">\(value)</td>"
        }
        body += "</tr></table>\n"
        body += table("Hosts", id: "hosts", headers: ["host", "state", "running", "free", "loaded"], rows: status.hosts.map { host in
            ("host", host.url, [escape(host.url), "<span class=\"\(host.state == "up" ? "up" : "down")\">\(escape(host.state))</span>",
                "\(host.running)", "\(host.free)", escape(host.loaded.joined(separator: ", "))])
        })
        body += table("Running", id: "running", headers: ["job", "reply bytes", "age (s)", "host", "model"], rows: status.running.map { job in
            ("job", job.id, [escape(job.id), "\(job.bytes)", "\(job.ageS)", escape(job.host ?? "–"), escape(job.model ?? "–")])
        })
        body += table("Retrying", id: "retrying", headers: ["job", "attempts", "next attempt"], rows: status.retrying.map { job in
            ("job", job.id, [escape(job.id), "\(job.attempts)", escape(job.nextAt)])
        })
        body += table("Batches", id: "batches", headers: ["batch", "progress", "completed", "failed", "lines"], rows: status.batches.map { batch in
            ("batch", batch.id, [escape(batch.id), bar(batch), "\(batch.completed)", "\(batch.failed)", "\(batch.total)"])
        })
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="\(refreshSeconds)">
            <meta name="viewport" content="width=device-width, initial-scale=1"><title>vibes-spool</title>
            <style>\(style)</style></head>
            <body>
            \(body)<p class="foot">Refreshes every \(refreshSeconds) s · the same data as <code>vibes-spool status --json</code></p>
            </body></html>

            """
    }

    /// A section with a table whose rows carry `data-KIND="ID"` and cells `data-col="N"`.
    static func table(_ title: String, id: String, headers: [String], rows: [(kind: String, id: String, cells: [String])]) -> String {
        var html = "<h2>\(title) <small>\(rows.count)</small></h2>\n"
        guard !rows.isEmpty else { return html + "<p class=\"none\" id=\"\(id)\">none</p>\n" }
        html += "<table id=\"\(id)\"><tr>" + headers.map { "<th>\($0)</th>" }.joined() + "</tr>\n"
        for row in rows {
            html += "<tr data-\(row.kind)=\"\(escape(row.id))\">"
            html += row.cells.enumerated().map { "<td data-col=\"\(headers[$0.offset])\">\($0.element)</td>" }.joined()
            html += "</tr>\n"
        }
        return html + "</table>\n"
    }

    /// A progress bar: completed lines green, failed red, of the total.
    static func bar(_ batch: SpoolStatus.Batch) -> String {
        let total = max(batch.total, 1)
        let done = Double(batch.completed) * 100 / Double(total)
        let failed = Double(batch.failed) * 100 / Double(total)
        let percent = Int((done + failed).rounded(.down))
        return "<div class=\"bar\" title=\"\(percent)%\"><div class=\"ok\" style=\"width:\(done)%\"></div><div class=\"bad\" style=\"width:\(failed)%\"></div></div> \(percent)%"
    }

    /// Text made safe for HTML (element text and quoted attributes).
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;background:#fafafa}
        h1 small{font-weight:normal;color:#777;font-size:60%} h2 small{color:#999;font-weight:normal}
        table{border-collapse:collapse;margin-bottom:1em;background:#fff} th,td{border:1px solid #ddd;padding:4px 10px;text-align:left}
        th{background:#f0f0f0} .counts td{font-size:20px;text-align:center;min-width:5em}
        .bar{display:inline-flex;width:220px;height:12px;background:#e5e5e5;border-radius:6px;overflow:hidden;vertical-align:middle}
        .bar .ok{background:#2e9d4f} .bar .bad{background:#d64545} .up{color:#2e9d4f} .down{color:#d64545}
        .paused{background:#fff3cd;padding:8px;border:1px solid #e0c060} .none,.foot{color:#888}
        """
}
