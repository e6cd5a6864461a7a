//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// A strict check of JSON's grammar (RFC 8259), run before the request is decoded: Foundation's
/// parser here accepts a trailing comma (`{"a": 1,}`, `[1,]`), which Ollama's own parser and
/// the contract refuse. Also names the line and column of comments, single quotes, `NaN`,
/// unquoted keys, raw control characters in strings and bad escapes.
///
/// Iterative (no recursion), one pass over the bytes; strings' UTF-8 is left to the decoder.
enum StrictJSON {
    /// Where and why a text is not JSON.
    struct Failure: Error, Equatable, CustomStringConvertible {
        /// 1-based; columns count characters (UTF-8 sequences), not bytes.
        var line: Int
        var column: Int
        var reason: String

        var description: String { "line \(line), column \(column): \(reason)" }
    }

    private enum Expect {
        case value, valueOrClose, key, keyOrClose, colon, commaOrClose, end
    }

    /// The first grammar error in `bytes`, or `nil` when they are one JSON value (with optional
    /// whitespace around it, and an optional UTF-8 byte order mark, which the decoder handles).
    static func firstError(in bytes: [UInt8]) -> Failure? {
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var stack: [UInt8] = []
        var expect = Expect.value
        var lastComma: Int?

        func fail(_ reason: String, at position: Int) -> Failure { failure(bytes, at: position, reason) }
        func afterValue() -> Expect { stack.isEmpty ? .end : .commaOrClose }

        while true {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
            guard index < bytes.count else {
                if expect == .end { return nil }
                return fail(bytes.isEmpty ? "the file is empty" : "unexpected end of the file", at: index)
            }
            let byte = bytes[index]
            switch expect {
            case .end:
                return fail("\(show(byte)) after the end of the JSON value", at: index)
            case .value, .valueOrClose:
                if byte == UInt8(ascii: "]"), expect == .valueOrClose {
                    stack.removeLast()
                    index += 1
                    expect = afterValue()
                } else if (byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}")), let comma = lastComma {
                    return fail("a trailing comma before '\(Character(Unicode.Scalar(byte)))'", at: comma)
                } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                    stack.append(byte)
                    index += 1
                    expect = byte == UInt8(ascii: "{") ? .keyOrClose : .valueOrClose
                } else if byte == UInt8(ascii: "\"") {
                    if let error = scanString(bytes, &index) { return error }
                    expect = afterValue()
                } else if byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                    if let error = scanNumber(bytes, &index) { return error }
                    expect = afterValue()
                } else if let literal = ["true", "false", "null"].first(where: { bytes[index...].starts(with: $0.utf8) }) {
                    index += literal.utf8.count
                    expect = afterValue()
                } else {
                    return fail("\(show(byte)) where a value was expected", at: index)
                }
            case .key, .keyOrClose:
                if byte == UInt8(ascii: "}"), expect == .keyOrClose {
                    stack.removeLast()
                    index += 1
                    expect = afterValue()
                } else if byte == UInt8(ascii: "}"), let comma = lastComma {
                    return fail("a trailing comma before '}'", at: comma)
                } else if byte == UInt8(ascii: "\"") {
                    if let error = scanString(bytes, &index) { return error }
                    expect = .colon
                } else {
                    return fail("\(show(byte)) where a key in double quotes was expected", at: index)
                }
            case .colon:
                guard byte == UInt8(ascii: ":") else { return fail("\(show(byte)) where ':' was expected", at: index) }
                index += 1
                expect = .value
            case .commaOrClose:
                let open = stack.last!
                let close = open == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if byte == UInt8(ascii: ",") {
                    lastComma = index
                    index += 1
                    expect = open == UInt8(ascii: "{") ? .key : .value
                    continue
                }
                guard byte == close else {
                    return fail("\(show(byte)) where ',' or '\(Character(Unicode.Scalar(close)))' was expected", at: index)
                }
                stack.removeLast()
                index += 1
                expect = afterValue()
            }
            lastComma = nil
        }
    }

    /// Scans a string starting at its opening quote; leaves `index` after the closing one.
    private static func scanString(_ bytes: [UInt8], _ index: inout Int) -> Failure? {
        let start = index
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return nil
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { return failure(bytes, at: start, "a string that is never closed") }
                let escape = bytes[index + 1]
                if Array("\"\\/bfnrt".utf8).contains(escape) {
                    index += 2
                } else if escape == UInt8(ascii: "u"), index + 5 < bytes.count,
                    bytes[(index + 2)...(index + 5)].allSatisfy({ hexDigits.contains($0) })
                {
                    index += 6
                } else {
                    return failure(bytes, at: index, "an invalid escape in a string (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
                }
            case 0..<0x20:
                return failure(bytes, at: index, "a control character (U+00\(FileName.hex(byte).uppercased())) in a string; write it escaped (\\n, \\t, \\u00XX)")
            default:
                index += 1
            }
        }
        return failure(bytes, at: start, "a string that is never closed")
    }

    /// Scans `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    private static func scanNumber(_ bytes: [UInt8], _ index: inout Int) -> Failure? {
        let start = index
        func digits() -> Int {
            let first = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - first
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let leadingZero = index < bytes.count && bytes[index] == UInt8(ascii: "0")
        let integer = digits()
        guard integer > 0 else { return failure(bytes, at: start, "an invalid number (no digits)") }
        if leadingZero && integer > 1 { return failure(bytes, at: start, "an invalid number (a leading zero)") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return failure(bytes, at: start, "an invalid number (no digits after '.')") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return failure(bytes, at: start, "an invalid number (no digits in the exponent)") }
        }
        return nil
    }

    private static let hexDigits = Set("0123456789abcdefABCDEF".utf8)

    /// What was found, for messages; with a hint for the usual non-JSON.
    private static func show(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "/"): "'/' (a comment? JSON has none)"
        case UInt8(ascii: "'"): "a single quote (JSON strings use double quotes)"
        case 0x21...0x7E: "'\(Character(Unicode.Scalar(byte)))'"
        default: "the byte 0x\(FileName.hex(byte))"
        }
    }

    private static func failure(_ bytes: [UInt8], at position: Int, _ reason: String) -> Failure {
        var line = 1
        var column = 1
        for byte in bytes[..<min(position, bytes.count)] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return Failure(line: line, column: column, reason: reason)
    }
}
