//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesSpool

extension SpoolDirectory {
    /// Asks the workers to stop batch `id`: `cancel/ID`, empty, or holding
    /// `{"reason": "expired"}` for a batch past its completion window. Written in `tmp/` first
    /// (fsynced) and renamed in by ``SpoolDirectory/writeCancel(_:reason:)``, so a worker never reads
    /// half of it; an existing request stays.
    package func requestCancel(id: String, expired: Bool) throws {
        try FileSystem.makeDirectory(cancel, mode: 0o775)
        if FileSystem.exists("\(cancel)/\(id)") { return }
        try writeCancel(id, reason: expired ? .expired : .cancelled)
    }
}
