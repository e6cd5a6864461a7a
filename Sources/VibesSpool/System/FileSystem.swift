//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import CVibesSys
import Glibc

/// Thin wrappers over the system calls the spool protocol is made of. Paths are plain strings,
/// or ``RawPath``s where a name may not be UTF-8; every call retries `EINTR`.
package enum FileSystem {
    package enum RenameOutcome: Equatable {
        case renamed
        /// The source is gone: someone else took it.
        case sourceMissing
        /// The target name is taken; nothing was replaced.
        case targetExists
    }

    /// Renames `from` to `to` without ever replacing `to` (`renameat2(RENAME_NOREPLACE)`); falls
    /// back to `link` + `unlink` where the file system refuses the flag (`byLink` forces that,
    /// for tests).
    ///
    /// A crash between that `link` and `unlink` leaves one file under both names. So when `to`
    /// exists and is the very file `from` names, the move is completed (`from` is unlinked)
    /// instead of being refused: a later attempt finishes the interrupted one.
    package static func renameNoReplace(_ from: String, _ to: String, byLink: Bool = false) throws -> RenameOutcome {
        try renameNoReplace(RawPath(from), RawPath(to), byLink: byLink)
    }

    static func renameNoReplace(_ from: RawPath, _ to: RawPath, byLink: Bool = false) throws -> RenameOutcome {
        var outcome = byLink ? try linkAndUnlink(from, to) : try renameat2NoReplace(from, to)
        if outcome == .targetExists, try sameFile(from, to) {
            if unlink(from.cString) != 0 && errno != ENOENT { throw SpoolError("unlink", "\(from)") }
            outcome = .renamed
        }
        return outcome
    }

    private static func renameat2NoReplace(_ from: RawPath, _ to: RawPath) throws -> RenameOutcome {
        while true {
            if vibes_renameat2(AT_FDCWD, from.cString, AT_FDCWD, to.cString, VIBES_RENAME_NOREPLACE) == 0 { return .renamed }
            switch errno {
            case EINTR: continue
            case ENOENT: return .sourceMissing
            case EEXIST: return .targetExists
            case EINVAL, ENOSYS, EOPNOTSUPP: return try linkAndUnlink(from, to)
            default: throw SpoolError("rename to \(to)", "\(from)")
            }
        }
    }

    private static func linkAndUnlink(_ from: RawPath, _ to: RawPath) throws -> RenameOutcome {
        if link(from.cString, to.cString) != 0 {
            switch errno {
            case ENOENT: return .sourceMissing
            case EEXIST: return .targetExists
            default: throw SpoolError("link to \(to)", "\(from)")
            }
        }
        if unlink(from.cString) != 0 && errno != ENOENT { throw SpoolError("unlink", "\(from)") }
        return .renamed
    }

    /// Whether both paths exist and name the same file (not following symlinks).
    package static func sameFile(_ a: String, _ b: String) throws -> Bool {
        try sameFile(RawPath(a), RawPath(b))
    }

    static func sameFile(_ a: RawPath, _ b: RawPath) throws -> Bool {
        guard let x = try lstatPath(a), let y = try lstatPath(b) else { return false }
        return x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }

    /// `lstat`: never follows a symlink. `nil` if the path does not exist.
    package static func lstatPath(_ path: String) throws -> stat? {
        try lstatPath(RawPath(path))
    }

    static func lstatPath(_ path: RawPath) throws -> stat? {
        var info = stat()
        if lstat(path.cString, &info) == 0 { return info }
        if errno == ENOENT { return nil }
        throw SpoolError("lstat", "\(path)")
    }

    package static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    package static func fstatFD(_ fd: Int32, path: String) throws -> stat {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SpoolError("fstat", path) }
        return info
    }

    package static func isRegular(_ info: stat) -> Bool { (info.st_mode & S_IFMT) == S_IFREG }

    /// What kind of file `info` describes, for messages.
    package static func kind(_ info: stat) -> String {
        switch info.st_mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "a special file"
        }
    }

    /// Opens `path` with `flags` (always `O_CLOEXEC`). Returns `nil` for `ENOENT`.
    package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o666) throws -> Int32? {
        try open(RawPath(path), flags, mode: mode)
    }

    static func open(_ path: RawPath, _ flags: Int32, mode: mode_t = 0o666) throws -> Int32? {
        while true {
            let fd = Glibc.open(path.cString, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            if errno == ENOENT { return nil }
            throw SpoolError("open", "\(path)")
        }
    }

    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw SpoolError("write", path)
            }
            offset += written
        }
    }

    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    package static func writeAll(_ fd: Int32, _ text: String, path: String) throws {
        var text = text
        try text.withUTF8 { try writeAll(fd, UnsafeRawBufferPointer($0), path: path) }
    }

    /// Writes a small file whole (create or truncate), without fsync.
    package static func writeFile(_ path: String, _ text: String) throws {
        guard let fd = try open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o660) else {
            throw SpoolError("create", path, errno: ENOENT)
        }
        defer { close(fd) }
        try writeAll(fd, text, path: path)
    }

    /// Creates `path`, lets `body` write it, then fsyncs and closes it. On any error the file
    /// is closed and removed. An existing file is an error, or with `replacingStale`, left over
    /// from a crash: removed first.
    package static func createDurably(
        _ path: String, mode: mode_t = 0o664, replacingStale: Bool = false, _ body: (Int32) throws -> Void
    ) throws {
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
        var opened: Int32?
        do {
            opened = try open(path, flags, mode: mode)
        } catch let error as SpoolError where error.errno == EEXIST && replacingStale {
            try remove(path)
            opened = try open(path, flags, mode: mode)
        }
        guard let fd = opened else { throw SpoolError("create", path, errno: ENOENT) }
        do {
            try body(fd)
            try fsyncFD(fd, path: path)
            close(fd)
        } catch {
            close(fd)
            try? remove(path)
            throw error
        }
    }

    package static func fsyncFD(_ fd: Int32, path: String) throws {
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw SpoolError("fsync", path)
        }
    }

    /// Starts writing `length` bytes from `offset` back to disk without waiting (a later fsync
    /// then finds less to do). Best effort: an error is ignored.
    package static func startWriteback(_ fd: Int32, offset: Int64, length: Int64) {
        _ = vibes_start_writeback(fd, offset, length)
    }

    /// Flushes a directory's entries (renames into or out of it) to disk.
    package static func fsyncDirectory(_ path: String) throws {
        guard let fd = try open(path, O_RDONLY | O_DIRECTORY) else { throw SpoolError("open", path, errno: ENOENT) }
        defer { close(fd) }
        try fsyncFD(fd, path: path)
    }

    /// Removes a file; a missing file is fine.
    package static func remove(_ path: String) throws {
        try remove(RawPath(path))
    }

    static func remove(_ path: RawPath) throws {
        if unlink(path.cString) != 0 && errno != ENOENT { throw SpoolError("unlink", "\(path)") }
    }

    /// Creates a directory (and missing parents); an existing one is fine.
    package static func makeDirectory(_ path: String, mode: mode_t = 0o2775) throws {
        if mkdir(path, mode & 0o777) == 0 { return }
        switch errno {
        case EEXIST:
            guard let info = try lstatPath(path), (info.st_mode & S_IFMT) == S_IFDIR else {
                throw SpoolError("mkdir (exists and is not a directory)", path, errno: ENOTDIR)
            }
        case ENOENT:
            let parent = directoryName(path)
            guard parent != path, !parent.isEmpty else { throw SpoolError("mkdir", path) }
            try makeDirectory(parent, mode: mode)
            try makeDirectory(path, mode: mode)
        default:
            throw SpoolError("mkdir", path)
        }
    }

    package static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The names in a directory (without `.` and `..`), for people: see ``FileName/description``.
    package static func list(_ path: String) throws -> [String] {
        try listNames(path).map(\.description)
    }

    /// The names in a directory (without `.` and `..`), as bytes.
    static func listNames(_ path: String) throws -> [FileName] {
        guard let dir = opendir(path) else { throw SpoolError("opendir", path) }
        defer { closedir(dir) }
        var names: [FileName] = []
        while let entry = readdir(dir) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if bytes != [UInt8(ascii: ".")] && bytes != [UInt8(ascii: "."), UInt8(ascii: ".")] {
                names.append(FileName(bytes: bytes))
            }
        }
        return names
    }

    /// Takes an exclusive `flock` without waiting. `false` if someone else holds it.
    package static func tryLock(_ fd: Int32, path: String) throws -> Bool {
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw SpoolError("flock", path)
        }
        return true
    }

    package static func seconds(_ time: timespec) -> Double {
        Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
