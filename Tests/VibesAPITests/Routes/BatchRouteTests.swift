//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import FakeOllama
import Testing
@testable import VibesAPI
import VibesModels

/// `/v1/batches` through the router: create, its errors, list, cancel, expiry, and the states
/// read back from the spool.
@Suite struct BatchRouteTests {
    /// Uploads `content` and returns the file's id.
    func upload(_ client: any TestClientProtocol, _ content: String) async throws -> String {
        try #require(try await client.upload(content).json?["id"]?.stringValue)
    }

    @Test func createPutsTheInputIntoIncomingAndKeepsARecord() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        let content = batchLines(2)
        try await withAPI(t) { client, _ in
            let file = try await upload(client, content)
            let response = try await client.createBatch(file, extra: ", \"metadata\": {\"k\": \"v\"}")
            #expect(response.status == .ok)
            let batch = try #require(response.json)
            let id = try #require(batch["id"]?.stringValue)
            #expect(batch["status"] == "validating" && batch["object"] == "batch" && batch["input_file_id"] == .string(file))
            #expect(batch["metadata"] == ["k": "v"] && batch["model"] == "echo" && batch["output_file_id"] == .null)
            let created = try #require(batch["created_at"]?.doubleValue)
            #expect(batch["expires_at"]?.doubleValue == created + 86400)
            #expect(t.read("\(t.spool.incoming)/\(id).jsonl") == content, "the input, byte for byte, queued under the batch's id")
            #expect(t.names(t.store.batches) == ["\(id).json"] && t.names(t.store.tmp).isEmpty)
            let again = try await client.execute(uri: "/v1/batches/\(id)", method: .get)
            #expect(again.json == batch)
        }
    }

    @Test func createRefusesWhatOpenAIRefuses() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        try await withAPI(t) { client, _ in
            let file = try await upload(client, batchLines(3))
            let mixed = try await upload(client, batchLines(2) + batchLines(1, url: "/v1/embeddings"))
            func check(_ response: TestResponse, _ status: HTTPResponse.Status, param: String?, _ comment: Comment) {
                #expect(response.status == status, comment)
                #expect(response.json?["error"]?["param"] == (param.map(JSONValue.string) ?? .null), comment)
            }
            check(try await client.createBatch(file, endpoint: "/v1/completions"), .badRequest, param: "endpoint", "another endpoint")
            check(try await client.createBatch(file, endpoint: "/v1/embeddings"), .badRequest, param: "input_file_id", "lines with another url")
            check(try await client.createBatch(mixed), .badRequest, param: "input_file_id", "one line with another url")
            check(try await client.createBatch(file, window: "30m"), .badRequest, param: "completion_window", "under 1 h")
            check(try await client.createBatch(file, window: "8d"), .badRequest, param: "completion_window", "over 7 d")
            check(try await client.createBatch("file-000000000000000000000000"), .notFound, param: "input_file_id", "an unknown file")
            check(try await client.createBatch("../../etc/passwd"), .notFound, param: "input_file_id", "a path")
            let pairs = (0..<17).map { "\"k\($0)\": \"v\"" }.joined(separator: ", ")
            check(try await client.createBatch(file, extra: ", \"metadata\": {\(pairs)}"), .badRequest, param: "metadata", "17 pairs")
            let missing = try await client.execute(uri: "/v1/batches", method: .post, body: ByteBuffer(string: "{\"endpoint\": \"/v1/embeddings\"}"))
            check(missing, .badRequest, param: "input_file_id", "no input_file_id")
            check(try await client.execute(uri: "/v1/batches", method: .post, body: ByteBuffer(string: "[")), .badRequest, param: nil, "not JSON")
            #expect(try await client.createBatch(file, window: "2d").status == .ok, "a window of 2 d is fine")
        }
        #expect(t.names(t.spool.incoming).count == 1, "only the good batch was queued")
    }

    @Test func listPagesNewestFirst() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        try await withAPI(t) { client, _ in
            let file = try await upload(client, batchLines(1))
            var ids: [String] = []
            for _ in 0..<5 { ids.append(try #require(try await client.createBatch(file).json?["id"]?.stringValue)) }
            let first = try #require(try await client.execute(uri: "/v1/batches?limit=2", method: .get).json)
            #expect(first["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [ids[4], ids[3]])
            #expect(first["has_more"] == true && first["first_id"] == .string(ids[4]) && first["last_id"] == .string(ids[3]))
            let last = try #require(try await client.execute(uri: "/v1/batches?limit=2&after=\(ids[1])", method: .get).json)
            #expect(last["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [ids[0]] && last["has_more"] == false)
            #expect(try await client.execute(uri: "/v1/batches?limit=0", method: .get).status == .badRequest)
        }
    }

    @Test func cancelDropsTheCancelFileAndSaysCancelling() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        try await withAPI(t) { client, _ in
            let file = try await upload(client, batchLines(1))
            let id = try #require(try await client.createBatch(file).json?["id"]?.stringValue)
            let cancelled = try #require(try await client.execute(uri: "/v1/batches/\(id)/cancel", method: .post).json)
            #expect(cancelled["status"] == "cancelling" && cancelled["cancelling_at"]?.doubleValue != nil)
            #expect(t.read("\(t.spool.cancel)/\(id)") == "", "an empty cancel file: asked by a user")
            #expect(try await client.execute(uri: "/v1/batches/\(id)/cancel", method: .post).json?["status"] == "cancelling", "twice is fine")
            // The worker ends it: cancelled.
            t.write("\(t.spool.done)/\(id).batch.json", progress(id, status: "cancelled", total: 1, completed: 0, failed: 1))
            try FileManager.default.removeItem(atPath: "\(t.spool.incoming)/\(id).jsonl")
            let ended = try await client.execute(uri: "/v1/batches/\(id)", method: .get).json
            #expect(ended?["status"] == "cancelled" && ended?["cancelled_at"]?.doubleValue != nil && ended?["error_file_id"]?.stringValue != nil)
            let again = try await client.execute(uri: "/v1/batches/\(id)/cancel", method: .post)
            #expect(again.status == .conflict && again.json?["error"]?["message"] == "Cannot cancel a batch with status 'cancelled'.")
            #expect(try await client.execute(uri: "/v1/batches/batch_000000000000000000000000/cancel", method: .post).status == .notFound)
        }
    }

    @Test func aBatchPastItsWindowIsCancelledAsExpired() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        let id = try await withAPI(t) { client, _ in
            let file = try await upload(client, batchLines(1))
            return try #require(try await client.createBatch(file, window: "1h").json?["id"]?.stringValue)
        }
        #expect(!FileManager.default.fileExists(atPath: "\(t.spool.cancel)/\(id)"))
        try await withAPI(t, configure: { $0.clockOffset = 3601 }) { client, _ in
            let batch = try await client.execute(uri: "/v1/batches/\(id)", method: .get).json
            #expect(batch?["status"] == "cancelling")
            #expect(t.read("\(t.spool.cancel)/\(id)").flatMap { try? JSONValue.parse(utf8: Array($0.utf8)) } == ["reason": "expired"])
            t.write("\(t.spool.done)/\(id).batch.json", progress(id, status: "expired", total: 1, completed: 0, failed: 1))
            try FileManager.default.removeItem(atPath: "\(t.spool.incoming)/\(id).jsonl")
            let ended = try await client.execute(uri: "/v1/batches/\(id)", method: .get).json
            #expect(ended?["status"] == "expired" && ended?["expired_at"]?.doubleValue != nil)
        }
    }

    @Test func theSweepExpiresABatchNoClientAsksAbout() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        let ids = try await withAPI(t) { client, _ in
            let file = try await upload(client, batchLines(1))
            return [try #require(try await client.createBatch(file, window: "1h").json?["id"]?.stringValue),
                    try #require(try await client.createBatch(file, window: "2h").json?["id"]?.stringValue)]
        }
        var settings = ServeSettings(spool: t.spool)
        settings.clockOffset = 3601
        let sweep = ExpirySweep(service: APIService(settings: settings), interval: .milliseconds(10))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await sweep.run() }
            await eventually("the sweep cancels the 1h batch", timeout: .seconds(20)) { FileManager.default.fileExists(atPath: "\(t.spool.cancel)/\(ids[0])") }
            group.cancelAll()
        }
        #expect(t.read("\(t.spool.cancel)/\(ids[0])").flatMap { try? JSONValue.parse(utf8: Array($0.utf8)) } == ["reason": "expired"])
        #expect(!FileManager.default.fileExists(atPath: "\(t.spool.cancel)/\(ids[1])"), "the 2h batch is within its window")
    }

    @Test func aFinishedBatchNamesItsOutputAndErrorsFiles() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        try await withAPI(t) { client, _ in
            let file = try await upload(client, batchLines(2))
            let id = try #require(try await client.createBatch(file).json?["id"]?.stringValue)
            try FileManager.default.removeItem(atPath: "\(t.spool.incoming)/\(id).jsonl")
            t.write("\(t.spool.done)/\(id).output.jsonl", "{\"custom_id\": \"r0\"}\n")
            t.write("\(t.spool.done)/\(id).errors.jsonl", "{\"custom_id\": \"r1\"}\n")
            t.write("\(t.spool.done)/\(id).batch.json", progress(id, status: "completed", total: 2, completed: 1, failed: 1))
            let batch = try #require(try await client.execute(uri: "/v1/batches/\(id)", method: .get).json)
            #expect(batch["status"] == "completed" && batch["request_counts"] == ["total": 2, "completed": 1, "failed": 1])
            let output = try #require(batch["output_file_id"]?.stringValue)
            let errors = try #require(batch["error_file_id"]?.stringValue)
            #expect(try await client.execute(uri: "/v1/files/\(output)/content", method: .get).text == "{\"custom_id\": \"r0\"}\n")
            #expect(try await client.execute(uri: "/v1/files/\(errors)/content", method: .get).text == "{\"custom_id\": \"r1\"}\n")
            #expect(try await client.execute(uri: "/v1/files/\(output)", method: .get).json?["purpose"] == "batch_output")
            #expect(try await client.execute(uri: "/v1/files/\(output)", method: .delete).status == .badRequest)
        }
    }

    @Test func aFileThatFailsAsAWholeIsFailedWithItsLines() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        try await withAPI(t) { client, _ in
            let file = try await upload(client, batchLines(1))
            let id = try #require(try await client.createBatch(file).json?["id"]?.stringValue)
            try FileManager.default.removeItem(atPath: "\(t.spool.incoming)/\(id).jsonl")
            let message = "2 of the batch file's 3 lines are not a valid batch request ({…}): line 1: no `custom_id`; line 3: `method` must be POST. Nothing was run."
            t.write("\(t.spool.failed)/\(id).jsonl", "x")
            t.write("\(t.spool.failed)/\(id).error.json", JSONValue.object(["error": ["kind": "invalid_request", "message": .string(message)]]).compactJSON)
            let batch = try #require(try await client.execute(uri: "/v1/batches/\(id)", method: .get).json)
            #expect(batch["status"] == "failed" && batch["failed_at"]?.doubleValue != nil)
            let lines = batch["errors"]?["data"]?.arrayValue?.compactMap { $0["line"]?.doubleValue }
            #expect(lines == [1, 3] && batch["errors"]?["object"] == "list")
        }
    }

    @Test func modelsAreTheHostsLoadedModels() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        // A worker's state file, as a live worker (this process) publishes it.
        let state: JSONValue = ["host": .string(ProcessInfo.processInfo.hostName), "pid": .int(Int64(getpid())), "started_at": "2026-12-07T10:00:00Z",
            "paused": nil, "hosts": [["url": "http://h1:11434", "state": "up", "running": 0, "free": 1, "loaded": ["llama3.2", "qwen"]]]]
        t.write("\(t.spool.workers)/w-\(getpid()).json", state.compactJSON)
        try await withAPI(t) { client, _ in
            let models = try #require(try await client.execute(uri: "/v1/models", method: .get).json)
            #expect(models["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["llama3.2", "qwen"])
            #expect(models["data"]?.arrayValue?.first?["owned_by"] == "http://h1:11434")
        }
    }

    func progress(_ id: String, status: String, total: Int, completed: Int, failed: Int) -> String {
        "{\"id\": \"\(id)\", \"object\": \"batch\", \"status\": \"\(status)\", \"request_counts\": {\"total\": \(total), \"completed\": \(completed), \"failed\": \(failed)}, "
            + "\"usage\": {\"prompt_tokens\": 3, \"completion_tokens\": 4}, \"created_at\": \"2026-12-07T10:00:00Z\", \"in_progress_at\": \"2026-12-07T10:00:01Z\", "
            + "\"completed_at\": \"2026-12-07T10:00:02Z\", \"errors\": null}\n"
    }
}
