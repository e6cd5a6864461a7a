//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Synchronization
import Testing
import VibesModels
@testable import VibesSpool

/// Embedding work grouped into one `/api/embed` request, through a running worker.
extension SpoolWorkerTests {
    /// Every line's `custom_id` and `usage.prompt_tokens` in the output file.
    func embedOutput(_ path: String, _ t: TestSpool) -> [String: Int] {
        var out: [String: Int] = [:]
        for line in lines(path, t) {
            guard let id = line["custom_id"]?.stringValue else { continue }
            #expect(out[id] == nil, "\(id) twice")
            out[id] = line["response"]?["body"]?["usage"]?["prompt_tokens"]?.doubleValue.map { Int($0) } ?? -1
        }
        return out
    }

    @Test func embeddingLinesGoAsGroupsEachWithItsOwnResult() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"])
        let texts = (1...20).map { String(repeating: "x", count: $0) }
        try t.drop("docs.jsonl", TestSpool.embedLines(texts))
        try await withHosts(t, [host.handler], configure: {
            $0.once = true
            $0.embedGroup = 8
        })
        let output = embedOutput("\(t.spool.done)/docs.output.jsonl", t)
        #expect(output.count == 20)
        #expect(host.embeds.map(\.count).reduce(0, +) == 20, "each input sent once")
        #expect(host.embeds.count < 20 && host.embeds.allSatisfy { $0.count <= 8 }, "\(host.embeds.map(\.count))")
        #expect(host.embeds.contains { $0.count == 8 }, "a full group: \(host.embeds.map(\.count))")
        // The fake counts a token a character: each line's share is its own length, exactly.
        for (index, text) in texts.enumerated() { #expect(output["e\(index + 1)"] == text.count) }
        let vectors = lines("\(t.spool.done)/docs.output.jsonl", t).map {
            ($0["custom_id"]!.stringValue!, $0["response"]?["body"]?["data"]?.arrayValue?.first?["embedding"]?.arrayValue?.first?.doubleValue)
        }
        for (id, first) in vectors { #expect(first == Double(texts[Int(id.dropFirst())! - 1].count), "\(id) has its own vector") }
    }

    @Test func withGroupOfOneEachLineIsARequest() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"])
        try t.drop("docs.jsonl", TestSpool.embedLines(["a", "b", "c", "d"]))
        try await withHosts(t, [host.handler], configure: {
            $0.once = true
            $0.embedGroup = 1
        })
        #expect(host.embeds.map(\.count) == [1, 1, 1, 1])
        #expect(embedOutput("\(t.spool.done)/docs.output.jsonl", t).count == 4)
    }

    /// Ollama refuses the whole request for one input: the group is split until that input is
    /// alone; it fails alone, the others succeed.
    @Test func aBadInputIsSplitOutAndFailsAlone() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"], badInput: "BAD")
        try t.drop("docs.jsonl", TestSpool.embedLines(["a", "b", "c", "BAD", "e", "f", "g", "h"]))
        try await withHosts(t, [host.handler], configure: {
            $0.once = true
            $0.embedGroup = 8
        })
        let output = embedOutput("\(t.spool.done)/docs.output.jsonl", t)
        #expect(Set(output.keys) == ["e1", "e2", "e3", "e5", "e6", "e7", "e8"])
        let errors = lines("\(t.spool.done)/docs.errors.jsonl", t)
        #expect(errors.map { $0["custom_id"]?.stringValue } == ["e4"])
        #expect(errors.first?["error"]?["code"] == "ollama_error")
        #expect(errors.first?["error"]?["message"]?.stringValue?.contains("exceeds the context length") == true)
        #expect(host.embeds.first?.count == 8)
        #expect(host.embeds.filter { $0.contains("BAD") }.map(\.count) == [8, 4, 2, 1], "halved down to the bad input: \(host.embeds)")
    }

    /// A transient failure of the group's request: each member retries on its own, and all end.
    @Test func aGroupsMembersRetryOnTheirOwn() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"])
        let requests = Mutex(0)
        let handler: FakeOllama.Handler = { request in
            if request.path == "/api/embed", requests.withLock({ count in
                count += 1
                return count == 1
            }) {
                return .error(503, "server busy")
            }
            return await host.handler(request)
        }
        try t.drop("docs.jsonl", TestSpool.embedLines(["a", "b", "c", "d"]))
        try await withHosts(t, [handler], configure: {
            $0.once = true
            $0.embedGroup = 8
        })
        #expect(embedOutput("\(t.spool.done)/docs.output.jsonl", t).count == 4)
        #expect(t.read("\(t.spool.done)/docs.errors.jsonl") == "")
        #expect(requests.withLock { $0 } >= 2, "the 503'd group, then its members again")
        #expect(host.embeds.map(\.count).reduce(0, +) == 4, "each input answered once")
    }

    /// The host dies under a group's request (the connection closes, nothing answers after):
    /// every member goes on to the other host.
    @Test func aGroupCutByAHostDyingMovesItsMembers() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let (alive, other) = (FakeHost(name: "dying", models: ["m"]), FakeHost(name: "other", models: ["m"], replyDelay: .milliseconds(20)))
        let cut = Mutex<[Int]>([])
        let death = Gate()
        let dead = Mutex(false)
        let dying: FakeOllama.Handler = { request in
            if dead.withLock({ $0 }) { return .noReply }
            guard request.path == "/api/embed" else { return await alive.handler(request) }
            cut.withLock { $0.append(((request.json?["input"] as? [String]) ?? []).count) }
            await death.wait()
            dead.withLock { $0 = true }
            return .noReply
        }
        try t.drop("docs.jsonl", TestSpool.embedLines((1...40).map { "t\($0)" }))
        try await withHosts(t, [dying, other.handler], configure: { $0.embedGroup = 4 }) { _ in
            await eventually("a group is held on the dying host") { !cut.withLock { $0 }.isEmpty }
            death.open()
            await eventually("the batch is done", timeout: .seconds(30)) { t.names(t.spool.done).contains("docs.batch.json") }
        }
        #expect(embedOutput("\(t.spool.done)/docs.output.jsonl", t).count == 40)
        #expect(t.read("\(t.spool.done)/docs.errors.jsonl") == "")
        #expect(cut.withLock { $0 }.first ?? 0 > 1, "a group was cut: \(cut.withLock { $0 })")
        #expect(other.embeds.map(\.count).reduce(0, +) == 40, "all 40 answered by the other host, each once")
    }

    /// Embedding jobs of one model and settings go as one request; each keeps its own result.
    @Test func embeddingJobsAreGroupedAndKeepTheirOwnResults() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let host = FakeHost(name: "a", models: ["m"])
        try t.drop("one.json", #"{"model":"m","input":"aaaa"}"#)
        try t.drop("two.json", #"{"model":"m","input":["bb","cccccc"],"metadata":2}"#)
        try t.drop("three.json", #"{"model":"m:latest","input":"dd"}"#)
        try t.drop("other.json", #"{"model":"m","input":"ee","options":{"num_ctx":64}}"#)
        let summary = try await withHosts(t, [host.handler], configure: { $0.once = true })
        #expect(summary.done == 4)
        #expect(host.embeds.count == 2, "one request for the three of the same settings, one for num_ctx 64: \(host.embeds)")
        #expect(host.embeds.contains(["ee"]))
        let two = try #require(t.json("\(t.spool.done)/two.result.json"))
        #expect(two["embeddings"]?.arrayValue?.map { $0.arrayValue?.first?.doubleValue } == [2, 6], "its own vectors, together")
        #expect(two["usage"]?["prompt_tokens"] == 8)
        #expect(two["metadata"] == 2)
        #expect(t.json("\(t.spool.done)/one.result.json")?["usage"]?["prompt_tokens"] == 4)
        #expect(t.json("\(t.spool.done)/three.result.json")?["embeddings"]?.arrayValue?.count == 1)
    }
}
