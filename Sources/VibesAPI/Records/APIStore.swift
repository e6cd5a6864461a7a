//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import VibesSpool

/// `serve`'s own records under `spool/api/`: `files/` (uploads and their records), `batches/`
/// (batch records) and `tmp/` (uploads and records being written). Every record is written
/// whole into `tmp/`, fsynced, renamed into place and its folder fsynced: a reader (or a
/// restart after `kill -9`) sees the old record or the new one, never a part.
package struct APIStore: Sendable {
    package let spool: SpoolDirectory

    package init(spool: SpoolDirectory) {
        self.spool = spool
    }

    package var root: String { spool.root + "/api" }
    package var files: String { root + "/files" }
    package var batches: String { root + "/batches" }
    package var tmp: String { root + "/tmp" }

    /// Creates the spool's folders and `api/`'s.
    package func createLayout() throws {
        try spool.createLayout()
        for folder in [root, files, batches, tmp] { try FileSystem.makeDirectory(folder, mode: 0o2770) }
    }

    func recordPath(upload hex: String) -> String { "\(files)/file-\(hex).json" }
    func contentPath(upload hex: String) -> String { "\(files)/file-\(hex).jsonl" }
    func recordPath(batch id: String) -> String { "\(batches)/\(id).json" }

    /// Writes `bytes` as `path` (in `files/` or `batches/`), replacing what is there, durably.
    func commit(_ bytes: [UInt8], to path: String) throws {
        let staged = "\(tmp)/.\(path.split(separator: "/").last!).\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.createDurably(staged, mode: 0o660) { try FileSystem.writeAll($0, bytes, path: staged) }
        guard rename(staged, path) == 0 else {
            let error = SpoolError("rename", path)
            try? FileSystem.remove(staged)
            throw error
        }
        try FileSystem.fsyncDirectory(FileSystem.directoryName(path))
    }

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value)) + [UInt8(ascii: "\n")]
    }

    static func decode<T: Decodable>(_ type: T.Type, at path: String) -> T? {
        guard let bytes = try? FileSystem.readFile(path) else { return nil }
        return try? JSONDecoder().decode(type, from: Data(bytes))
    }

    /// The names in `folder` ending in `suffix` (dot files, being written, left out), newest
    /// first: ids begin with their time.
    func ids(in folder: String, prefix: String, suffix: String = ".json") throws -> [String] {
        try FileSystem.list(folder).filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }
            .map { String($0.dropLast(suffix.count)) }.sorted(by: >)
    }
}
