//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Dispatch
import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
@testable import VibesSpool

/// The kernel queues at most this many inotify events per watcher; past it, one IN_Q_OVERFLOW.
private let queueLimit = (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))
    .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }

extension SpoolWorkerTests {
    @Test(.enabled(if: (queueLimit ?? .max) <= 200_000, "needs a kernel inotify queue limit (max_queued_events) of at most 200 000 to flood"))
    func anInotifyQueueOverflowIsAnsweredWithARescan() async throws {
        let limit = try #require(queueLimit)
        let t = try TestSpool()
        defer { t.cleanUp() }
        let held = DispatchSemaphore(value: 0)
        InotifyWatcher.beforeRead.withLock { $0 = { held.wait() } }
        defer { InotifyWatcher.beforeRead.withLock { $0 = nil } }
        try await withWorker(t, handler: echoHandler()) { fake, _ in
            // Released however the body ends: the worker's shutdown waits for the watcher's thread.
            var releasedOnce = false
            func release() {
                guard !releasedOnce else { return }
                releasedOnce = true
                InotifyWatcher.beforeRead.withLock { $0 = nil }
                held.signal()
            }
            defer { release() }
            // The watcher's thread is held before its first read. Fill the kernel's queue past
            // its limit with events the worker ignores: a file renamed in and out again, each
            // move in one event, under two names in turn (the kernel merges an event that
            // repeats the one before it).
            let outside = "\(t.spool.tmp)/flood.txt"
            try Data().write(to: URL(fileURLWithPath: outside))
            for i in 0..<(limit + 16) {
                let inside = "\(t.spool.incoming)/flood-\(i % 2).txt"
                #expect(rename(outside, inside) == 0 && rename(inside, outside) == 0)
            }
            // The queue is full: these three are never reported one by one.
            for i in 0..<3 { try t.dropRequest("late\(i)", prompt: "p\(i)") }
            release()
            await eventually("the overflow's rescan found all three", timeout: .seconds(15)) {
                t.doneIDs == ["late0", "late1", "late2"]
            }
            #expect(fake.requests.filter { $0.path == "/api/chat" }.count == 3)
        }
    }
}
