//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
@testable import VibesSpool

@Suite struct SystemdNotifierTests {
    @Test func readyStatusWatchdogArriveInOrder() throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let path = "\(t.base)/notify.sock"
        let receiver = try DatagramReceiver(address: Array(path.utf8))
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
        let receiver = try DatagramReceiver(address: [0] + Array(name.utf8))
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
}
