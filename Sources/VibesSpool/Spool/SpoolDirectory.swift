//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// A spool's folders and the names of the files in them.
public struct SpoolDirectory: Sendable {
    public let root: String

    /// Move files with `link` + `unlink`, as on file systems without `RENAME_NOREPLACE`
    /// (which are detected on their own); for tests of that path.
    package var renamesByLink = false

    public init(_ root: String) {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    /// ``FileSystem/renameNoReplace(_:_:byLink:)`` the way this spool does it.
    func move(_ from: String, _ to: String) throws -> FileSystem.RenameOutcome {
        try FileSystem.renameNoReplace(from, to, byLink: renamesByLink)
    }

    func move(_ from: RawPath, _ to: RawPath) throws -> FileSystem.RenameOutcome {
        try FileSystem.renameNoReplace(from, to, byLink: renamesByLink)
    }

    public var tmp: String { root + "/tmp" }
    public var incoming: String { root + "/incoming" }
    public var active: String { root + "/active" }
    public var done: String { root + "/done" }
    public var failed: String { root + "/failed" }
    /// Cancel requests: `cancel/ID` (see `Cancel/`).
    public var cancel: String { root + "/cancel" }
    /// Where workers publish their state for `status` (one small file each).
    public var workers: String { root + "/.workers" }

    public var folders: [String] { [tmp, incoming, active, done, failed, cancel] }

    /// Creates the spool and any missing folder. Modes are group-writable; a setgid parent's
    /// group is inherited by the kernel, so nothing here sets the setgid bit itself.
    public func createLayout() throws {
        for folder in folders + [workers] { try FileSystem.makeDirectory(folder, mode: 0o775) }
    }

    /// Whether a name in `incoming/` is a request to claim (plain or ``FileName/escaped``).
    public static func isRequestName(_ name: String) -> Bool {
        name.hasSuffix(".json") && !name.hasPrefix(".") && name.utf8.count > 5
    }

    package static func isRequestName(_ name: FileName) -> Bool {
        let bytes = name.bytes
        return bytes.count > 5 && bytes.first != UInt8(ascii: ".") && bytes.suffix(5).elementsEqual(".json".utf8)
    }

    static func stem(of name: String) -> String { String(name.dropLast(5)) }

    /// The request files in `incoming/`, oldest first (by modification time), as
    /// ``FileName/escaped`` names: every name, UTF-8 or not, once.
    public func queuedRequests() throws -> [String] {
        var entries: [(name: String, mtime: Double)] = []
        for name in try FileSystem.listNames(incoming) where Self.isRequestName(name) {
            guard let info = try? FileSystem.lstatPath(RawPath(incoming, name)) else { continue }
            entries.append((name.escaped, FileSystem.seconds(info.st_mtim)))
        }
        return entries.sorted { $0.mtime != $1.mtime ? $0.mtime < $1.mtime : $0.name < $1.name }.map(\.name)
    }

    /// Whether `id` is free: no file of that job in `active/`, `done/` or `failed/`.
    func isFree(_ id: String) -> Bool {
        !FileSystem.exists("\(active)/\(id).json") && isFreeOutsideActive(id)
    }

    /// Whether no finished job (in `done/` or `failed/`) has the id `id`, nor any leftover of
    /// one (its text or partial) is in the way.
    func isFreeOutsideActive(_ id: String) -> Bool {
        !FileSystem.exists("\(done)/\(id).json") && !FileSystem.exists("\(done)/\(id).result.json")
            && !FileSystem.exists("\(failed)/\(id).json") && !FileSystem.exists("\(failed)/\(id).error.json")
            && !FileSystem.exists("\(done)/\(id).txt") && !FileSystem.exists("\(failed)/\(id).partial")
    }

    /// `id`, or `id~2`, `id~3`, … whichever is free first.
    func freeID(_ id: String) -> String {
        if isFree(id) { return id }
        var n = 2
        while !isFree("\(id)~\(n)") { n += 1 }
        return "\(id)~\(n)"
    }

    /// The side file holding a queued request's attempt count (a dot file: scans ignore it).
    func attemptsFile(incomingName name: String) -> String { "\(incoming)/.\(name).attempts" }
    func attemptsFile(activeID id: String) -> String { "\(active)/.\(id).attempts" }

    static func readCount(_ path: String) -> Int {
        guard let bytes = try? FileSystem.readFile(path, limit: 64) else { return 0 }
        return Int(String(decoding: bytes, as: UTF8.self).trimmingWhitespace()) ?? 0
    }
}
