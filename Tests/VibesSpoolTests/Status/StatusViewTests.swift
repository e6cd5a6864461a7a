//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
@testable import VibesSpool

@Suite struct StatusViewTests {
    func busyStatus() -> SpoolStatus {
        var status = SpoolStatus(spool: "/var/spool/vibes-spool/default")
        status.counts = .init(incoming: 7, active: 2, done: 1204, failed: 3)
        status.running = [
            .init(id: "job-a", bytes: 12_600, ageS: 45.1, host: "http://127.0.0.1:11434", model: "gemma3:latest"),
            .init(id: "job-b", bytes: 300, ageS: 2, host: nil, model: nil),
        ]
        status.retrying = [.init(id: "job-c", attempts: 2, nextAt: "2026-12-02T10:04:00Z")]
        status.batches = [.init(id: "essays", total: 1000, completed: 500, failed: 20)]
        status.hosts = [.init(url: "http://127.0.0.1:11434", state: "up", running: 2, free: 0, loaded: ["gemma3:latest"])]
        return status
    }

    @Test func rendersCountsRunningJobsBatchesAndHosts() {
        let lines = StatusView.render(busyStatus(), rates: ["job-a": 160], time: "10:03:04")
        #expect(lines == [
            "vibes-spool status  /var/spool/vibes-spool/default  10:03:04",
            "queued 7  running 2  retrying 1  done 1204  failed 3",
            "",
            "running",
            "  job-a  gemma3:latest  http://127.0.0.1:11434  12.3 KiB  45.1 s  ~40 tok/s",
            "  job-b  -  -  300 B  2.0 s",
            "",
            "retrying",
            "  job-c  attempt 2, next at 2026-12-02T10:04:00Z",
            "",
            "batches",
            "  essays  [##############!.............]  52%  520/1000, 20 failed",
            "",
            "hosts",
            "  http://127.0.0.1:11434  up  running 2  free 0  loaded gemma3:latest",
        ])
    }

    @Test func showsThePauseAndLeavesOutEmptySections() {
        var status = SpoolStatus(spool: "s")
        status.paused = .init(reason: "Ollama unreachable", since: "2026-12-02T09:00:00Z")
        #expect(StatusView.render(status) == [
            "vibes-spool status  s",
            "queued 0  running 0  retrying 0  done 0  failed 0",
            "PAUSED since 2026-12-02T09:00:00Z: Ollama unreachable",
        ])
    }

    @Test func clipsLinesToTheWidth() {
        let lines = StatusView.render(busyStatus(), width: 40)
        #expect(lines.allSatisfy { $0.count <= 40 })
        #expect(lines.contains { $0.hasSuffix("…") })
    }

    @Test func ratesAreTheGrowthSinceTheLastReadingOrBytesOverAgeForNewJobs() {
        let now = busyStatus()
        var before = busyStatus()
        before.running = [.init(id: "job-a", bytes: 12_000, ageS: 43.1, host: nil, model: nil)]
        let rates = StatusView.bytesPerSecond(now, previous: before, elapsed: 2)
        #expect(rates == ["job-a": 300, "job-b": 150])
        #expect(StatusView.bytesPerSecond(now, previous: nil, elapsed: 0)["job-a"] == 12_600 / 45.1)
    }

    @Test func progressBars() {
        #expect(StatusView.progressBar(done: 0, failed: 0, total: 10, width: 12) == "[..........]")
        #expect(StatusView.progressBar(done: 5, failed: 0, total: 10, width: 12) == "[#####.....]")
        #expect(StatusView.progressBar(done: 0, failed: 1, total: 1000, width: 12) == "[!.........]")
        #expect(StatusView.progressBar(done: 999, failed: 1, total: 1000, width: 12) == "[#########!]")
        #expect(StatusView.progressBar(done: 10, failed: 0, total: 10, width: 12) == "[##########]")
        #expect(StatusView.progressBar(done: 0, failed: 0, total: 0, width: 4) == "[##]")
    }

    @Test func formatsBytesAndSeconds() {
        #expect(StatusView.formatBytes(812) == "812 B")
        #expect(StatusView.formatBytes(12_600) == "12.3 KiB")
        #expect(StatusView.formatBytes(4 << 20) == "4.0 MiB")
        #expect(StatusView.formatSeconds(45.06) == "45.1 s")
        #expect(StatusView.formatSeconds(725) == "12 min 5 s")
        #expect(StatusView.formatSeconds(10_920) == "3 h 2 min")
    }
}
