//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Testing
import VibesModels
@testable import VibesSpool

/// What `status` shows of the workers publishing into a spool, from their state files and a
/// time: plain values, no files.
@Suite struct WorkerListingTests {
    static let now = 1_800_000_000.0

    func state(_ host: String, _ pid: Int32, updated secondsAgo: Double?, running: [String] = [], retrying: [String] = [], paused: Bool = false) -> WorkerStateFile {
        WorkerStateFile(
            host: host, pid: pid, startedAt: RFC3339.format(Date(timeIntervalSince1970: Self.now - 3600)),
            updatedAt: secondsAgo.map { RFC3339.format(Date(timeIntervalSince1970: Self.now - $0)) },
            paused: paused ? .init(reason: "Ollama not running at http://o:11434", since: "2027-01-15T08:00:00Z") : nil,
            running: running.map { .init(id: $0, host: "http://\(host):11434", model: "m") },
            retrying: retrying.map { .init(id: $0, attempts: 1, nextAt: "2027-01-15T08:00:05Z") },
            hosts: [.init(url: "http://\(host):11434", state: paused ? "paused" : "up", running: running.count, free: 1, loaded: [])])
    }

    func claimed(_ ids: String...) -> [SpoolStatus.Running] {
        ids.map { SpoolStatus.Running(id: $0, bytes: 3, ageS: 1) }
    }

    @Test func aWorkerIsStaleAfterThirtySecondsWithoutPublishing() {
        #expect(!state("a", 1, updated: 0).isStale(now: Self.now))
        #expect(!state("a", 1, updated: 29).isStale(now: Self.now))
        #expect(state("a", 1, updated: 31).isStale(now: Self.now))
        #expect(state("a", 1, updated: nil).isStale(now: Self.now), "never said when: stale")
    }

    @Test func everyWorkerIsListedWithHostPidHostsAndRunning() {
        var status = SpoolStatus(spool: "s")
        status.place(claimed("j1", "j2"), [state("alpha", 10, updated: 2, running: ["j1"]), state("beta", 20, updated: 40, running: ["j2"])], now: Self.now)
        #expect(status.workers == [
            .init(host: "alpha", pid: 10, hosts: ["http://alpha:11434"], running: 1, updatedAt: RFC3339.format(Date(timeIntervalSince1970: Self.now - 2)), stale: false),
            .init(host: "beta", pid: 20, hosts: ["http://beta:11434"], running: 1, updatedAt: RFC3339.format(Date(timeIntervalSince1970: Self.now - 40)), stale: true),
        ])
        #expect(status.running.map(\.id) == ["j1"], "a stale worker's jobs are not shown running")
        #expect(status.hosts.map(\.url) == ["http://alpha:11434"])
    }

    @Test func onlyJobsALiveWorkerRunsAreRunning() {
        // j1 runs; j2 waits out a retry; j3 is claimed and waits for a slot; j4 was left by a
        // worker that is gone. Only j1 runs.
        var status = SpoolStatus(spool: "s")
        status.place(claimed("j1", "j2", "j3", "j4"), [state("alpha", 10, updated: 1, running: ["j1"], retrying: ["j2"])], now: Self.now)
        #expect(status.running.map(\.id) == ["j1"])
        #expect(status.running.first?.host == "http://alpha:11434")
        #expect(status.running.first?.bytes == 3)
        #expect(status.retrying.map(\.id) == ["j2"])
    }

    @Test func aLiveWorkersPauseShowsAStaleOnesDoesNot() {
        var status = SpoolStatus(spool: "s")
        status.place([], [state("alpha", 10, updated: 100, paused: true)], now: Self.now)
        #expect(status.paused == nil)
        status = SpoolStatus(spool: "s")
        status.place([], [state("alpha", 10, updated: 1, paused: true), state("beta", 20, updated: 1)], now: Self.now)
        #expect(status.paused?.reason == "Ollama not running at http://o:11434")
    }

    @Test func theJSONHasAWorkersArray() throws {
        var status = SpoolStatus(spool: "s")
        status.place([], [state("alpha", 10, updated: 40)], now: Self.now)
        let json = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(status))
        let worker = try #require(json["workers"]?.arrayValue?.first)
        #expect(worker["host"] == "alpha")
        #expect(worker["pid"] == 10)
        #expect(worker["hosts"] == ["http://alpha:11434"])
        #expect(worker["running"] == 0)
        #expect(worker["stale"] == true)
        #expect(worker["updated_at"]?.stringValue != nil)
        #expect(status.text.contains("worker alpha:10: 0 running, Ollama http://alpha:11434, STALE"))
    }

    @Test func theWorkerIDIsHostnameColonPid() {
        let id = WorkerConfiguration.defaultWorkerID()
        #expect(id == "\(hostName()):\(getpid())")
        #expect(!hostName().isEmpty)
    }
}
