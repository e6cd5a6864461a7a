//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc
import VibesSpool

extension SpoolDirectory {
    /// Asks the workers to stop batch `id`: `cancel/ID`, empty, or holding
    /// `{"reason": "expired"}` for a batch past its completion window. Written in `tmp/` first
    /// (fsynced) and renamed in, so a worker never reads half of it; an existing request stays.
    public func requestCancel(id: String, expired: Bool) throws {
        try FileSystem.makeDirectory(cancel, mode: 0o775)
        let target = "\(cancel)/\(id)"
        if FileSystem.exists(target) { return }
        let staged = "\(tmp)/.cancel-\(id).\(getpid())"
        try FileSystem.createDurably(staged, mode: 0o664, replacingStale: true) { fd in
            if expired { try FileSystem.writeAll(fd, Array("{\"reason\": \"expired\"}\n".utf8), path: staged) }
        }
        guard rename(staged, target) == 0 else {
            let error = SpoolError("rename", target)
            try? FileSystem.remove(staged)
            throw error
        }
        try FileSystem.fsyncDirectory(cancel)
    }
}
