//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc
import Synchronization
import VibesModels

/// `active/ID.partial`: the reply text as it streams. One per attempt: created (or emptied: a
/// retry starts afresh) by ``open()`` or by the first text, whichever comes first; then one
/// `write(2)` per piece of the reply that arrives, on the thread where it arrived (it is the
/// attempt's ``ChatTextSink``). Once closed, it stays closed.
final class PartialFile: ChatTextSink {
    private enum Descriptor {
        case notOpened
        case open(Int32)
        case closed
    }

    let path: String
    private let state = Mutex<(descriptor: Descriptor, written: Int)>((.notOpened, 0))

    init(path: String) {
        self.path = path
    }

    /// Creates or empties the file; does nothing if this attempt's file is open already.
    func open() throws {
        try state.withLock { state in
            _ = try openLocked(&state.descriptor)
        }
    }

    func append(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Appends reply text with one `write(2)` (more only if the kernel takes part of it).
    func write(_ text: UnsafeRawBufferPointer) throws {
        try state.withLock { state in
            let fd = try openLocked(&state.descriptor)
            try FileSystem.writeAll(fd, text, path: path)
            state.written += text.count
        }
    }

    private func openLocked(_ descriptor: inout Descriptor) throws -> Int32 {
        switch descriptor {
        case .open(let fd):
            return fd
        case .closed:
            throw SpoolError("write (the attempt is over)", path, errno: EBADF)
        case .notOpened:
            guard let fd = try FileSystem.open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW, mode: 0o664) else {
                throw SpoolError("create", path, errno: ENOENT)
            }
            descriptor = .open(fd)
            return fd
        }
    }

    /// The open descriptor (-1 when not open).
    var fd: Int32 {
        state.withLock {
            if case .open(let fd) = $0.descriptor { return fd }
            return -1
        }
    }

    /// Reply bytes written in this attempt.
    var written: Int { state.withLock { $0.written } }

    func close() {
        state.withLock { state in
            if case .open(let fd) = state.descriptor { Glibc.close(fd) }
            state.descriptor = .closed
        }
    }
}
