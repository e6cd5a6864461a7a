//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc

/// Reads a file line by line in fixed chunks (`pread`), so memory stays at one chunk plus the
/// longest line, never the whole file. Lines end with `\n`; a last line without one is still a
/// line (`terminated == false`). A line over `maxLineBytes` is skipped to its end and reported as
/// ``Line/tooLong(number:)`` without being held in memory.
package struct LineReader {
    package enum Line: Equatable {
        case line(number: Int, bytes: [UInt8], terminated: Bool)
        case tooLong(number: Int)
    }

    let fd: Int32
    let path: String
    let maxLineBytes: Int
    let chunkSize: Int
    /// The file offset of the next read.
    private(set) var fileOffset: off_t
    private var buffer: [UInt8] = []
    /// Where the unread bytes of `buffer` start.
    private var start = 0
    private var endOfFile = false
    private(set) var lineNumber = 0
    /// The file offset just past the last line returned (its newline included).
    private(set) var consumedOffset: off_t

    package init(fd: Int32, path: String, from offset: off_t = 0, maxLineBytes: Int = 16 << 20, chunkSize: Int = 64 << 10) {
        self.fd = fd
        self.path = path
        self.fileOffset = offset
        self.consumedOffset = offset
        self.maxLineBytes = maxLineBytes
        self.chunkSize = chunkSize
    }

    /// The next line, or `nil` at the end of the file.
    package mutating func next() throws -> Line? {
        var skipping = false
        while true {
            if let newline = findNewline() {
                let length = newline - start
                lineNumber += 1
                consumedOffset += off_t(length + 1)
                defer { start = newline + 1 }
                if skipping || length > maxLineBytes { return .tooLong(number: lineNumber) }
                return .line(number: lineNumber, bytes: Array(buffer[start..<newline]), terminated: true)
            }
            if buffer.count - start > maxLineBytes {
                // Drop what is buffered of an over-long line and keep reading to its end.
                consumedOffset += off_t(buffer.count - start)
                buffer.removeAll(keepingCapacity: true)
                start = 0
                skipping = true
            }
            if endOfFile {
                guard start < buffer.count || skipping else { return nil }
                lineNumber += 1
                consumedOffset += off_t(buffer.count - start)
                defer { buffer.removeAll(keepingCapacity: true); start = 0 }
                if skipping || buffer.count - start > maxLineBytes { return .tooLong(number: lineNumber) }
                return .line(number: lineNumber, bytes: Array(buffer[start...]), terminated: false)
            }
            try fill()
        }
    }

    private func findNewline() -> Int? {
        guard start < buffer.count else { return nil }
        return buffer.withUnsafeBytes { raw -> Int? in
            guard let found = memchr(raw.baseAddress! + start, 0x0A, raw.count - start) else { return nil }
            return raw.baseAddress!.distance(to: UnsafeRawPointer(found))
        }
    }

    private mutating func fill() throws {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: chunkSize))
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + old, chunkSize, fileOffset) }
            if count < 0 {
                if errno == EINTR { continue }
                buffer.removeLast(chunkSize)
                throw SpoolError("read", path)
            }
            buffer.removeLast(chunkSize - count)
            fileOffset += off_t(count)
            if count == 0 { endOfFile = true }
            return
        }
    }
}
