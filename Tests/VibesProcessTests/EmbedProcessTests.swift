//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// Grouped embedding lines through worker processes: `kill -9` with a group out, then resume.
extension ProcessTests {
    @Test func aBatchKilledWithAGroupOutResumesWithoutACustomIDTwice() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let slow = FakeHost(name: "a", models: ["m"], replyDelay: .milliseconds(40))
        try t.drop("docs.jsonl", TestSpool.embedLines((1...120).map { "text \($0)" }))
        try await FakeOllama.with(slow.handler) { fake in
            let first = try run(t, fake, ["--concurrency", "2", "--embed-group", "8"], log: "first")
            await eventually("some groups are in") { customIDs("\(t.spool.active)/docs.output.jsonl", t).count >= 16 }
            first.signal(SIGKILL)
            _ = await first.exitStatus()
            #expect(slow.embeds.contains { $0.count > 1 }, "groups went out: \(slow.embeds.map(\.count))")
        }
        let host = FakeHost(name: "b", models: ["m"])
        try await FakeOllama.with(host.handler) { fake in
            let second = try run(t, fake, ["--concurrency", "2", "--embed-group", "8", "--once"], log: "second")
            #expect(await second.exitStatus() == 0, "\(second.log)")
        }
        let ids = customIDs("\(t.spool.done)/docs.output.jsonl", t)
        #expect(ids.count == 120, "every line once")
        #expect(Set(ids).count == 120, "no custom_id twice")
        #expect(t.read("\(t.spool.done)/docs.errors.jsonl") == "")
        // Re-run at most: the lines running at the kill (2 groups of 8) and those settled and
        // waiting for their write (as many again).
        let sent: Int = (slow.embeds + host.embeds).reduce(0) { $0 + $1.count }
        #expect(sent <= 120 + 32, "inputs sent: \(sent)")
    }
}
