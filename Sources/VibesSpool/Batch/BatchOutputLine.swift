//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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
        var line = Array("{\"id\":\"\(BatchIDs.make("batch_req_"))\",\"custom_id\":".utf8)
        JSONValue.write(string: customID, into: &line)
        line += ",\"response\":{\"status_code\":200,\"request_id\":\"\(BatchIDs.make("req_"))\",\"body\":".utf8
        body.write(into: &line)
        line += "},\"error\":null}\n".utf8
        return line
    }

    /// One whole error line, newline included.
    static func failure(customID: String, url: BatchURL, failure: JobFailure) -> [UInt8] {
        var line = Array("{\"id\":\"\(BatchIDs.make("batch_req_"))\",\"custom_id\":".utf8)
        JSONValue.write(string: customID, into: &line)
        line += ",\"response\":".utf8
        if let status = failure.httpStatus {
            let text = JSONValue.string(failure.detail ?? failure.message)
            // The error body in the shape the line's API uses: OpenAI's object, Ollama's string.
            let body: JSONValue = url.isOpenAI
                ? ["error": ["message": text, "type": .string(failure.kind.rawValue), "param": nil, "code": .string(failure.kind.rawValue)]]
                : ["error": text]
            line += "{\"status_code\":\(status),\"request_id\":\"\(BatchIDs.make("req_"))\",\"body\":".utf8
            body.write(into: &line)
            line += "}".utf8
        } else {
            line += "null".utf8
        }
        line += ",\"error\":{\"code\":".utf8
        JSONValue.write(string: failure.kind.rawValue, into: &line)
        line += ",\"message\":".utf8
        JSONValue.write(string: failure.message, into: &line)
        line += "}}\n".utf8
        return line
    }
}
