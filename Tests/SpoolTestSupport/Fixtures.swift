//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import Testing
import VibesModels

/// A chat handler that answers `reply to PROMPT` in two chunks, for the models installed.
package func echoHandler(models: [String] = ["echo"], delay: Duration? = nil) -> FakeOllama.Handler {
    FakeOllama.ollamaLike(models: models) { request in
        .chatStream(model: request.model ?? "", pieces: ["reply to ", request.lastMessage ?? ""], delay: delay)
    }
}

/// Counts, per prompt, how often the fake was asked: a job run twice shows up here.
package func promptCounts(_ fake: FakeOllama) -> [String: Int] {
    fake.requests.filter { $0.path == "/api/chat" }.reduce(into: [:]) { counts, request in
        counts[request.lastMessage ?? "", default: 0] += 1
    }
}

/// What the cancel tests share.
package enum CancelFixtures {
    /// A chat that streams `count` pieces `delay` apart (a long generation on the fake).
    package static func slowChat(count: Int = 400, delay: Duration = .milliseconds(20)) -> FakeOllama.Handler {
        FakeOllama.ollamaLike(models: ["echo"]) { _ in .chatStream(pieces: (0..<count).map { "w\($0) " }, delay: delay) }
    }

    package static func touch(_ t: TestSpool, _ id: String, content: String = "") throws {
        try Data(content.utf8).write(to: URL(fileURLWithPath: "\(t.spool.cancel)/\(id)"))
    }

    package static func lines(_ count: Int) -> String {
        (1...count).map { TestSpool.line("l\($0)") }.joined(separator: "\n") + "\n"
    }

    /// Every custom_id of the input exactly once across the output and errors files; the
    /// errors' codes for lines not run.
    package static func checkExact(_ t: TestSpool, _ id: String, total: Int, code: String = "batch_cancelled") -> (output: Int, errors: Int) {
        let output = t.jsonLines("\(t.spool.done)/\(id).output.jsonl")
        let errors = t.jsonLines("\(t.spool.done)/\(id).errors.jsonl")
        let ids = (output + errors).compactMap { $0["custom_id"]?.stringValue }
        #expect(ids.count == total, "every line once: \(ids.count) of \(total)")
        #expect(Set(ids) == Set((1...total).map { "l\($0)" }))
        #expect(errors.allSatisfy { $0["error"]?["code"]?.stringValue == code }, "\(errors.first.map { "\($0)" } ?? "")")
        #expect(output.allSatisfy { $0["response"]?["status_code"] == 200 })
        return (output.count, errors.count)
    }
}
