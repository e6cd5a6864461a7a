//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc

/// A failed system call on a spool path.
public struct SpoolError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32

    public init(_ operation: String, _ path: String, errno: Int32 = Glibc.errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno)))"
    }

    /// The file system is full, or the user's quota is used up (`ENOSPC`, `EDQUOT`): nothing is
    /// wrong with the job, and trying again at once will fail the same way.
    public var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT }

    /// Whether `error` is a ``SpoolError`` for a full disk (see ``isDiskFull``).
    public static func isDiskFull(_ error: any Error) -> Bool {
        (error as? SpoolError)?.isDiskFull ?? false
    }
}
