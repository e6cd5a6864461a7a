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

/// Every row of the contract's error table, produced end to end through the worker.
extension SpoolWorkerTests {
    /// Runs one job (`model`, `prompt`) with `handler` to its end and returns its error envelope.
    func failedEnvelope(
        handler: @escaping FakeOllama.Handler, model: String = "m", extra: String = "", listModel: Bool = true,
        configure: @escaping (inout WorkerConfiguration) -> Void = { _ in }
    ) async throws -> (envelope: JSONValue, spool: TestSpool, requests: Int) {
        try await failedEnvelope(model: model, extra: extra, listModel: listModel, configure: configure) { _ in handler }
    }

    /// The same, with a handler that may look at the job's partial file (its path is passed).
    /// With `listModel`, the handler answers `/api/chat` only, and the fake lists `model` for the
    /// rest (`/api/tags`, `/api/ps`) as Ollama would.
    func failedEnvelope(
        model: String = "m", extra: String = "", listModel: Bool = true, configure: @escaping (inout WorkerConfiguration) -> Void = { _ in },
        handlerWatching: (_ partialPath: String) -> FakeOllama.Handler
    ) async throws -> (envelope: JSONValue, spool: TestSpool, requests: Int) {
        let t = try TestSpool()
        var requests = 0
        let chat = handlerWatching("\(t.spool.active)/job.partial")
        let others = FakeOllama.ollamaLike(models: [model]) { _ in .error(500, "not used") }
        let handler: FakeOllama.Handler = { request in
            listModel && request.path != "/api/chat" ? await others(request) : await chat(request)
        }
        try await withWorker(t, handler: handler, configure: configure) { fake, _ in
            try t.dropRequest("job", model: model, prompt: "p", extra: extra)
            await eventually("the job failed") { t.failedIDs == ["job"] }
            requests = fake.requests.filter { $0.path == "/api/chat" }.count
        }
        let envelope = try #require(t.errorEnvelope("job"))
        return (envelope, t, requests)
    }

    @Test func modelNotInstalled() async throws {
        let (envelope, t, requests) = try await failedEnvelope(
            handler: FakeOllama.ollamaLike(models: []) { _ in .error(500, "x") }, model: "llama3.2", listModel: false)
        defer { t.cleanUp() }
        #expect(envelope["error"]?["kind"] == "model_not_installed")
        let message = try #require(envelope["error"]?["message"]?.stringValue)
        #expect(message.hasPrefix("Model 'llama3.2' is not installed. Run `ollama pull llama3.2`. Hosts asked: http://127.0.0.1:"))
        #expect(envelope["error"]?["http_status"] == 404)
        #expect(envelope["error"]?["retryable"] == false)
        #expect(envelope["error"]?["detail"] == "model 'llama3.2' not found")
        #expect(envelope["attempts"] == 1)
        #expect(requests == 0, "not sent to a host that does not list it")
    }

    /// A list that is out of date: the host lists the model, but answers 404 for it.
    @Test func modelNotInstalledThoughListed() async throws {
        let handler: FakeOllama.Handler = { request in
            if request.path == "/api/chat" { return .error(404, "model 'llama3.2' not found") }
            return await FakeOllama.ollamaLike(models: ["llama3.2"]) { _ in .error(500, "x") }(request)
        }
        let (envelope, t, requests) = try await failedEnvelope(handler: handler, model: "llama3.2")
        defer { t.cleanUp() }
        #expect(envelope["error"]?["kind"] == "model_not_installed")
        #expect(envelope["error"]?["message"]?.stringValue?.hasPrefix("Model 'llama3.2' is not installed. Run `ollama pull llama3.2`.") == true)
        #expect(envelope["error"]?["detail"] == "model 'llama3.2' not found")
        #expect(requests == 1, "permanent: not retried")
    }

    @Test func ollamaErrorWithItsOwnTextAndStatusAfterRetries() async throws {
        let (envelope, t, requests) = try await failedEnvelope(handler: { _ in .error(500, "llama runner process has terminated") })
        defer { t.cleanUp() }
        #expect(envelope["error"]?["kind"] == "ollama_error")
        #expect(envelope["error"]?["http_status"] == 500)
        #expect(envelope["error"]?["message"]?.stringValue?.contains("HTTP 500: llama runner process has terminated") == true)
        #expect(envelope["attempts"] == 3, "--retries 2: three attempts")
        #expect(requests == 3)
    }

    @Test func badRequestIsPermanent() async throws {
        let (envelope, t, requests) = try await failedEnvelope(handler: { _ in .error(400, "invalid format") })
        defer { t.cleanUp() }
        #expect(envelope["error"]?["kind"] == "ollama_error")
        #expect(envelope["error"]?["http_status"] == 400)
        #expect(requests == 1)
    }

    @Test func aWrongBaseURLSaysItIsNotAnOllamaAPI() async throws {
        let (envelope, t, requests) = try await failedEnvelope(handler: { _ in .json(404, "404 page not found", contentType: "text/plain") })
        defer { t.cleanUp() }
        #expect(envelope["error"]?["kind"] == "ollama_error")
        #expect(envelope["error"]?["message"]?.stringValue?.contains("is not an Ollama API") == true)
        #expect(envelope["error"]?["message"]?.stringValue?.contains("http://127.0.0.1:") == true)
        #expect(requests == 1, "permanent")
    }

    @Test func errorLineMidStreamIsRetriedThenReported() async throws {
        let lines = [FakeResponse.chatLine(content: "half "), #"{"error":"an error was encountered while running the model: CUDA error"}"#]
        let (envelope, t, requests) = try await failedEnvelope(handler: { _ in .chunks(lines.map { Array(($0 + "\n").utf8) }) })
        defer { t.cleanUp() }
        #expect(envelope["error"]?["kind"] == "ollama_error")
        #expect(envelope["error"]?["message"]?.stringValue?.contains("CUDA error") == true)
        #expect(envelope["error"]?["http_status"] == 200)
        #expect(envelope["partial_bytes"] == 5)
        #expect(t.read("\(t.spool.failed)/job.partial") == "half ", "only the last attempt's text")
        #expect(requests == 3)
    }

    @Test func streamInterruptedKeepsThePartialText() async throws {
        let lines = [FakeResponse.chatLine(content: "12345"), FakeResponse.chatLine(content: "678")]
        // The fake drops the connection once the worker has written both pieces to the partial
        // file. One attempt: a retry empties the file only after its request has gone out.
        let (envelope, t, requests) = try await failedEnvelope(configure: { $0.retries = 0 }) { partial in
            { _ in
                .chunksThenDrop(lines.map { Array(($0 + "\n").utf8) }) {
                    await eventually("the worker wrote both pieces") { FileManager.default.contents(atPath: partial)?.count == 8 }
                }
            }
        }
        defer { t.cleanUp() }
        #expect(requests == 1)
        #expect(envelope["error"]?["kind"] == "stream_interrupted")
        #expect(envelope["partial_bytes"] == 8)
        #expect(envelope["error"]?["message"]?.stringValue?.contains("8 bytes") == true)
        #expect(t.read("\(t.spool.failed)/job.partial") == "12345678")
        #expect(envelope["error"]?["retryable"] == true)
    }

    @Test func theJobsOwnDeadline() async throws {
        let slow = FakeResponse(status: 200, steps: [.send(Array((FakeResponse.chatLine(content: "a") + "\n").utf8)), .sleep(.seconds(30))])
        let (envelope, t, requests) = try await failedEnvelope(handler: { _ in slow }, extra: #","timeout":"300ms""#)
        defer { t.cleanUp() }
        #expect(envelope["error"]?["kind"] == "timeout")
        #expect(envelope["error"]?["message"]?.stringValue?.contains("job deadline of 0.3 s") == true)
        #expect(requests == 1, "permanent")
    }

    @Test func theIdleLimitBetweenChunks() async throws {
        let slow = FakeResponse(status: 200, steps: [.send(Array((FakeResponse.chatLine(content: "a") + "\n").utf8)), .sleep(.seconds(30))])
        let (envelope, t, _) = try await failedEnvelope(handler: { _ in slow }, configure: { $0.ollama.idleTimeout = .milliseconds(200) })
        defer { t.cleanUp() }
        #expect(envelope["error"]?["kind"] == "timeout")
        #expect(envelope["error"]?["message"]?.stringValue?.contains("idle timeout between chunks of 0.2 s") == true)
    }

    @Test func aTransientFailureThenSuccessIsDoneWithTwoAttempts() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let calls = Mutex(0)
        let handler: FakeOllama.Handler = { request in
            guard request.path == "/api/chat" else { return .json(404, "404 page not found", contentType: "text/plain") }
            let n = calls.withLock { $0 += 1; return $0 }
            return n == 1 ? .error(503, "server busy, please try again") : .chatStream(pieces: ["ok"])
        }
        try await withWorker(t, handler: handler) { _, _ in
            try t.dropRequest("r", prompt: "x")
            await eventually("done") { t.doneIDs == ["r"] }
        }
        #expect(t.json("\(t.spool.done)/r.result.json")?["attempts"] == 2)
        #expect(t.read("\(t.spool.done)/r.txt") == "ok")
    }

    // MARK: Ollama not running

    @Test func ollamaDownFailsOneJobAndLeavesTheRestQueued() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        for n in 1...3 { try t.dropRequest("job\(n)", prompt: "p\(n)") }
        let port = try await FakeOllama.closedPort()
        let summary = try await runWorker(t, baseURL: "http://127.0.0.1:\(port)", configure: { $0.once = true })
        #expect(summary.exitCode == 3)
        #expect(t.failedIDs == ["job1"], "the oldest is tried and fails; the rest wait")
        #expect(t.names(t.spool.incoming) == ["job2.json", "job3.json"])
        let envelope = try #require(t.errorEnvelope("job1"))
        #expect(envelope["error"]?["kind"] == "ollama_not_running")
        #expect(envelope["error"]?["message"]?.stringValue == "Ollama not running at http://127.0.0.1:\(port). Start it with `ollama serve`.")
        #expect(envelope["attempts"] == 3)
    }

    @Test func thePausedWorkerResumesWhenOllamaAnswers() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let port = try await FakeOllama.closedPort()
        try await runWorker(t, baseURL: "http://127.0.0.1:\(port)", configure: { $0.backoffCap = .milliseconds(50) }) { _ in
            try t.dropRequest("first", prompt: "a")
            await eventually("the first job failed") { t.failedIDs == ["first"] }
            await eventually("status shows the pause") { (try? SpoolStatus.read(t.spool))?.paused != nil }
            try t.dropRequest("second", prompt: "b")
            try await Task.sleep(for: .milliseconds(200))  // a window in which nothing may be claimed
            #expect(t.names(t.spool.incoming) == ["second.json"], "paused: nothing claimed")
            let fake = try await FakeOllama.start(port: port, echoHandler())
            await eventually("resumed and done") { t.doneIDs == ["second"] }
            #expect((try SpoolStatus.read(t.spool)).paused == nil)
            await fake.shutdown()
        }
    }
}
