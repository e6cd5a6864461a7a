//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// The lines of a batch's output and errors files, in OpenAI's batch output format.
///
/// Output: `{"id": "batch_req_…", "custom_id", "response": {"status_code": 200, "request_id":
/// "req_…", "body"}, "error": null}`. Errors: the same with `"response": null` (or, when
/// Ollama answered an error status, `{"status_code": N, "request_id", "body": {"error": …}}`)
/// and `"error": {"code": KIND, "message"}`, KIND and message as in the contract's error table.
enum BatchOutputLine {
    /// One whole line, newline included.
    static func success(customID: String, body: JSONValue) -> [UInt8] {
        var json = start(customID)
        json.beginObject("response")
        json.member("status_code", 200)
        json.member("request_id", .string(BatchIDs.make("req_")))
        json.member("body", body)
        json.endObject()
        json.member("error", nil)
        return end(json)
    }

    /// One whole error line, newline included.
    static func failure(customID: String, url: BatchURL, failure: JobFailure) -> [UInt8] {
        var json = start(customID)
        if let status = failure.httpStatus {
            let text = JSONValue.string(failure.detail ?? failure.message)
            // The error body in the shape the line's API uses: OpenAI's object, Ollama's string.
            let body: JSONValue = url.isOpenAI
                ? ["error": ["message": text, "type": .string(failure.kind.rawValue), "param": nil, "code": .string(failure.kind.rawValue)]]
                : ["error": text]
            json.beginObject("response")
            json.member("status_code", JSONValue(status))
            json.member("request_id", .string(BatchIDs.make("req_")))
            json.member("body", body)
            json.endObject()
        } else {
            json.member("response", nil)
        }
        json.beginObject("error")
        json.member("code", .string(failure.kind.rawValue))
        json.member("message", .string(failure.message))
        json.endObject()
        return end(json)
    }

    private static func start(_ customID: String) -> JSONWriter {
        var json = JSONWriter()
        json.beginObject()
        json.member("id", .string(BatchIDs.make("batch_req_")))
        json.member("custom_id", .string(customID))
        return json
    }

    private static func end(_ json: JSONWriter) -> [UInt8] {
        var json = json
        json.endObject()
        json.bytes.append(UInt8(ascii: "\n"))
        return json.bytes
    }
}
