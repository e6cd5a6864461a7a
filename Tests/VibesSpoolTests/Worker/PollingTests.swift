//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
@testable import VibesSpool

/// Polling as a drop from another machine meets it: inotify says nothing (its thread is held
/// here, as it would see nothing of another machine's rename), the listing finds the name.
extension SpoolWorkerTests {
    @Test(arguments: [true, false])
    func aDropInotifyDoesNotReportIsFoundByTheListing(polling: Bool) async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let held = DispatchSemaphore(value: 0)
        InotifyWatcher.beforeRead.withLock { $0 = { held.wait() } }
        defer { InotifyWatcher.beforeRead.withLock { $0 = nil } }
        try await withWorker(t, handler: echoHandler(), configure: { $0.pollInterval = polling ? .milliseconds(100) : .zero }) { _, _ in
            // Released however the body ends: the worker's shutdown waits for the watcher's thread.
            defer {
                InotifyWatcher.beforeRead.withLock { $0 = nil }
                held.signal()
            }
            try t.dropRequest("remote", prompt: "from elsewhere")
            if polling {
                await eventually("the listing found it", timeout: .seconds(10)) { t.doneIDs == ["remote"] }
            } else {
                try await Task.sleep(for: .milliseconds(500))  // a window in which a poll would have run
                #expect(t.doneIDs.isEmpty, "0: no listing, and inotify is held")
            }
        }
        if polling { #expect(t.read("\(t.spool.done)/remote.txt") == "reply to from elsewhere") }
    }
}
