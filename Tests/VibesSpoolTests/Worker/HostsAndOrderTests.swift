//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Synchronization
import Testing
import VibesModels
@testable import VibesSpool

/// The worker with several fake hosts: routing by model, failover, every host down, the
/// order of jobs (model-aware, FIFO, max-wait, priority) and retries that hold no slot.
/// (In the serialized suite: one inotify watcher per process.)
extension SpoolWorkerTests {
    @Test func eachJobGoesToAHostThatHasItsModel() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let a = FakeHost(name: "a", models: ["m1"])
        let b = FakeHost(name: "b", models: ["m2"])
        try t.dropRequest("one", model: "m1", prompt: "x")
        try t.dropRequest("two", model: "m2:latest", prompt: "y")
        var urls: [String] = []
        let summary = try await withHosts(t, [a.handler, b.handler], configure: { $0.once = true }) { fakes in urls = fakes.map(\.baseURL) }
        #expect(summary.done == 2)
        #expect(t.json("\(t.spool.done)/one.result.json")?["host"]?.stringValue == urls[0], "the envelope names the host")
        #expect(t.json("\(t.spool.done)/two.result.json")?["host"]?.stringValue == urls[1])
        #expect(t.read("\(t.spool.done)/one.txt") == "reply to x from a")
        #expect(t.read("\(t.spool.done)/two.txt") == "reply to y from b")
        #expect(a.chats.map(\.model) == ["m1:latest"] && b.chats.map(\.model) == ["m2:latest"])
    }

    @Test func aHostThatDoesNotAnswerLosesNoJob() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let b = FakeHost(name: "b", models: ["m"])
        let dead = try await FakeOllama.closedPort()
        for n in 1...4 { try t.dropRequest("j\(n)", model: "m", prompt: "\(n)") }
        let summary = try await withHosts(t, [b.handler], configure: { configuration in
            configuration.once = true
            configuration.hosts.insert(HostConfiguration(url: "http://127.0.0.1:\(dead)", concurrency: 1), at: 0)
        })
        #expect(summary.done == 4 && summary.failed == 0)
        #expect(b.chats.count == 4)
    }

    @Test func everyHostDownFailsOneJobNamingThemAndTheRestWait() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let ports = [try await FakeOllama.closedPort(), try await FakeOllama.closedPort()]
        try t.dropRequest("j1", model: "m", prompt: "1")
        try await Task.sleep(for: .milliseconds(5))
        try t.dropRequest("j2", model: "m", prompt: "2")
        let summary = try await withHosts(t, [], configure: { configuration in
            configuration.once = true
            configuration.retries = 1
            configuration.hosts = ports.map { HostConfiguration(url: "http://127.0.0.1:\($0)", concurrency: 1) }
        })
        #expect(summary.exitCode == 3)
        #expect(t.failedIDs == ["j1"])
        #expect(t.names(t.spool.incoming) == ["j2.json"])
        let message = t.errorEnvelope("j1")?["error"]?["message"]?.stringValue ?? ""
        #expect(message == "Ollama not running at http://127.0.0.1:\(ports[0]), http://127.0.0.1:\(ports[1]). Start it with `ollama serve`.")
        #expect(t.errorEnvelope("j1")?["attempts"] == 2)
        #expect(t.errorEnvelope("j1")?["host"]?.stringValue?.hasPrefix("http://127.0.0.1:") == true, "the host of the last attempt")
    }

    /// Six jobs alternating two models on a host with room for one: model order loads each
    /// model once; FIFO, or a max-wait of 0, loads one per job.
    @Test(arguments: [("model", 120.0, 2), ("fifo", 120.0, 6), ("model", 0.0, 6)])
    func modelOrderSavesLoads(order: String, maxWait: Double, loads: Int) async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["a", "b"], room: 1)
        for n in 1...6 { try t.dropRequest("j\(n)", model: n % 2 == 1 ? "a" : "b", prompt: "\(n)") }
        let summary = try await withHosts(t, [host.handler], configure: { configuration in
            configuration.once = true
            configuration.order = JobOrder(rawValue: order)!
            configuration.maxWait = .milliseconds(Int64(maxWait * 1000))
        })
        #expect(summary.done == 6)
        #expect(host.loads == loads, "\(host.chats)")
    }

    @Test func higherPriorityRunsFirst() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"])
        try t.dropRequest("low1", model: "m", prompt: "low1")
        try t.dropRequest("low2", model: "m", prompt: "low2")
        try t.dropRequest("urgent", model: "m", prompt: "urgent", extra: #","priority":50"#)
        try t.dropRequest("never", model: "m", prompt: "never", extra: #","priority":-5"#)
        let summary = try await withHosts(t, [host.handler], configure: { $0.once = true })
        #expect(summary.done == 4)
        #expect(host.chats.map(\.prompt) == ["urgent", "low1", "low2", "never"])
    }

    @Test func aPriorityOutOfRangeIsAnInvalidRequest() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"])
        try t.dropRequest("bad", model: "m", prompt: "x", extra: #","priority":101"#)
        _ = try await withHosts(t, [host.handler], configure: { $0.once = true })
        #expect(t.errorEnvelope("bad")?["error"]?["kind"] == "invalid_request")
        #expect(t.errorEnvelope("bad")?["error"]?["message"]?.stringValue?.contains("`priority`: expected an integer from -100 to 100, found 101") == true)
    }

    /// A job waiting out its backoff holds no slot: the next job runs meanwhile.
    @Test func aRetryingJobHoldsNoSlot() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"])
        let failedOnce = Mutex(false)
        let handler: FakeOllama.Handler = { request in
            let isFlaky = request.path == "/api/chat" && request.lastMessage == "flaky"
            let first = isFlaky && failedOnce.withLock { failed in
                defer { failed = true }
                return !failed
            }
            if first {
                return .error(503, "busy")
            }
            return await host.handler(request)
        }
        try t.dropRequest("flaky", model: "m", prompt: "flaky")
        try await withHosts(t, [handler], configure: { $0.backoffBase = .seconds(2); $0.backoffCap = .seconds(2) }) { _ in
            await eventually("the flaky job waits out its backoff") { (try? SpoolStatus.read(t.spool))?.retrying.map(\.id) == ["flaky"] }
            let status = try SpoolStatus.read(t.spool)
            #expect(status.retrying.first?.attempts == 1)
            #expect(status.hosts.first?.free == 1, "no slot held")
            try t.dropRequest("next", model: "m", prompt: "next")
            await eventually("the next job is done first") { t.doneIDs == ["next"] }
            await eventually("then the flaky one") { t.doneIDs.sorted() == ["flaky", "next"] }
        }
        #expect(t.json("\(t.spool.done)/flaky.result.json")?["attempts"] == 2)
    }
}
