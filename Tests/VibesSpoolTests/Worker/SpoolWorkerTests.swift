//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// Workers run in this process: serialized, as libinotifytools allows one watcher per process.
@Suite(.serialized) struct SpoolWorkerTests {
    // MARK: the happy path

    @Test func aJobEndsInDoneWithTextEnvelopeAndTheRequestByteForByte() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let original = #"{"model":"echo", "prompt":"héllo",  "id":"first","metadata":{"batch":7,"tags":["a"]}}"#
        try await withWorker(t, handler: echoHandler()) { fake, _ in
            try t.drop("x.json", original)
            await eventually("the job is done") { t.doneIDs == ["first"] }
        }
        #expect(t.read("\(t.spool.done)/first.json") == original)
        #expect(t.read("\(t.spool.done)/first.txt") == "reply to héllo")
        let envelope = try #require(t.json("\(t.spool.done)/first.result.json"))
        #expect(envelope["id"] == "first")
        #expect(envelope["status"] == "done")
        #expect(envelope["model"] == "echo")
        #expect(envelope["message"]?["content"] == "reply to héllo")
        #expect(envelope["message"]?["role"] == "assistant")
        #expect(envelope["done_reason"] == "stop")
        #expect(envelope["usage"]?["prompt_tokens"] == 26)
        #expect(envelope["usage"]?["completion_tokens"] == 2)
        #expect(envelope["attempts"] == 1)
        #expect(envelope["worker"] == "test:1")
        #expect(envelope["metadata"] == ["batch": 7, "tags": ["a"]])
        #expect(envelope["timing"]?["load_ms"] == 3)
        #expect(envelope["timing"]?["queued_at"]?.stringValue?.hasSuffix("Z") == true)
        #expect(t.names(t.spool.active).isEmpty)
        #expect(t.names(t.spool.incoming).isEmpty)
    }

    @Test func thinkingGoesToTheEnvelopeNotTheReplyText() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let handler = FakeOllama.ollamaLike(models: ["think"]) { _ in .chatStream(model: "think", pieces: ["42"], thinking: ["let me ", "see"]) }
        try await withWorker(t, handler: handler) { _, _ in
            try t.dropRequest("q", model: "think", prompt: "x")
            await eventually("done") { t.doneIDs == ["q"] }
        }
        #expect(t.read("\(t.spool.done)/q.txt") == "42")
        #expect(t.json("\(t.spool.done)/q.result.json")?["message"]?["thinking"] == "let me see")
    }

    @Test func thePartialFileGrowsWhileASlowStreamRuns() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let pieces = (0..<40).map { "token\($0) " }
        let handler = FakeOllama.ollamaLike(models: ["slow"]) { _ in .chatStream(model: "slow", pieces: pieces, delay: .milliseconds(25)) }
        try await withWorker(t, handler: handler) { _, _ in
            try t.dropRequest("s", model: "slow", prompt: "go")
            let partial = "\(t.spool.active)/s.partial"
            var sizes: [Int] = []
            var contents: [String] = []
            await eventually("the partial has grown several times") {
                if let text = t.read(partial), text.utf8.count != sizes.last {
                    sizes.append(text.utf8.count)
                    contents.append(text)
                }
                return sizes.count >= 4
            }
            #expect(sizes == sizes.sorted(), "only grows")
            #expect(contents.allSatisfy { pieces.joined().hasPrefix($0) }, "holds a prefix of the reply each time it is read")
            await eventually("done") { t.doneIDs == ["s"] }
        }
        #expect(t.read("\(t.spool.done)/s.txt") == pieces.joined())
    }

    // MARK: ids and clashes

    @Test func takenIDsGetASuffixAndNothingIsOverwritten() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await withWorker(t, handler: echoHandler()) { _, _ in
            try t.dropRequest("a", prompt: "one", extra: #","id":"same""#)
            await eventually("first done") { t.doneIDs == ["same"] }
            try t.dropRequest("b", prompt: "two", extra: #","id":"same""#)
            await eventually("second done") { t.doneIDs.count == 2 }
            try t.dropRequest("c", prompt: "three", extra: #","id":"same""#)
            await eventually("third done") { t.doneIDs.count == 3 }
        }
        #expect(t.doneIDs == ["same", "same~2", "same~3"])
        #expect(t.read("\(t.spool.done)/same.txt") == "reply to one")
        #expect(t.read("\(t.spool.done)/same~2.txt") == "reply to two")
        #expect(t.read("\(t.spool.done)/same~3.txt") == "reply to three")
    }

    @Test func dotFilesAndOtherNamesInIncomingAreIgnored() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try await withWorker(t, handler: echoHandler()) { _, _ in
            try t.drop(".hidden.json", #"{"model":"echo","prompt":"no"}"#)
            try t.drop("notes.txt", "hello")
            try t.dropRequest("real", prompt: "yes")
            await eventually("the real job is done") { t.doneIDs == ["real"] }
        }
        #expect(t.names(t.spool.incoming) == ["notes.txt"])
        #expect(FileManager.default.fileExists(atPath: "\(t.spool.incoming)/.hidden.json"))
        #expect(t.failedIDs.isEmpty)
    }

    // MARK: invalid input

    @Test func invalidInputsFailWithTheProblemNamedTheOriginalKeptAndTheWorkerGoesOn() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let outside = "\(t.base)/secret.txt"
        try Data("outside the spool".utf8).write(to: URL(fileURLWithPath: outside))
        let cases: [(id: String, content: String, fragment: String)] = [
            ("notjson", "{this is not json", "not valid JSON"),
            ("array", "[1,2,3]", "expected a JSON object, found an array"),
            ("nomodel", #"{"prompt":"x"}"#, "`model`: required"),
            ("both", #"{"model":"echo","prompt":"x","messages":[{"role":"user","content":"y"}]}"#, "found both"),
            ("wrongtype", #"{"model":"echo","prompt":["x"],"metadata":{"row":3}}"#, "`prompt`: expected a string, found an array"),
            ("badid", #"{"model":"echo","prompt":"x","id":"../../x"}"#, "`id`"),
        ]
        var bigSize = 0
        try await withWorker(t, handler: echoHandler(), configure: { $0.maxRequestBytes = 16 << 20 }) { fake, _ in
            for item in cases { try t.drop("\(item.id).json", item.content) }
            // 17 MiB: over the 16 MiB default.
            var big = Data(#"{"model":"echo","prompt":""#.utf8)
            big.append(Data(repeating: UInt8(ascii: "a"), count: 17 << 20))
            big.append(Data(#""}"#.utf8))
            bigSize = big.count
            try big.write(to: URL(fileURLWithPath: "\(t.spool.tmp)/big.json"))
            rename("\(t.spool.tmp)/big.json", "\(t.spool.incoming)/big.json")
            // Made in tmp/ and renamed in, as producers do.
            symlink(outside, "\(t.spool.tmp)/link.json")
            mkfifo("\(t.spool.tmp)/fifo.json", 0o644)
            mkdir("\(t.spool.tmp)/x.json", 0o755)
            for name in ["link.json", "fifo.json", "x.json"] { rename("\(t.spool.tmp)/\(name)", "\(t.spool.incoming)/\(name)") }
            await eventually("every invalid input is in failed/") { t.failedIDs.count == cases.count + 4 }
            try t.dropRequest("fine", prompt: "still working")
            await eventually("a valid job after them is done") { t.doneIDs == ["fine"] }
            #expect(fake.requests.filter { $0.path == "/api/chat" }.count == 1, "no invalid request reached Ollama")
        }
        for item in cases {
            let envelope = try #require(t.errorEnvelope(item.id), "\(item.id)")
            #expect(envelope["error"]?["kind"] == "invalid_request")
            #expect(envelope["error"]?["message"]?.stringValue?.contains(item.fragment) == true, "\(item.id): \(envelope)")
            #expect(t.read("\(t.spool.failed)/\(item.id).json") == item.content, "byte for byte")
        }
        #expect(t.errorEnvelope("wrongtype")?["metadata"] == ["row": 3], "metadata is copied even when the request is invalid")
        #expect(t.errorEnvelope("wrongtype")?["model"] == "echo")
        #expect(t.errorEnvelope("badid")?["id"] == "badid", "an invalid id is not used: the file name is")
        #expect(t.errorEnvelope("big")?["error"]?["message"]?.stringValue?.contains("over the limit of 16777216 bytes") == true)
        #expect((try? FileManager.default.attributesOfItem(atPath: "\(t.spool.failed)/big.json")[.size] as? Int) == bigSize, "byte for byte")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(t.spool.failed)/link.json") == outside, "moved as a link")
        #expect(t.errorEnvelope("link")?["error"]?["message"]?.stringValue?.contains("symbolic link") == true)
        #expect(t.errorEnvelope("fifo")?["error"]?["message"]?.stringValue?.contains("FIFO") == true)
        #expect(t.errorEnvelope("x")?["error"]?["message"]?.stringValue?.contains("directory") == true)
        #expect(t.read(outside) == "outside the spool")
        #expect(t.names(t.base) == ["secret.txt", "spool"], "nothing written outside the spool")
        #expect(t.names(t.spool.incoming).isEmpty && t.names(t.spool.active).isEmpty)
    }
}
