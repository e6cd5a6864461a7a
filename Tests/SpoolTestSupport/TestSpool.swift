//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import VibesModels
import VibesSpool

/// A fresh spool in its own temporary folder (`…/spool`), with room beside it for files that
/// must stay untouched ("outside the spool"). Removed by `cleanUp()`.
package struct TestSpool {
    package let base: String
    package let spool: SpoolDirectory

    /// The spool on its own tmpfs of `tmpfsBytes` (unmounted by `cleanUp()`), when given.
    package init(tmpfsBytes: Int? = nil) throws {
        var template = Array("/tmp/vibes-spool-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SpoolError("mkdtemp", "/tmp") }
        base = String(cString: made)
        if let tmpfsBytes {
            guard mkdir(base + "/fs", 0o755) == 0, mount("tmpfs", base + "/fs", "tmpfs", 0, "size=\(tmpfsBytes)") == 0 else {
                throw SpoolError("mount tmpfs", base + "/fs")
            }
            spool = SpoolDirectory(base + "/fs/spool")
        } else {
            spool = SpoolDirectory(base + "/spool")
        }
        try spool.createLayout()
    }

    package func cleanUp() {
        if FileManager.default.fileExists(atPath: base + "/fs") { umount2(base + "/fs", Int32(MNT_DETACH)) }
        try? FileManager.default.removeItem(atPath: base)
    }

    /// Drops a request the way producers should: write into tmp/, rename into incoming/.
    @discardableResult
    package func drop(_ name: String, _ text: String) throws -> String {
        let tmpPath = "\(spool.tmp)/\(name)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: tmpPath))
        guard rename(tmpPath, "\(spool.incoming)/\(name)") == 0 else { throw SpoolError("rename", tmpPath) }
        return name
    }

    package func dropRequest(_ name: String, model: String = "echo", prompt: String, extra: String = "") throws {
        try drop("\(name).json", #"{"model":"\#(model)","prompt":"\#(prompt)"\#(extra)}"#)
    }

    package func names(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    package func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    package func json(_ path: String) -> JSONValue? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
    }

    /// Ids with a result envelope in done/.
    package var doneIDs: [String] { names(spool.done).filter { $0.hasSuffix(".result.json") }.map { String($0.dropLast(12)) } }
    /// Ids with an error envelope in failed/.
    package var failedIDs: [String] { names(spool.failed).filter { $0.hasSuffix(".error.json") }.map { String($0.dropLast(11)) } }

    package func errorEnvelope(_ id: String) -> JSONValue? { json("\(spool.failed)/\(id).error.json") }

    /// Drops a request under a name given as bytes (not necessarily UTF-8): written into tmp/,
    /// then renamed into incoming/.
    package func drop(bytes name: [UInt8], _ text: String) throws {
        let tmpPath = "\(spool.tmp)/raw-\(UInt32.random(in: 0...UInt32.max)).json"
        try Data(text.utf8).write(to: URL(fileURLWithPath: tmpPath))
        let target = (Array("\(spool.incoming)/".utf8) + name + [0]).map { CChar(bitPattern: $0) }
        guard rename(tmpPath, target) == 0 else { throw SpoolError("rename", tmpPath) }
    }

    /// A batch line: `{"custom_id", "method": "POST", "url", "body"}`.
    package static func line(_ id: String, url: String = "/v1/chat/completions", body: String? = nil) -> String {
        let defaultBody = url.contains("embed")
            ? #"{"model":"emb","input":["text \#(id)"]}"#
            : #"{"model":"m","messages":[{"role":"user","content":"say \#(id)"}]}"#
        return #"{"custom_id":"\#(id)","method":"POST","url":"\#(url)","body":\#(body ?? defaultBody)}"#
    }

    /// A batch of embedding lines, one per text (`custom_id` PREFIX1, PREFIX2, …).
    package static func embedLines(_ texts: [String], prefix: String = "e") -> String {
        texts.enumerated().map { index, text in
            #"{"custom_id":"\#(prefix)\#(index + 1)","method":"POST","url":"/v1/embeddings","body":{"model":"m","input":"\#(text)"}}"#
        }.joined(separator: "\n") + "\n"
    }

    /// The JSON lines of a file.
    package func jsonLines(_ path: String) -> [JSONValue] {
        (read(path) ?? "").split(separator: "\n").map { (try? JSONValue.parse(String($0))) ?? .null }
    }
}
