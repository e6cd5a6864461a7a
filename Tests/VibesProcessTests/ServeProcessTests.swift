//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// `vibes-spool serve` as a process: the listen rule, and `kill -9` in the middle of an upload
/// and of a batch's creation.
@Suite struct ServeProcessTests {
    /// Starts serve on a free loopback port; returns it with its port.
    func serve(_ t: TestSpool, _ extra: [String] = [], log: String = "serve") async throws -> (WorkerProcess, Int) {
        let process = try WorkerProcess(["serve", "--spool", t.spool.root, "--listen", "127.0.0.1:0"] + extra, logPath: "\(t.base)/\(log).log")
        var port: Int?
        await eventually("serve listens") {
            port = process.log.range(of: "listening on http://127.0.0.1:").flatMap { range in Int(process.log[range.upperBound...].prefix { $0.isNumber }) }
            return port != nil || !process.process.isRunning
        }
        return (process, try #require(port, "serve did not start: \(process.log)"))
    }

    func upload(port: Int, _ content: String) throws -> String? {
        let frame = multipartFrame(boundary: "zz")
        let response = try RawHTTP.exchange(port: port, "POST", "/v1/files", headers: ["Content-Type: multipart/form-data; boundary=zz"],
            body: Array((frame.head + content + frame.tail).utf8))
        return (try? JSONValue.parse(utf8: Array(response.body.utf8)))?["id"]?.stringValue
    }

    func lines(_ count: Int, padding: Int = 0) -> String {
        let pad = String(repeating: "x", count: padding)
        return (0..<count).map { "{\"custom_id\": \"r\($0)\", \"method\": \"POST\", \"url\": \"/v1/embeddings\", \"body\": {\"model\": \"m\", \"input\": \"\(pad)\"}}\n" }.joined()
    }

    @Test func withoutKeysServeListensOnLoopbackOnly() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let refused = try WorkerProcess(["serve", "--spool", t.spool.root, "--listen", "0.0.0.0:0"], logPath: "\(t.base)/refused.log")
        #expect(await refused.exitStatus() == 2)
        #expect(refused.log.contains("refusing to listen on 0.0.0.0:0 without API keys"))
        try "sk-test\n".write(toFile: "\(t.base)/keys", atomically: true, encoding: .utf8)
        let (keyed, port) = try await serve(t, ["--api-key-file", "\(t.base)/keys"])
        #expect(try RawHTTP.exchange(port: port, "GET", "/v1/files").status == 401)
        #expect(try RawHTTP.exchange(port: port, "GET", "/v1/files", headers: ["Authorization: Bearer sk-test"]).status == 200)
        keyed.signal(SIGTERM)
        #expect(await keyed.exitStatus() == 0)
    }

    @Test func killMinus9MidUploadKeepsWhatWasAcknowledgedAndNoHalfFile() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let (first, port) = try await serve(t)
        let kept = lines(100)
        let id = try #require(try upload(port: port, kept))
        // A second upload, cut off by kill -9 half way through its file.
        let frame = multipartFrame(boundary: "zz")
        let big = lines(20_000, padding: 100)
        let connection = try RawHTTP(port: port)
        connection.send("POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz\r\nContent-Length: \(frame.head.utf8.count + big.utf8.count + frame.tail.utf8.count)\r\n\r\n")
        connection.send(frame.head + String(big.prefix(big.utf8.count / 2)))
        let api = "\(t.spool.root)/api"
        await eventually("the upload is on its way to disk") {
            (try? FileManager.default.contentsOfDirectory(atPath: "\(api)/tmp"))?.contains { $0.hasSuffix(".upload") } == true
        }
        first.signal(SIGKILL)
        _ = await first.exitStatus()
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(api)/files").sorted()
        #expect(files == ["\(id).json", "\(id).jsonl"], "no record of the upload cut off")
        let (second, port2) = try await serve(t, log: "serve2")
        defer { second.signal(SIGKILL) }
        let list = try? JSONValue.parse(utf8: Array(try RawHTTP.exchange(port: port2, "GET", "/v1/files").body.utf8))
        #expect(list?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [id])
        #expect(try RawHTTP.exchange(port: port2, "GET", "/v1/files/\(id)/content").body == kept, "the acknowledged file, whole")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(api)/tmp").isEmpty, "the cut upload was cleaned up")
    }

    @Test func killMinus9MidCreateLeavesEveryBatchWithItsRecordOrNeither() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        var (process, port) = try await serve(t)
        let input = lines(400, padding: 6000)
        let file = try #require(try upload(port: port, input))
        let body = Array("{\"input_file_id\": \"\(file)\", \"endpoint\": \"/v1/embeddings\", \"completion_window\": \"24h\"}".utf8)
        let acknowledged = (try? JSONValue.parse(utf8: Array(try RawHTTP.exchange(port: port, "POST", "/v1/batches", headers: ["Content-Type: application/json"], body: body).body.utf8)))?["id"]?.stringValue
        let api = "\(t.spool.root)/api"
        for round in 0..<3 {
            // Kill serve while a create is under way: as soon as its staged record appears (or,
            // when the poll missed that moment, its record: one more than before this round's).
            let before = (try? FileManager.default.contentsOfDirectory(atPath: "\(api)/batches"))?.count ?? 0
            let connection = try RawHTTP(port: port)
            connection.send("POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n")
            connection.send(body)
            await eventually("the create is under way", timeout: .seconds(30)) {
                (try? FileManager.default.contentsOfDirectory(atPath: "\(api)/tmp"))?.contains { $0.hasPrefix("batch_") } == true
                    || (try? FileManager.default.contentsOfDirectory(atPath: "\(api)/batches"))?.count ?? 0 > before
            }
            process.signal(SIGKILL)
            _ = await process.exitStatus()
            (process, port) = try await serve(t, log: "serve\(round)")
            let records = Set(try FileManager.default.contentsOfDirectory(atPath: "\(api)/batches").map { String($0.dropLast(5)) })
            let queued = Set(t.names(t.spool.incoming).filter { $0.hasSuffix(".jsonl") }.map { String($0.dropLast(6)) })
            #expect(records == queued, "every batch queued has its record and every record its batch (round \(round))")
            #expect(records.contains(try #require(acknowledged)), "the acknowledged batch is kept")
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(api)/tmp").isEmpty)
            #expect(t.names(t.spool.tmp).isEmpty, "no copy left half way in the spool's tmp/")
            for id in queued {
                let size = (try? FileManager.default.attributesOfItem(atPath: "\(t.spool.incoming)/\(id).jsonl")[.size] as? Int) ?? 0
                #expect(size == input.utf8.count, "a queued input is whole")
            }
        }
        process.signal(SIGKILL)
    }
}
