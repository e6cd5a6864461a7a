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
        for _ in 0..<30 {
            let fake = try await FakeOllama.start { _ in .chatReply(content: "hi") }
            let port = fake.port
            let stop = Atomic<Bool>(false)
            let connecting = Task.detached {
                var connected = 0
                while !stop.load(ordering: .relaxed) {
                    if Self.connect(port: port) { connected += 1 }
                }
                return connected
            }
            // Let the connects start, then shut down under them.
            while fake.openedConnections < 3 { await Task.yield() }
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
