//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

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

    /// What is left after the stream ended: a last line without `\n`, if any.
    mutating func finish() -> ByteBuffer? {
        defer { pending = ByteBuffer() }
        return pending.readableBytes > 0 ? pending : nil
    }
}
