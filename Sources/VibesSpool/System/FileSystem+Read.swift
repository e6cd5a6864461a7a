//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc

/// Reading files and pipes: whole, or chunk by chunk as they are read.
extension FileSystem {
    /// Reads up to `limit` bytes from the start of `fd`.
    package static func readAll(_ fd: Int32, limit: Int, path: String) throws -> [UInt8] {
        var result: [UInt8] = []
        try readChunks(fd, from: 0, limit: limit, path: path) { result.append(contentsOf: $0) }
        return result
    }

    /// Reads `fd` to its end (or `limit` bytes) in chunks of up to 64 KiB, each handed to `body`
    /// as it is read (into uninitialized memory, nothing zeroed first); from `offset` with
    /// `pread(2)`, or with `read(2)` from where the descriptor stands (a pipe) when `offset` is
    /// `nil`. Returns the bytes read.
    @discardableResult
    package static func readChunks(
        _ fd: Int32, from offset: off_t?, limit: Int = .max, path: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void
    ) throws -> Int {
        var total = 0
        while total < limit {
            let want = min(64 << 10, limit - total)
            var count = 0
            try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: want) { chunk in
                repeat {
                    count = offset.map { pread(fd, chunk.baseAddress, want, $0 + off_t(total)) } ?? read(fd, chunk.baseAddress, want)
                } while count < 0 && errno == EINTR
                if count < 0 { throw SpoolError("read", path) }
                try body(UnsafeBufferPointer(rebasing: chunk[0..<count]))
            }
            if count == 0 { break }
            total += count
        }
        return total
    }

    /// Reads a whole small file, or `nil` if it does not exist.
    package static func readFile(_ path: String, limit: Int = 1 << 20) throws -> [UInt8]? {
        guard let fd = try open(path, O_RDONLY | O_NOFOLLOW) else { return nil }
        defer { close(fd) }
        return try readAll(fd, limit: limit, path: path)
    }
}
