//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc

/// Probes for a worker paused by a full disk (see ``SpoolError/isDiskFull``).
extension SpoolDirectory {
    /// Room left on the spool's file system for an unprivileged user (`statvfs(3)` on `active/`):
    /// free bytes and free inodes (`inodes` is `nil` where the file system does not count them).
    package func freeSpace() throws -> (bytes: UInt64, inodes: UInt64?) {
        var info = statvfs()
        guard statvfs(active, &info) == 0 else { throw SpoolError("statvfs", active) }
        let inodes = info.f_files == 0 ? nil : UInt64(info.f_favail)
        return (UInt64(info.f_bavail) * UInt64(info.f_frsize), inodes)
    }

    /// Writes, fsyncs and removes a small dot file in `active/` (ignored by scans): whether a job
    /// could start streaming and commit now. Quotas and reserved blocks are seen as a job sees
    /// them. - Throws: the ``SpoolError`` of the write (`isDiskFull` while still full).
    package func probeWrite(bytes count: Int = 64 << 10) throws {
        let path = "\(active)/.vibes-spool-probe-\(getpid())"
        let chunk = [UInt8](repeating: 0, count: count)
        // createDurably removes the file when the write or the fsync fails.
        try FileSystem.createDurably(path, mode: 0o600, replacingStale: true) { try FileSystem.writeAll($0, chunk, path: path) }
        try FileSystem.remove(path)
    }
}
