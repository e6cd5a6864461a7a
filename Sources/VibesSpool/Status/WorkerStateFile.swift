//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import VibesModels

/// A worker's published state: `.workers/HOST-PID.json` in the spool, for `status`. Each
/// worker replaces its own within a second of a change and at least every
/// ``heartbeat`` (`updated_at`), so a reader on any machine that shares the spool can tell one
/// that stopped publishing (``staleAfter``): dead, or its machine cut off.
struct WorkerStateFile: Codable {
    struct Pause: Codable {
        var reason: String
        var since: String
    }
    struct Running: Codable, Sendable {
        var id: String
        var host: String
        var model: String
    }
    typealias Retrying = SpoolStatus.Retrying
    typealias Host = SpoolStatus.Host
    var host: String
    var pid: Int32
    var startedAt: String
    /// RFC 3339; for a file that does not say, its modification time (see ``all(in:)``).
    var updatedAt: String? = nil
    var paused: Pause?
    var running: [Running]? = nil
    var retrying: [Retrying]? = nil
    var hosts: [Host]? = nil

    enum CodingKeys: String, CodingKey {
        case host, pid, paused, running, retrying, hosts, startedAt = "started_at", updatedAt = "updated_at"
    }

    /// The longest a live worker goes without replacing its file.
    static let heartbeat = Duration.seconds(10)
    /// A file older than this (by its `updated_at`, against the reader's clock) is stale.
    static let staleAfter = 30.0

    /// Whether the worker stopped publishing: its file was last replaced more than
    /// ``staleAfter`` seconds before `now` (seconds since 1970), or never said when.
    func isStale(now: Double) -> Bool {
        guard let updatedAt, let date = RFC3339.parse(updatedAt) else { return true }
        return now - date.timeIntervalSince1970 > Self.staleAfter
    }

    /// What `status` lists of this worker.
    func summary(now: Double) -> SpoolStatus.Worker {
        SpoolStatus.Worker(
            host: host, pid: pid, hosts: (hosts ?? []).map(\.url), running: running?.count ?? 0,
            updatedAt: updatedAt, stale: isStale(now: now))
    }

    static func path(in spool: SpoolDirectory, host: String, pid: Int32) -> String {
        "\(spool.workers)/\(host)-\(pid).json"
    }

    func write(to spool: SpoolDirectory) throws {
        let data = try JSONEncoder().encode(self)
        let path = Self.path(in: spool, host: host, pid: pid)
        let tmp = path + ".tmp"
        try FileSystem.writeFile(tmp, String(decoding: data, as: UTF8.self) + "\n")
        _ = rename(tmp, path)
    }

    /// Every worker's state file, except those of workers of this machine that are gone
    /// (removed: a pid that no longer runs). Other machines' are kept, however old: this one
    /// cannot tell; ``isStale(now:)`` marks them.
    static func all(in spool: SpoolDirectory) -> [WorkerStateFile] {
        guard let names = try? FileSystem.list(spool.workers) else { return [] }
        let thisHost = hostName()
        return names.filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            guard let bytes = try? FileSystem.readFile("\(spool.workers)/\(name)"),
                var state = try? JSONDecoder().decode(WorkerStateFile.self, from: Data(bytes))
            else { return nil }
            // A file that does not say when (an older worker's): when it was last replaced.
            if state.updatedAt == nil, let info = try? FileSystem.lstatPath("\(spool.workers)/\(name)") {
                state.updatedAt = RFC3339.format(Date(timeIntervalSince1970: FileSystem.seconds(info.st_mtim)))
            }
            if state.host == thisHost && kill(state.pid, 0) != 0 && errno == ESRCH {
                try? FileSystem.remove("\(spool.workers)/\(name)")
                return nil
            }
            return state
        }
    }
}
