//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import Testing
@testable import VibesSpool

@Suite struct SystemdNotifierTests {
    /// A datagram socket bound at `path` (or abstract, with a leading NUL), receiving with a timeout.
    final class Receiver {
        let fd: Int32
        init(address: [UInt8]) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: address) }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + address.count + (address.first == 0 ? 0 : 1))
            let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            guard bound == 0 else { throw SpoolError("bind", String(decoding: address, as: UTF8.self)) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        deinit { close(fd) }

        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count < 0 ? nil : String(decoding: buffer[0..<count], as: UTF8.self)
        }
    }

    @Test func readyStatusWatchdogArriveInOrder() throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let path = "\(t.base)/notify.sock"
        let receiver = try Receiver(address: Array(path.utf8))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(notifier.isEnabled)
        for message in ["READY=1", "STATUS=queued 0, running 0, done 0, failed 0", "WATCHDOG=1", "STOPPING=1"] {
            #expect(notifier.send(message))
        }
        #expect(receiver.receive() == "READY=1")
        #expect(receiver.receive() == "STATUS=queued 0, running 0, done 0, failed 0")
        #expect(receiver.receive() == "WATCHDOG=1")
        #expect(receiver.receive() == "STOPPING=1")
    }

    @Test func abstractNamespaceWithALeadingAt() throws {
        let name = "vibes-spool-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let receiver = try Receiver(address: [0] + Array(name.utf8))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name])
        #expect(notifier.send("READY=1"))
        #expect(receiver.receive() == "READY=1")
    }

    @Test func nothingIsSentWhenUnset() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.send("READY=1"))
    }

    @Test func watchdogIntervalIsForThisProcessOnly() {
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000"]) == .seconds(30))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"]) == .seconds(30))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: [:]) == nil)
    }

    /// The worker itself: READY once watching, STATUS lines, WATCHDOG from its loop, STOPPING.
    @Test func theWorkerNotifiesInOrder() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let path = "\(t.base)/notify.sock"
        let receiver = try Receiver(address: Array(path.utf8))
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
}
