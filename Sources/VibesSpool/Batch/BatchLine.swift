//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import VibesModels

/// The endpoints a batch line may name.
package enum BatchURL: String, Sendable, CaseIterable {
    case chatCompletions = "/v1/chat/completions"
    case embeddings = "/v1/embeddings"
    case ollamaChat = "/api/chat"
    case ollamaEmbed = "/api/embed"

    /// Whether lines get OpenAI's reply shapes (else Ollama's own).
    package var isOpenAI: Bool { self == .chatCompletions || self == .embeddings }
}

/// One request line of a batch file: `{"custom_id", "method": "POST", "url", "body"}`.
package struct BatchLine: Sendable, Hashable {
    /// The line's number in the file, from 1.
    package var number: Int
    package var customID: String
    package var url: BatchURL
    package var body: [String: JSONValue]

    package init(number: Int, customID: String, url: BatchURL, body: [String: JSONValue]) {
        self.number = number
        self.customID = customID
        self.url = url
        self.body = body
    }

    /// The model the body names, if any (for scheduling by model before the body is checked).
    package var model: String? { body["model"]?.stringValue }

    /// Reads one line (without its newline), body included.
    /// - Throws: ``BatchLineProblem`` saying what is wrong with the line as a batch request
    ///   (not with its body: that is ``work``'s business).
    static func parse(_ bytes: [UInt8], number: Int) throws(BatchLineProblem) -> BatchLine {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            throw BatchLineProblem("a blank line (every line must be a request)")
        }
        // One parser for validation and for running (``JSONValue/parse(utf8:)``), so a line
        // valid at one is valid at the other. The line's number is the caller's: the column says
        // where in the line.
        let value: JSONValue
        do {
            value = try JSONValue.parse(utf8: bytes)
        } catch {
            throw BatchLineProblem("not valid JSON (column \(error.column): \(error.reason))")
        }
        guard case .object(let object) = value, case .string(let customID)? = object["custom_id"], object["method"] == "POST",
            let url = object["url"]?.stringValue.flatMap(BatchURL.init(rawValue:)), case .object(let body)? = object["body"]
        else { throw problem(value) }
        return BatchLine(number: number, customID: customID, url: url, body: body)
    }

    /// Checks one line as a batch request (validation).
    static func check(_ bytes: [UInt8]) throws(BatchLineProblem) -> (customID: String, url: BatchURL) {
        let line = try parse(bytes, number: 0)
        return (line.customID, line.url)
    }

    /// What is wrong with a line that is JSON but not a batch request.
    private static func problem(_ value: JSONValue) -> BatchLineProblem {
        guard case .object(let object) = value else {
            return BatchLineProblem("expected a JSON object, found \(value.typeName)")
        }
        guard let idValue = object["custom_id"] else {
            return BatchLineProblem("`custom_id`: required, expected a string, found nothing")
        }
        guard case .string = idValue else {
            return BatchLineProblem("`custom_id`: expected a string, found \(idValue.typeName)")
        }
        guard object["method"] == "POST" else {
            return BatchLineProblem("`method`: expected \"POST\", found \(Self.show(object["method"]))")
        }
        guard let urlText = object["url"]?.stringValue, BatchURL(rawValue: urlText) != nil else {
            let supported = BatchURL.allCases.map(\.rawValue).joined(separator: ", ")
            return BatchLineProblem("`url`: expected one of \(supported), found \(Self.show(object["url"]))")
        }
        return BatchLineProblem("`body`: expected an object, found \(object["body"].map(\.typeName) ?? "nothing")")
    }

    private static func show(_ value: JSONValue?) -> String {
        guard let value else { return "nothing" }
        if case .string(let text) = value { return "\"\(text.count > 60 ? String(text.prefix(60)) + "…" : text)\"" }
        return value.typeName
    }
}

/// What is wrong with one line of a batch file.
struct BatchLineProblem: Error, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}
