//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import VibesAPI
import VibesModels
import VibesSpool

/// A temporary spool with serve's layout, removed by `cleanUp()`.
struct APITestSpool {
    let base: String
    let spool: SpoolDirectory
    var store: APIStore { APIStore(spool: spool) }

    init() throws {
        var template = Array("/tmp/vibes-api-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SpoolError("mkdtemp", "/tmp") }
        base = String(cString: made)
        spool = SpoolDirectory(base + "/spool")
        try APIStore(spool: spool).createLayout()
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: base) }

    func names(_ folder: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() }

    func write(_ path: String, _ text: String) { _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) }

    func read(_ path: String) -> String? { FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } }
}

/// A multipart/form-data body as OpenAI's SDK sends it.
func multipartBody(boundary: String = "b0undary", fields: [(String, String)] = [("purpose", "batch")], file: String?, filename: String = "in.jsonl") -> ByteBuffer {
    var text = ""
    for (name, value) in fields { text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n" }
    if let file {
        text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: application/jsonl\r\n\r\n\(file)\r\n"
    }
    text += "--\(boundary)--\r\n"
    return ByteBuffer(string: text)
}

/// Batch input lines for `url`.
func batchLines(_ count: Int, url: String = "/v1/chat/completions", model: String = "echo") -> String {
    (0..<count).map { "{\"custom_id\": \"r\($0)\", \"method\": \"POST\", \"url\": \"\(url)\", \"body\": {\"model\": \"\(model)\", \"messages\": [{\"role\": \"user\", \"content\": \"hi \($0)\"}]}}\n" }.joined()
}

extension TestResponse {
    var json: JSONValue? { try? JSONValue.parse(utf8: Array(body.readableBytesView)) }
    var text: String { String(buffer: body) }
}

extension TestClientProtocol {
    func upload(_ content: String, purpose: String = "batch", headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "multipart/form-data; boundary=b0undary"
        return try await execute(uri: "/v1/files", method: .post, headers: headers, body: multipartBody(fields: [("purpose", purpose)], file: content))
    }

    func createBatch(_ fileID: String, endpoint: String = "/v1/chat/completions", window: String = "24h", extra: String = "") async throws -> TestResponse {
        try await execute(uri: "/v1/batches", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: "{\"input_file_id\": \"\(fileID)\", \"endpoint\": \"\(endpoint)\", \"completion_window\": \"\(window)\"\(extra)}"))
    }
}

/// Runs `body` against serve's router (in this process, no socket) on `spool`.
func withAPI<T: Sendable>(
    _ spool: APITestSpool, configure: (inout ServeSettings) -> Void = { _ in }, _ body: @Sendable (any TestClientProtocol, APIService) async throws -> T
) async throws -> T {
    var settings = ServeSettings(spool: spool.spool)
    configure(&settings)
    let service = APIService(settings: settings)
    let app = Application(router: service.router())
    return try await app.test(.router) { client in try await body(client, service) }
}
