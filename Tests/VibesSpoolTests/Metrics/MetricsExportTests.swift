//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import FakeOllama
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SpoolTestSupport
import Testing
@testable import VibesSpool

/// Metrics with one of everything, for the exporters and the strict parsers of CI.
func busyMetrics() -> SpoolMetrics {
    let metrics = SpoolMetrics()
    metrics.jobFinished(outcome: .done, kind: nil, model: "gemma3:latest", duration: 3.5, queueWait: 0.5)
    metrics.jobFinished(outcome: .failed, kind: "model_not_found", model: "nope", duration: 0.01, queueWait: 4)
    metrics.tokens(prompt: 12, completion: 340, model: "gemma3:latest")
    metrics.modelLoad(seconds: 2.25)
    metrics.queue(incoming: 3, active: 1, retrying: 1, oldestQueuedSeconds: 12.5)
    metrics.hostUp("http://127.0.0.1:11434", true)
    metrics.paused(false)
    metrics.batchLines(batch: "essays", state: "completed", count: 2)
    metrics.batchLines(batch: "essays", state: "failed", count: 1)
    metrics.lastSuccess(at: Date().timeIntervalSince1970)
    return metrics
}

@Suite struct MetricsFileWriterTests {
    @Test func writesTheExpositionAndReplacesItAtomically() throws {
        let spool = try TestSpool()
        defer { spool.cleanUp() }
        let metrics = SpoolMetrics()
        let path = spool.base + "/vibes-spool.prom"
        let writer = MetricsFileWriter(path: path, metrics: metrics)
        #expect(writer.temporaryPath == spool.base + "/.vibes-spool.prom.tmp")
        try writer.write()
        #expect(spool.read(path) == metrics.exposition())
        let inode = try FileSystem.lstatPath(path)?.st_ino
        metrics.paused(true)
        try writer.write()
        #expect(sample(spool.read(path) ?? "", "vibes_spool_paused") == 1)
        #expect(try FileSystem.lstatPath(path)?.st_ino != inode, "rewritten in place, not replaced")
        #expect(try FileSystem.lstatPath(path).map { $0.st_mode & 0o777 } == 0o644)
        #expect(spool.names(spool.base) == ["spool", "vibes-spool.prom"], "no temporary file left")
    }

    @Test func aFolderThatIsMissingIsAnErrorNamingThePath() throws {
        let writer = MetricsFileWriter(path: "/nonexistent-vibes/x.prom", metrics: SpoolMetrics())
        #expect(throws: SpoolError.self) { try writer.write() }
        do { try writer.write() } catch { #expect("\(error)".contains("/nonexistent-vibes/")) }
    }

    @Test func runWritesAtOnceThenPeriodicallyAndOnceMoreWhenCancelled() async throws {
        let spool = try TestSpool()
        defer { spool.cleanUp() }
        let metrics = SpoolMetrics()
        let path = spool.base + "/m.prom"
        let writer = MetricsFileWriter(path: path, metrics: metrics, interval: .milliseconds(20))
        let task = Task { try await writer.run() }
        await eventually("three writes") { writer.writes >= 3 }
        metrics.paused(true)
        task.cancel()
        try await task.value
        #expect(sample(spool.read(path) ?? "", "vibes_spool_paused") == 1, "the final write has the last values")
    }

    @Test func runFailsAtOnceOnABadPath() async {
        let writer = MetricsFileWriter(path: "/nonexistent-vibes/x.prom", metrics: SpoolMetrics())
        await #expect(throws: SpoolError.self) { try await writer.run() }
    }

    /// Writes busy metrics to `$VIBES_METRICS_SAMPLE` for `.ci/check-metrics` (the strict parser and
    /// node_exporter); without it, to a temporary file.
    @Test func writesASampleFileForTheExternalChecks() throws {
        let target = ProcessInfo.processInfo.environment["VIBES_METRICS_SAMPLE"]
        let spool = try TestSpool()
        defer { spool.cleanUp() }
        let path = target ?? spool.base + "/sample.prom"
        try MetricsFileWriter(path: path, metrics: busyMetrics()).write()
        #expect(sample(spool.read(path) ?? "", #"vibes_spool_jobs_total{outcome="done",kind="",model="gemma3:latest"}"#) == 1)
    }
}

@Suite struct MetricsServerTests {
    @Test func parsesAddresses() throws {
        #expect(try MetricsServer.Address(parsing: "127.0.0.1:9464") == .init(host: "127.0.0.1", port: 9464))
        #expect(try MetricsServer.Address(parsing: "localhost:0") == .init(host: "localhost", port: 0))
        #expect(try MetricsServer.Address(parsing: "[::1]:9464") == .init(host: "::1", port: 9464))
        #expect(try MetricsServer.Address(parsing: "0.0.0.0:80").description == "0.0.0.0:80")
        #expect(try MetricsServer.Address(parsing: "[::]:80").description == "[::]:80")
        for bad in ["9464", ":9464", "::1:9464", "[::1]9464", "[::1]", "host:", "host:65536", "host:-1",
                    "host:port", "[127.0.0.1]:80", "a b:80", "http://x:80", "host:８０"] {
            #expect(throws: MetricsServer.ParseError.self, "\(bad)") { try MetricsServer.Address(parsing: bad) }
        }
    }

    @Test func servesMetricsAndRefusesOtherPathsAndMethods() async throws {
        let metrics = SpoolMetrics()
        metrics.hostUp("http://h:1", true)
        let server = try await MetricsServer.bind(.init(host: "127.0.0.1", port: 0), metrics: metrics)
        #expect(server.port > 0)
        let serving = Task { try await server.run() }
        defer { serving.cancel() }
        let base = "http://127.0.0.1:\(server.port)"

        let ok = try await get(base + "/metrics")
        #expect(ok.status == 200)
        #expect(ok.contentType == "text/plain; version=0.0.4; charset=utf-8")
        #expect(ok.body == metrics.exposition())
        #expect(sample(ok.body, #"vibes_spool_host_up{host="http://h:1"}"#) == 1)
        metrics.hostUp("http://h:1", false)
        #expect(sample(try await get(base + "/metrics?x=1").body, #"vibes_spool_host_up{host="http://h:1"}"#) == 0)

        #expect(try await get(base + "/").status == 404)
        #expect(try await get(base + "/metrics/x").status == 404)
        let post = try await get(base + "/metrics", method: .POST)
        #expect(post.status == 405)
        #expect(post.allow == "GET, HEAD")
        let head = try await get(base + "/metrics", method: .HEAD)
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(loopbackAccepts(port: server.port))
        serving.cancel()
        try await serving.value
        // Not through the HTTP client: it retries refused connections until its deadline.
        #expect(!loopbackAccepts(port: server.port), "still listening after run() ended")
    }

    @Test func aTakenPortIsAClearError() async throws {
        let first = try await MetricsServer.bind(.init(host: "127.0.0.1", port: 0), metrics: SpoolMetrics())
        let serving = Task { try await first.run() }
        defer { serving.cancel() }
        let address = MetricsServer.Address(host: "127.0.0.1", port: first.port)
        do {
            _ = try await MetricsServer.bind(address, metrics: SpoolMetrics())
            Issue.record("bound a taken port")
        } catch {
            #expect("\(error)" == "cannot listen on 127.0.0.1:\(first.port): address already in use")
        }
    }

    @Test func anAddressNotOfThisHostIsAClearError() async throws {
        // 192.0.2.1 is TEST-NET-1: no interface has it, and no name lookup is needed.
        do {
            _ = try await MetricsServer.bind(.init(host: "192.0.2.1", port: 0), metrics: SpoolMetrics())
            Issue.record("bound an address of no interface")
        } catch {
            #expect("\(error)" == "cannot listen on 192.0.2.1:0: cannot assign requested address")
        }
    }

    private struct Reply {
        var status: UInt
        var contentType: String?
        var allow: String?
        var body: String
    }

    private func get(_ url: String, method: HTTPMethod = .GET) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: response.status.code, contentType: response.headers.first(name: "Content-Type"),
                     allow: response.headers.first(name: "Allow"), body: String(buffer: body))
    }
}
