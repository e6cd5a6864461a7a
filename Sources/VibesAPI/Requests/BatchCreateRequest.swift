//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// `POST /v1/batches`'s body, checked: `input_file_id`, `endpoint`, `completion_window`,
/// `metadata`. Every rule broken is a 400 naming the field, as OpenAI's.
package struct BatchCreateRequest: Sendable, Equatable {
    /// The endpoints a batch may name (the worker's `/v1/…` batch URLs).
    package static let endpoints = ["/v1/chat/completions", "/v1/embeddings"]

    package var inputFileID: String
    package var endpoint: String
    package var completionWindow: String
    /// The window in seconds (1 h to 7 d).
    package var windowSeconds: Int64
    package var metadata: [String: String]?

    package init(body: [UInt8]) throws(APIError) {
        guard let value = try? JSONValue.parse(utf8: body), let object = value.objectValue else {
            throw .invalid("The request body is not a JSON object.")
        }
        func string(_ key: String) throws(APIError) -> String {
            guard let field = object[key] else { throw .invalid("Missing required parameter: '\(key)'.", param: key, code: "missing_required_parameter") }
            guard let text = field.stringValue else { throw .invalid("Invalid type for '\(key)': expected a string, but got \(field.typeName).", param: key, code: "invalid_type") }
            return text
        }
        inputFileID = try string("input_file_id")
        endpoint = try string("endpoint")
        completionWindow = try string("completion_window")
        guard Self.endpoints.contains(endpoint) else {
            throw .invalid("Invalid value for 'endpoint': '\(endpoint)'. Supported values are: \(Self.endpoints.map { "'\($0)'" }.joined(separator: ", ")).", param: "endpoint", code: "invalid_value")
        }
        guard let seconds = Self.window(completionWindow) else {
            throw .invalid("Invalid value for 'completion_window': '\(completionWindow)'. Supported values are '24h' or any duration from '1h' to '7d' (e.g. '48h', '3d').", param: "completion_window", code: "invalid_value")
        }
        windowSeconds = seconds
        switch object["metadata"] {
        case nil, .null?: metadata = nil
        case .object(let pairs)?:
            guard pairs.count <= 16 else { throw .invalid("Invalid 'metadata': at most 16 key-value pairs, got \(pairs.count).", param: "metadata", code: "invalid_value") }
            var metadata: [String: String] = [:]
            for (key, value) in pairs {
                guard let text = value.stringValue else { throw .invalid("Invalid 'metadata.\(key)': expected a string, but got \(value.typeName).", param: "metadata", code: "invalid_type") }
                guard key.count <= 64, text.count <= 512 else { throw .invalid("Invalid 'metadata.\(key)': keys are at most 64 characters and values at most 512.", param: "metadata", code: "invalid_value") }
                metadata[key] = text
            }
            self.metadata = metadata
        case let other?:
            throw .invalid("Invalid type for 'metadata': expected an object, but got \(other.typeName).", param: "metadata", code: "invalid_type")
        }
    }

    /// `Nh` or `Nd` in seconds, from 1 h to 7 d; `nil` for anything else.
    package static func window(_ text: String) -> Int64? {
        guard let unit = text.last, let count = Int64(text.dropLast()), count > 0, count <= 10_000 else { return nil }
        let seconds: Int64
        switch unit {
        case "h": seconds = count * 3600
        case "d": seconds = count * 86400
        default: return nil
        }
        return (3600...7 * 86400).contains(seconds) ? seconds : nil
    }
}
