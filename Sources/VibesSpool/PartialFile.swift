//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc
import Synchronization

/// `active/ID.partial`: the reply text as it streams, one `write(2)` per chunk. Opened when
/// an attempt starts (emptied: a retry starts afresh); may be written from a child task.
final class PartialFile: Sendable {
    let path: String
    private let state = Mutex<(fd: Int32, written: Int)>((-1, 0))

    init(path: String) {
        self.path = path
    }

    func open() throws {
        guard let fd = try FileSystem.open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW, mode: 0o664) else {
            throw SpoolError("create", path, errno: ENOENT)
        }
        state.withLock { $0 = (fd, 0) }
    }

    func append(_ text: String) throws {
        try state.withLock { state in
            try FileSystem.writeAll(state.fd, text, path: path)
            state.written += text.utf8.count
        }
    }

    /// The open descriptor (-1 before `open()`).
    var fd: Int32 { state.withLock { $0.fd } }
    /// Reply bytes written in this attempt.
    var written: Int { state.withLock { $0.written } }

    func close() {
        state.withLock { state in
            if state.fd >= 0 { Glibc.close(state.fd) }
            state.fd = -1
        }
    }
}
