//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import VibesAPI
import VibesModels

/// `/v1/files` through the router: uploads, their errors, look-ups, delete.
@Suite struct FileRouteTests {
    @Test func uploadStoresTheFileAndItsRecord() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        let content = batchLines(3)
        try await withAPI(t) { client, _ in
            let response = try await client.upload(content)
            #expect(response.status == .ok)
            let object = try #require(response.json)
            let id = try #require(object["id"]?.stringValue)
            #expect(object["object"] == "file" && object["purpose"] == "batch" && object["filename"] == "in.jsonl")
            #expect(object["bytes"] == .int(Int64(content.utf8.count)))
            #expect(t.read("\(t.store.files)/\(id).jsonl") == content, "the content byte for byte")
            let again = try await client.execute(uri: "/v1/files/\(id)", method: .get)
            #expect(again.json == object)
            let body = try await client.execute(uri: "/v1/files/\(id)/content", method: .get)
            #expect(body.text == content)
            let list = try await client.execute(uri: "/v1/files", method: .get)
            #expect(list.json?["data"]?.arrayValue?.count == 1 && list.json?["object"] == "list")
            let deleted = try await client.execute(uri: "/v1/files/\(id)", method: .delete)
            #expect(deleted.json == ["id": .string(id), "object": "file", "deleted": true])
            #expect(try await client.execute(uri: "/v1/files/\(id)", method: .get).status == .notFound)
            #expect(t.names(t.store.files).isEmpty && t.names(t.store.tmp).isEmpty)
        }
    }

    @Test func badUploadsAreOpenAIErrors() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        try await withAPI(t, configure: { $0.maxUploadBytes = 1000 }) { client, _ in
            func error(_ response: TestResponse) -> JSONValue? { response.json?["error"] }
            let purpose = try await client.upload("x\n", purpose: "fine-tune")
            #expect(purpose.status == .badRequest && error(purpose)?["param"] == "purpose")
            #expect(error(purpose)?["type"] == "invalid_request_error" && error(purpose)?["message"]?.stringValue != nil)
            #expect(error(purpose)?.objectValue?.keys.sorted() == ["code", "message", "param", "type"])
            let big = try await client.upload(String(repeating: "x", count: 1001))
            #expect(big.status == .contentTooLarge && error(big)?["code"] == "file_too_large")
            let notForm = try await client.execute(uri: "/v1/files", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}"))
            #expect(notForm.status == .badRequest)
            let noFile = try await client.execute(uri: "/v1/files", method: .post, headers: [.contentType: "multipart/form-data; boundary=b0undary"],
                body: multipartBody(file: nil))
            #expect(noFile.status == .badRequest && error(noFile)?["param"] == "file")
            let broken = try await client.execute(uri: "/v1/files", method: .post, headers: [.contentType: "multipart/form-data; boundary=b0undary"],
                body: ByteBuffer(string: "--b0undary\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nhalf a file"))
            #expect(broken.status == .badRequest, "a body cut inside its part")
            let garbage = try await client.execute(uri: "/v1/files", method: .post, headers: [.contentType: "multipart/form-data; boundary=b0undary"],
                body: ByteBuffer(string: "--b0undary\r\nBad Header\r\n\r\nx\r\n--b0undary--\r\n"))
            #expect(garbage.status == .badRequest && error(garbage)?["code"] == "invalid_multipart")
        }
        #expect(t.names(t.store.files).isEmpty, "no record of a refused upload")
        #expect(t.names(t.store.tmp).isEmpty, "nor a leftover")
    }

    @Test func unknownAndHostileIDsAre404AndTouchNothing() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        t.write("\(t.spool.root)/secret.json", "{}")
        try await withAPI(t) { client, _ in
            for id in ["file-000000000000000000000000", "..%2Fsecret.json", "file-..%2F..%2Fsecret", "file-%2E%2E", "batch_x", "file-0123456789abcdef01234567-output"] {
                let response = try await client.execute(uri: "/v1/files/\(id)", method: .get)
                #expect(response.status == .notFound, "\(id)")
                #expect(response.json?["error"]?["type"] == "invalid_request_error")
                #expect(try await client.execute(uri: "/v1/files/\(id)/content", method: .get).status == .notFound)
                #expect(try await client.execute(uri: "/v1/files/\(id)", method: .delete).status == .notFound)
                #expect(try await client.execute(uri: "/v1/batches/\(id)", method: .get).status == .notFound)
            }
            let traversal = try await client.execute(uri: "/v1/files/../../secret.json", method: .get)
            #expect(traversal.status == .notFound)
        }
        #expect(t.read("\(t.spool.root)/secret.json") == "{}")
    }

    @Test func wrongMethodIs405AndUnknownPathIs404() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        try await withAPI(t) { client, _ in
            let wrong = try await client.execute(uri: "/v1/batches/batch_x/cancel", method: .get)
            #expect(wrong.status == .methodNotAllowed && wrong.headers[.allow] == "POST")
            #expect(wrong.json?["error"]?["type"] == "invalid_request_error")
            #expect(try await client.execute(uri: "/v1/files", method: .put).status == .methodNotAllowed)
            let unknown = try await client.execute(uri: "/v1/nothing", method: .get)
            #expect(unknown.status == .notFound && unknown.json?["error"]?["message"] == "Invalid URL (GET /v1/nothing)")
        }
    }

    @Test func keysAreRequiredWhenConfigured() async throws {
        let t = try APITestSpool()
        defer { t.cleanUp() }
        try await withAPI(t, configure: { $0.keys = APIKeys(keys: ["sk-one", "sk-two"]) }) { client, _ in
            let missing = try await client.execute(uri: "/v1/files", method: .get)
            #expect(missing.status == .unauthorized && missing.json?["error"]?["type"] == "invalid_request_error")
            let wrong = try await client.execute(uri: "/v1/files", method: .get, headers: [.authorization: "Bearer sk-three"])
            #expect(wrong.status == .unauthorized && wrong.json?["error"]?["code"] == "invalid_api_key")
            #expect(try await client.execute(uri: "/", method: .get, headers: [.authorization: "Bearer sk-on"]).status == .unauthorized)
            #expect(try await client.execute(uri: "/v1/files", method: .get, headers: [.authorization: "Bearer sk-two"]).status == .ok)
            #expect(try await client.execute(uri: "/v1/files", method: .get, headers: [.authorization: "bearer sk-one"]).status == .ok)
        }
    }
}
