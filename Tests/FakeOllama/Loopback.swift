//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc

/// A TCP socket connected to 127.0.0.1:`port` (the caller closes it), or `nil` when the
/// connection is refused. Blocking, byte by byte as the test writes: for tests that must see
/// whether a port listens, or cut a request off half way.
public func loopbackConnect(port: Int) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        return nil
    }
    return fd
}

/// Whether 127.0.0.1:`port` accepts a connection (closed at once).
public func loopbackAccepts(port: Int) -> Bool {
    guard let fd = loopbackConnect(port: port) else { return false }
    close(fd)
    return true
}
