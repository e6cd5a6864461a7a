//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Hummingbird
import VibesModels

/// An error as OpenAI's API sends it: `{"error": {"message", "type", "param", "code"}}` with the
/// HTTP status OpenAI uses for it.
package struct APIError: Error, Sendable, Equatable {
    package var status: HTTPResponse.Status
    package var message: String
    /// `invalid_request_error`, `authentication_error`, `server_error`, …
    package var type: String
    /// The request field at fault, if one is.
    package var param: String?
    package var code: String?

    package init(status: HTTPResponse.Status, message: String, type: String = "invalid_request_error", param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    /// 400: the request breaks a rule (a field missing or of the wrong value).
    package static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, param: param, code: code)
    }

    /// 404 for an id that names nothing (OpenAI: "No such File object: ID").
    package static func noSuch(_ object: String, id: String, param: String = "id") -> APIError {
        APIError(status: .notFound, message: "No such \(object) object: \(id)", param: param, code: nil)
    }

    /// 404 for a path that is no route (OpenAI: "Invalid URL (GET /v1/x)").
    package static func invalidURL(method: String, path: String) -> APIError {
        APIError(status: .notFound, message: "Invalid URL (\(method) \(path))")
    }

    /// 405 for a route that exists with another method.
    package static func methodNotAllowed(method: String, path: String) -> APIError {
        APIError(status: .methodNotAllowed, message: "Method not allowed (\(method) \(path))", code: "method_not_allowed")
    }

    /// 401: no key, or a key that is not one of `--api-key-file`'s.
    package static func unauthorized(missing: Bool) -> APIError {
        APIError(
            status: .unauthorized,
            message: missing
                ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                : "Incorrect API key provided. The keys are the lines of the server's --api-key-file.",
            type: "invalid_request_error", code: missing ? nil : "invalid_api_key")
    }

    /// 413: the upload is over the limit.
    package static func tooLarge(limit: Int64) -> APIError {
        APIError(status: .contentTooLarge, message: "The file is over the limit of \(limit) bytes.", param: "file", code: "file_too_large")
    }

    /// 409: the object's state forbids the action (cancel a finished batch).
    package static func conflict(_ message: String) -> APIError {
        APIError(status: .conflict, message: message)
    }

    /// 429: too many uploads at once.
    package static func busy(_ message: String) -> APIError {
        APIError(status: .tooManyRequests, message: message, type: "rate_limit_error", code: "rate_limit_exceeded")
    }

    /// 500: something failed on the server's side (the spool's file system).
    package static func server(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error")
    }

    /// The body OpenAI sends.
    package var json: JSONValue {
        ["error": .object([
            "message": .string(message), "type": .string(type),
            "param": param.map(JSONValue.string) ?? .null, "code": code.map(JSONValue.string) ?? .null,
        ])]
    }
}
