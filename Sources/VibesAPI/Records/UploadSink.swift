//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc
import NIOCore
import VibesSpool

/// An upload on its way to disk: `api/tmp/file-HEX.upload`, written a chunk at a time as the
/// request body arrives (never held whole), its bytes and lines counted. ``commit(filename:purpose:createdAt:)``
/// fsyncs it, renames it to `api/files/file-HEX.jsonl` and then writes its record: the
/// record is the commit, so a crash before it leaves only a leftover that ``APIStore/recover()``
/// removes. Used by one request's task only.
final class UploadSink {
    let store: APIStore
    let hex: String
    let limit: Int64
    private let path: String
    private var fd: Int32
    private(set) var bytes: Int64 = 0
    private var newlines = 0
    private var lastByte: UInt8 = UInt8(ascii: "\n")
    /// How far the kernel has been asked to start writing the file back to disk.
    private var flushedTo: Int64 = 0
    /// Writeback is started every this many bytes, so that the fsync at the end finds little
    /// left to write (the disk works while the rest arrives).
    static let writebackStep: Int64 = 8 << 20

    init(store: APIStore, hex: String, limit: Int64) throws {
        self.store = store
        self.hex = hex
        self.limit = limit
        self.path = "\(store.tmp)/file-\(hex).upload"
        guard let fd = try FileSystem.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o660) else {
            throw SpoolError("create", path, errno: ENOENT)
        }
        self.fd = fd
    }

    deinit { abort() }

    /// Appends `buffer`; throws ``APIError/tooLarge(limit:)`` past the limit.
    func write(_ buffer: ByteBuffer) throws {
        guard bytes + Int64(buffer.readableBytes) <= limit else { throw APIError.tooLarge(limit: limit) }
        try buffer.withUnsafeReadableBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return }
            var cursor = base
            let end = base + raw.count
            while let hit = memchr(cursor, 0x0A, end - cursor) {
                newlines += 1
                cursor = UnsafeRawPointer(hit) + 1
            }
            lastByte = raw[raw.count - 1]
            try FileSystem.writeAll(fd, raw, path: path)
        }
        bytes += Int64(buffer.readableBytes)
        if bytes - flushedTo >= Self.writebackStep {
            // An error here is no loss: the fsync at commit still makes the file durable.
            FileSystem.startWriteback(fd, offset: flushedTo, length: bytes - flushedTo)
            flushedTo = bytes
        }
    }

    /// Makes the upload a stored file; returns its record.
    func commit(filename: String, purpose: String, createdAt: Int64) throws -> APIFileRecord {
        try FileSystem.fsyncFD(fd, path: path)
        close(fd)
        fd = -1
        let content = store.contentPath(upload: hex)
        guard rename(path, content) == 0 else { throw SpoolError("rename", content) }
        let lines = newlines + (lastByte == UInt8(ascii: "\n") ? 0 : 1)
        let record = APIFileRecord(id: "file-\(hex)", filename: filename, bytes: bytes, createdAt: createdAt, purpose: purpose, lines: lines)
        try store.commit(APIStore.encode(record), to: store.recordPath(upload: hex))
        return record
    }

    /// Drops the upload (an error, or the client went away).
    func abort() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        try? FileSystem.remove(path)
    }
}
