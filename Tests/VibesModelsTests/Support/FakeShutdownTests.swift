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
                    if Self.connect(port: port) { connected += 1 }
                }
                return connected
            }
            await eventually("connections arrive") { fake.openedConnections >= 3 }
            await fake.shutdown()
            stop.store(true, ordering: .relaxed)
            #expect(await connecting.value >= 3)
        }
    }

    /// Connects to 127.0.0.1:`port` and closes at once; whether the connect succeeded.
    private static func connect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
