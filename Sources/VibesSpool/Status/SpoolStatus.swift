//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// A worker's published state: `.workers/HOST-PID.json` in the spool, for `status`.
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
    var paused: Pause?
    var running: [Running]? = nil
    var retrying: [Retrying]? = nil
    var hosts: [Host]? = nil

    enum CodingKeys: String, CodingKey { case host, pid, paused, running, retrying, hosts, startedAt = "started_at" }
}

/// What `vibes-spool status` shows.
public struct SpoolStatus: Codable, Sendable {
    public struct Counts: Codable, Sendable {
        public var incoming = 0
        public var active = 0
        public var done = 0
        public var failed = 0
    }
    public struct Running: Codable, Sendable {
        public var id: String
        public var bytes: Int64
        public var ageS: Double
        /// The Ollama running it and the model (from the worker's state file; `nil` if unknown).
        public var host: String?
        public var model: String?
        enum CodingKeys: String, CodingKey { case id, bytes, ageS = "age_s", host, model }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(bytes, forKey: .bytes)
            try container.encode(ageS, forKey: .ageS)
            try container.encode(host, forKey: .host)
            try container.encode(model, forKey: .model)
        }
    }
    /// A job waiting out a retry's backoff (it holds no slot).
    public struct Retrying: Codable, Sendable {
        public var id: String
        public var attempts: Int
        /// RFC 3339.
        public var nextAt: String
        enum CodingKeys: String, CodingKey { case id, attempts, nextAt = "next_at" }
    }
    public struct Batch: Codable, Sendable {
        public var id: String
        public var total: Int
        public var completed: Int
        public var failed: Int
        /// `in_progress`, or `cancelling` while a cancel closes its lines.
        public var status: String?
    }
    public struct Host: Codable, Sendable {
        public var url: String
        /// `up` or `paused`.
        public var state: String
        public var running: Int
        public var free: Int
        public var loaded: [String]
    }
    public struct Pause: Codable, Sendable {
        public var reason: String
        public var since: String
    }

    public var spool: String
    public var counts = Counts()
    public var running: [Running] = []
    public var retrying: [Retrying] = []
    public var batches: [Batch] = []
    public var hosts: [Host] = []
    public var paused: Pause?

    enum CodingKeys: String, CodingKey { case spool, counts, running, retrying, batches, hosts, paused }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(spool, forKey: .spool)
        try container.encode(counts, forKey: .counts)
        try container.encode(running, forKey: .running)
        try container.encode(retrying, forKey: .retrying)
        try container.encode(batches, forKey: .batches)
        try container.encode(hosts, forKey: .hosts)
        try container.encode(paused, forKey: .paused)
    }

    /// Reads a spool's state from its folders and the live workers' state files.
    public static func read(_ spool: SpoolDirectory) throws -> SpoolStatus {
        var status = SpoolStatus(spool: spool.root)
        status.counts.incoming = try FileSystem.list(spool.incoming).filter(SpoolDirectory.isRequestName).count
        status.counts.done = try SpoolDirectory.jobCount(in: spool.done, envelopeSuffix: ".result.json")
        status.counts.failed = try SpoolDirectory.jobCount(in: spool.failed, envelopeSuffix: ".error.json")
        let now = Date().timeIntervalSince1970
        for name in try FileSystem.list(spool.active).sorted() where SpoolDirectory.isRequestName(name) {
            if spool.isBatchProgressFile(activeName: name) { continue }
            let id = SpoolDirectory.stem(of: name)
            guard let info = try FileSystem.lstatPath("\(spool.active)/\(name)") else { continue }
            let partial = try FileSystem.lstatPath("\(spool.active)/\(id).partial")
            // A rename sets ctime: the claim time.
            let age = max(0, now - FileSystem.seconds(info.st_ctim))
            status.running.append(Running(id: id, bytes: Int64(partial?.st_size ?? 0), ageS: (age * 10).rounded() / 10))
        }
        status.counts.active = status.running.count
        var placed: [String: WorkerStateFile.Running] = [:]
        for state in WorkerStateFile.live(in: spool) {
            if let pause = state.paused {
                status.paused = Pause(reason: pause.reason, since: pause.since)
            }
            for running in state.running ?? [] { placed[running.id] = running }
            status.retrying += state.retrying ?? []
            status.hosts += state.hosts ?? []
        }
        for index in status.running.indices {
            guard let place = placed[status.running[index].id] else { continue }
            status.running[index].host = place.host
            status.running[index].model = place.model
        }
        status.batches = ((try? spool.activeBatches()) ?? []).map { Batch(id: $0.id, total: $0.total, completed: $0.completed, failed: $0.failed, status: $0.status) }
        // Retrying jobs sit in active/ too, but hold no slot: they are not running.
        let retryingIDs = Set(status.retrying.map(\.id))
        status.running.removeAll { retryingIDs.contains($0.id) }
        return status
    }

    /// Human-readable lines.
    public var text: String {
        var lines = ["spool \(spool)",
            "incoming \(counts.incoming)  active \(counts.active)  done \(counts.done)  failed \(counts.failed)"]
        for job in running {
            let place = [job.host, job.model].compactMap { $0 }.joined(separator: ", ")
            lines.append("running \(job.id): \(job.bytes) bytes, \(job.ageS) s\(place.isEmpty ? "" : " (\(place))")")
        }
        for job in retrying {
            lines.append("retrying \(job.id): attempt \(job.attempts + 1) at \(job.nextAt)")
        }
        for batch in batches {
            let cancelling = batch.status == "cancelling" ? " cancelling:" : ""
            lines.append("batch \(batch.id):\(cancelling) \(batch.completed + batch.failed) of \(batch.total) lines (\(batch.failed) failed)")
        }
        for host in hosts {
            let loaded = host.loaded.isEmpty ? "" : ", loaded: \(host.loaded.joined(separator: ", "))"
            lines.append("host \(host.url): \(host.state), \(host.running) running, \(host.free) free\(loaded)")
        }
        if let paused {
            lines.append("paused since \(paused.since): \(paused.reason)")
        }
        return lines.joined(separator: "\n")
    }
}

extension SpoolDirectory {
    /// Jobs in `done/` or `failed/`: `ID.json` with its envelope `ID<suffix>` beside it.
    static func jobCount(in folder: String, envelopeSuffix: String) throws -> Int {
        let names = Set(try FileSystem.list(folder))
        return names.reduce(0) { count, name in
            guard name.hasSuffix(envelopeSuffix), !name.hasPrefix(".") else { return count }
            let id = String(name.dropLast(envelopeSuffix.count))
            return names.contains("\(id).json") ? count + 1 : count
        }
    }
}

extension WorkerStateFile {
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

    /// State files of workers still alive on this host (others' are kept: we cannot tell).
    static func live(in spool: SpoolDirectory) -> [WorkerStateFile] {
        guard let names = try? FileSystem.list(spool.workers) else { return [] }
        let thisHost = hostName()
        return names.filter { $0.hasSuffix(".json") }.compactMap { name in
            guard let bytes = try? FileSystem.readFile("\(spool.workers)/\(name)"),
                let state = try? JSONDecoder().decode(WorkerStateFile.self, from: Data(bytes))
            else { return nil }
            if state.host == thisHost && kill(state.pid, 0) != 0 && errno == ESRCH {
                try? FileSystem.remove("\(spool.workers)/\(name)")
                return nil
            }
            return state
        }
    }
}
