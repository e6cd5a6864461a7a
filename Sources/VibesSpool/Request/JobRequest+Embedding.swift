//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

extension JobRequest {
    /// `input`: a string, or a non-empty array of strings (Ollama's `/api/embed`).
    static func embeddingInput(_ value: JSONValue) throws -> [String] {
        switch value {
        case .string(let text):
            return [text]
        case .array(let items):
            guard !items.isEmpty else { throw InvalidRequest(field: "input", "`input`: expected at least one text, found an empty array") }
            return try items.enumerated().map { index, item in
                guard case .string(let text) = item else { throw InvalidRequest.wrongType("input[\(index)]", expected: "a string", found: item) }
                return text
            }
        default:
            throw InvalidRequest.wrongType("input", expected: "a string or an array of strings", found: value)
        }
    }
}
