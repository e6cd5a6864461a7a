//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// What a name in `cancel/` turned out to be.
enum CancelEntry: Sendable, Equatable {
    /// A cancel request; `name` is its file name (``FileName/escaped``).
    case request(CancelRequest, name: String)
    /// Gone, or a dot name (a producer's file being written): nothing to do.
    case ignored
    /// Not a regular file (a symlink, FIFO, device, socket, empty directory): removed, never
    /// opened or followed.
    case removed(name: String, kind: String)
    /// A directory with something in it: left as it is (it is not ours to empty).
    case left(name: String, kind: String)
}

/// The file operations of cancel requests: reading `cancel/`, finding what a cancel names,
/// writing and removing cancel files. Nothing here follows a link or opens anything but a
/// regular file, so nothing outside the spool is touched.
extension SpoolDirectory {
    /// Reads the names given (``FileName/escaped``, as inotify or a listing reports them).
    /// Blocking file I/O.
    func readCancels(_ names: [String]) -> [CancelEntry] {
        names.map { readCancel(FileName(escaped: $0)) }
    }

    /// Every name in `cancel/`, read (for a rescan and for `vibes-spool cancel`).
    func listCancels() throws -> [CancelEntry] {
        try FileSystem.listNames(cancel).map(readCancel)
    }

    private func readCancel(_ file: FileName) -> CancelEntry {
        guard let first = file.bytes.first, first != UInt8(ascii: ".") else { return .ignored }
        let path = RawPath(cancel, file)
        guard let info = try? FileSystem.lstatPath(path) else { return .ignored }
        guard FileSystem.isRegular(info) else {
            let kind = FileSystem.kind(info)
            // unlink and rmdir act on the entry itself; rmdir only empties nothing.
            let gone = (info.st_mode & S_IFMT) == S_IFDIR ? rmdir(path.cString) == 0 : unlink(path.cString) == 0
            return gone ? .removed(name: file.escaped, kind: kind) : .left(name: file.escaped, kind: kind)
        }
        guard let request = readRequest(path, id: JobID.fitting(file.description), file: file.escaped) else { return .ignored }
        return .request(request, name: file.escaped)
    }

    /// The cancel request `cancel/ID` for `id`, if there is one (a regular file).
    func cancelRequest(for id: String) -> CancelRequest? {
        readRequest(RawPath(cancel, FileName(bytes: Array(id.utf8))), id: id, file: FileName(bytes: Array(id.utf8)).escaped)
    }

    private func readRequest(_ path: RawPath, id: String, file: String) -> CancelRequest? {
        guard let fd = try? FileSystem.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY) else { return nil }
        defer { close(fd) }
        guard let info = try? FileSystem.fstatFD(fd, path: "\(path)"), FileSystem.isRegular(info) else { return nil }
        let bytes = (try? FileSystem.readAll(fd, limit: 4096, path: "\(path)")) ?? []
        return CancelRequest(id: id, reason: CancelReason.parse(bytes), askedAt: FileSystem.seconds(info.st_mtim), file: file)
    }

    /// The envelope (or batch record) of a finished job or batch `id`, relative to the spool
    /// (`done/ID.result.json`), or `nil`.
    func finishedRecord(_ id: String) -> String? {
        ["done/\(id).result.json", "done/\(id).batch.json", "failed/\(id).error.json"].first { FileSystem.exists("\(root)/\($0)") }
    }

    /// Removes `cancel/NAME` (``FileName/escaped``): acted on, or expired.
    func removeCancel(named name: String) {
        try? FileSystem.remove(RawPath(cancel, FileName(escaped: name)))
    }

    /// Writes `cancel/ID` safely: into `tmp/` first, then renamed into place (replacing an older
    /// request for the same id, which renews it).
    package func writeCancel(_ id: String, reason: CancelReason = .cancelled) throws {
        let tmpPath = "\(tmp)/.cancel-\(getpid())-\(id)"
        try FileSystem.createDurably(tmpPath, mode: 0o664, replacingStale: true) { fd in
            try FileSystem.writeAll(fd, reason.fileContent, path: tmpPath)
        }
        guard Glibc.rename(tmpPath, "\(cancel)/\(id)") == 0 else {
            let error = SpoolError("rename to \(cancel)/\(id)", tmpPath)
            try? FileSystem.remove(tmpPath)
            throw error
        }
        try FileSystem.fsyncDirectory(cancel)
    }
}
