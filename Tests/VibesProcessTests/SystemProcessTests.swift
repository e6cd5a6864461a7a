//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing

/// The worker as a process, as systemd and a log reader see it.
@Suite struct SystemProcessTests {
    /// The worker itself: READY once watching, STATUS lines, WATCHDOG from its loop, STOPPING.
    @Test func theWorkerNotifiesInOrder() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let path = "\(t.base)/notify.sock"
        let receiver = try DatagramReceiver(address: Array(path.utf8))
        let port = try await FakeOllama.closedPort()
        let worker = try WorkerProcess(
            ["run", "--spool", t.spool.root, "--ollama-url", "http://127.0.0.1:\(port)"], logPath: "\(t.base)/w.log",
            environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "300000"])
        defer { worker.signal(SIGKILL) }
        var messages: [String] = []
        while messages.filter({ $0 == "WATCHDOG=1" }).count < 3, let message = receiver.receive() { messages.append(message) }
        try t.drop("bad.json", "not json")
        while !messages.contains(where: { $0.contains("failed 1") }), let message = receiver.receive() { messages.append(message) }
        worker.signal(SIGTERM)
        while !messages.contains("STOPPING=1"), let message = receiver.receive() { messages.append(message) }
        #expect(await worker.exitStatus() == 0)
        let ready = try #require(messages.firstIndex(of: "READY=1"))
        #expect(messages.prefix(ready).allSatisfy { $0 == "WATCHDOG=1" }, "READY comes first (bar watchdog pings): \(messages)")
        #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 3)
        #expect(messages.contains("STATUS=queued 0, running 0, done 0, failed 1"), "\(messages)")
        #expect(messages.last == "STOPPING=1")
    }

    @Test func aForgedNameCannotSplitAWorkerLogLine() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let forged = "evil\n2026-01-01T00:00:00+0000 error vibes-spool : FORGED"
        try t.drop("\(forged).json", #"{"model":"echo","prompt":"x"}"#)
        try t.drop("\(forged) bad.json", #"{"model":"echo","prompt":"x",}"#)
        try await FakeOllama.with(echoHandler()) { fake in
            let worker = try WorkerProcess(
                ["run", "--once", "--spool", t.spool.root, "--ollama-url", fake.baseURL], logPath: "\(t.base)/worker.log",
                environment: ["VIBES_LOG_LEVEL": "debug"])
            #expect(await worker.exitStatus() == 1, "\(worker.log)")
            let lines = worker.log.split(separator: "\n")
            #expect(lines.contains { $0.contains(#"evil\n2026"#) }, "\(worker.log)")
            #expect(!lines.contains { $0.hasPrefix("2026-01-01") }, "no forged line: \(worker.log)")
        }
        #expect(t.doneIDs == [forged])
        #expect(t.failedIDs == ["\(forged) bad"])
    }
}
