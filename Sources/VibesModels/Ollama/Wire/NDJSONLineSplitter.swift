//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Cuts a byte stream into newline-terminated lines, whatever the network chunking.
///
/// Works on bytes, not characters, so a chunk boundary inside a multi-byte UTF-8 character is
/// harmless: a line is only decoded once it is whole.
struct NDJSONLineSplitter {
    private var pending = ByteBuffer()
    /// A line longer than this is a broken server, not a reply.
    let maxLineBytes: Int

    init(maxLineBytes: Int = 64 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Appends `chunk` and returns the lines it completed, without their `\n` (and `\r`).
    /// Empty lines are skipped.
    mutating func append(_ chunk: ByteBuffer) throws -> [ByteBuffer] {
        var chunk = chunk
        var lines: [ByteBuffer] = []
        while let newline = chunk.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - chunk.readerIndex
            var piece = chunk.readSlice(length: length)!
            chunk.moveReaderIndex(forwardBy: 1)
            if pending.readableBytes > 0 {
                pending.writeBuffer(&piece)
                piece = pending
                pending = ByteBuffer()
            }
            if piece.readableBytesView.last == UInt8(ascii: "\r") {
                piece.moveWriterIndex(to: piece.writerIndex - 1)
            }
            if piece.readableBytes > 0 { lines.append(piece) }
        }
        if chunk.readableBytes > 0 {
            if pending.readableBytes == 0 {
                pending = chunk
            } else {
                pending.writeBuffer(&chunk)
            }
            if pending.readableBytes > maxLineBytes {
                throw ModelError.invalidResponse("a line of over \(maxLineBytes) bytes without a newline")
            }
        }
        return lines
    }

    /// Calls `body` with each line `chunk` completes, without its `\n` (and `\r`), in place: no
    /// copy unless a line spans chunks. Empty lines are skipped. `body` must not keep the pointer.
    mutating func forEachLine(in chunk: ByteBuffer, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try chunk.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var start = 0
            while start < bytes.count,
                let found = memchr(base + start, Int32(UInt8(ascii: "\n")), bytes.count - start)
            {
                let newline = base.distance(to: UnsafeRawPointer(found))
                let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<newline])
                start = newline + 1
                if pending.readableBytes > 0 {
                    pending.writeBytes(piece)
                    defer { pending.clear() }
                    try pending.withUnsafeReadableBytes { try Self.deliver($0, body) }
                } else {
                    try Self.deliver(piece, body)
                }
            }
            if start < bytes.count {
                pending.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start...]))
                if pending.readableBytes > maxLineBytes {
                    throw ModelError.invalidResponse("a line of over \(maxLineBytes) bytes without a newline")
                }
            }
        }
    }

    private static func deliver(_ line: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var line = line
        if line.last == UInt8(ascii: "\r") { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
        if !line.isEmpty { try body(line) }
    }

    /// What is left after the stream ended: a last line without `\n`, if any.
    mutating func finish() -> ByteBuffer? {
        defer { pending = ByteBuffer() }
        return pending.readableBytes > 0 ? pending : nil
    }
}
