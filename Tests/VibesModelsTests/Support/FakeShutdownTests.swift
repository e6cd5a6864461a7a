//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Glibc
import Synchronization
import Testing

/// The fake's shutdown while clients keep connecting (as a worker process does when a test
/// ends): a connection accepted as the listening socket closes must be closed, not dropped
/// (NIO traps on a dropped one, which crashed the whole test run).
@Suite struct FakeShutdownTests {
    @Test func connectionsAcceptedDuringShutdownAreClosed() async throws {
        for _ in 0..<20 {
            let fake = try await FakeOllama.start { _ in .chatReply(content: "hi") }
            let port = fake.port
            let stop = Atomic<Bool>(false)
            // At most 200 connections a round (a few ms): the fakes of other tests share the
            // event loops that accept them.
            let connecting = Task.detached {
                var connected = 0
                for _ in 0..<200 where !stop.load(ordering: .relaxed) {
                    if loopbackAccepts(port: port) { connected += 1 }
                }
                return connected
            }
            await eventually("connections arrive") { fake.openedConnections >= 3 }
            await fake.shutdown()
            stop.store(true, ordering: .relaxed)
            #expect(await connecting.value >= 3)
        }
    }
}
