//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Synchronization
import Testing
@testable import VibesSpool

/// A worker that pauses keeps nothing claimed that it is not running, and `status` never
/// shows a job running that is not: on the fake, in this process (in the serialized worker
/// suite: one inotify watcher per process).
extension SpoolWorkerTests {
    /// `flaky` gets 500s and waits out its backoffs, claimed; Ollama then goes away; `trigger`
    /// finds it gone, and `queued` comes in. One of those two fails with `ollama_not_running` (the
    /// one tried last, as the host's trial), the worker pauses, and every job it holds that is not
    /// running goes back into `incoming/` with its attempt count: `flaky` (retrying) and the other
    /// of the two. At no point does `status` show a job running: every attempt is refused or
    /// answered with a 500 at once.
    @Test func aPausePutsBackWhatTheWorkerHoldsAndStatusShowsNoneRunning() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let fake = try await FakeOllama.start(FakeOllama.ollamaLike(models: ["echo"]) { _ in .error(500, "boom") })
        let shownRunning = Mutex<[String]>([])
        try await runWorker(t, baseURL: fake.baseURL, configure: {
            $0.retries = 2
            $0.backoffBase = .seconds(1)
            $0.backoffCap = .seconds(8)
        }) { _ in
            try t.dropRequest("flaky", prompt: "a")
            await eventually("flaky failed twice") { fake.requests.filter { $0.path == "/api/chat" }.count == 2 }
            await fake.shutdown()
            try t.dropRequest("trigger", prompt: "b")
            await eventually("trigger claimed") { t.names(t.spool.active).contains("trigger.json") }
            try t.dropRequest("queued", prompt: "c")
            await eventually("the worker pauses and puts back what it holds", timeout: .seconds(30)) {
                let status = try? SpoolStatus.read(t.spool)
                if let running = status?.running, !running.isEmpty { shownRunning.withLock { $0 += running.map(\.id) } }
                return status?.paused != nil && t.failedIDs.count == 1 && t.names(t.spool.incoming).filter { !$0.hasPrefix(".") }.count == 2
            }
            let failed = try #require(t.failedIDs.first)
            #expect(["trigger", "queued"].contains(failed))
            let other = failed == "trigger" ? "queued" : "trigger"
            #expect(t.names(t.spool.incoming).filter { !$0.hasPrefix(".") } == ["flaky.json", "\(other).json"])
            #expect(t.errorEnvelope(failed)?["error"]?["kind"] == "ollama_not_running")
            #expect(t.read("\(t.spool.incoming)/.\(other).json.attempts") != nil, "its attempts kept")
            let status = try SpoolStatus.read(t.spool)
            #expect(t.names(t.spool.active).filter { $0.hasSuffix(".json") }.isEmpty, "nothing claimed")
            #expect(status.running.isEmpty)
            #expect(status.counts.active == 0)
            #expect(status.workers.count == 1)
            #expect(status.workers.first?.running == 0)
            #expect(status.workers.first?.stale == false)
        }
        #expect(shownRunning.withLock { $0 }.isEmpty, "shown running: \(shownRunning.withLock { $0 })")
        #expect(t.read("\(t.spool.incoming)/.flaky.json.attempts") == "2\n", "its attempts kept, as an orphan's")
    }
}
