//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// A recursive-descent reader over bytes in place: the one JSON grammar of the project, behind
/// ``JSONValue/parse(utf8:)`` and the reader of Ollama's replies (which walks an object's
/// members with ``forEachMember(_:)`` instead of building it). Each step returns `nil` on an error and
/// leaves where and why in ``failure``: the reasons are written only when a text is not JSON.
struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var index = 0
    /// The first error: its byte offset and reason.
    var failure: (offset: Int, reason: String)?
    /// The members of the objects being read, innermost last: an object's dictionary is built
    /// once, at its size, from its members here (one hash a key, no growing).
    var members: [(String, JSONValue)] = []
    static let maxDepth = 512

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Records the error (the first one counts) and returns `nil` for the caller to pass up.
    @discardableResult
    mutating func fail(_ reason: String, at offset: Int? = nil) -> JSONValue? {
        if failure == nil { failure = (offset ?? index, reason) }
        return nil
    }

    mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    /// What the text ends with where `what` was expected.
    @discardableResult
    mutating func endOrUnexpected(_ what: String) -> JSONValue? {
        guard index < bytes.count else { return fail(bytes.isEmpty ? "the file is empty" : "unexpected end of the file") }
        return fail("\(JSONSyntaxError.show(bytes[index])) where \(what) was expected")
    }

    mutating func value(depth: Int) -> JSONValue? {
        skipSpace()
        guard index < bytes.count else { return endOrUnexpected("a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < Self.maxDepth else { return fail("nesting deeper than \(Self.maxDepth) levels") }
            return bytes[index] == UInt8(ascii: "{") ? object(depth: depth) : array(depth: depth)
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return endOrUnexpected("a value")
        }
    }

    mutating func literal(_ text: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = text.utf8CodeUnitCount
        guard bytes.count - index >= count else { return endOrUnexpected("a value") }
        for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return endOrUnexpected("a value") }
        index += count
        return value
    }

    /// Skips whitespace, then takes `byte` if it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Whether only whitespace is left.
    mutating func atEnd() -> Bool {
        skipSpace()
        return index == bytes.count
    }

    /// Reads an object at `index` member by member: `member` gets each key and reads its value
    /// (`false`: an error, recorded with ``fail(_:at:)`` or by the step that found it). Grammar
    /// errors as ``object(depth:)`` reports them. `false` when the object could not be read.
    mutating func forEachMember(_ member: (inout JSONParser, JSONKey) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else {
            endOrUnexpected("an object")
            return false
        }
        if take(UInt8(ascii: "}")) { return true }
        var comma: Int?
        while true {
            skipSpace()
            let quote = index
            // A key of plain ASCII is compared where it stands; any other is read as a string.
            var end = index + 1
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20, bytes[end] < 0x80 {
                end += 1
            }
            let name: JSONKey
            if quote < bytes.count, bytes[quote] == UInt8(ascii: "\""), end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                name = JSONKey(bytes: UnsafeRawBufferPointer(rebasing: bytes[(quote + 1)..<end]))
                index = end + 1
                guard take(UInt8(ascii: ":")) else {
                    endOrUnexpected("':'")
                    return false
                }
            } else {
                guard let key = key(after: comma) else { return false }
                name = JSONKey(text: key)
            }
            guard member(&self, name) else { return false }
            guard let more = separator(closing: UInt8(ascii: "}")) else { return false }
            if !more { return true }
            comma = index - 1
        }
    }

    /// An object's key and its colon, `index` before them; `comma` is the comma before it, if any
    /// (a `}` there is a trailing comma).
    mutating func key(after comma: Int?) -> String? {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            if let comma, index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                fail("a trailing comma before '}'", at: comma)
            } else {
                endOrUnexpected("a key in double quotes")
            }
            return nil
        }
        guard let key = string() else { return nil }
        guard take(UInt8(ascii: ":")) else {
            endOrUnexpected("':'")
            return nil
        }
        return key
    }

    mutating func object(depth: Int) -> JSONValue? {
        index += 1
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object([:])
        }
        let first = members.count
        defer { members.removeSubrange(first...) }
        var comma: Int?
        while true {
            guard let key = key(after: comma) else { return nil }
            guard let member = value(depth: depth + 1) else { return nil }
            members.append((key, member))
            guard let more = separator(closing: UInt8(ascii: "}")) else { return nil }
            if !more { return .object(Dictionary(members[first...], uniquingKeysWith: { _, last in last })) }
            comma = index - 1
        }
    }

    mutating func array(depth: Int) -> JSONValue? {
        index += 1
        var elements: [JSONValue] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            guard let element = value(depth: depth + 1) else { return nil }
            elements.append(element)
            guard let more = separator(closing: UInt8(ascii: "]")) else { return nil }
            if !more { return .array(elements) }
            let comma = index - 1
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") || bytes[index] == UInt8(ascii: "}") {
                return fail("a trailing comma before '\(Character(Unicode.Scalar(bytes[index])))'", at: comma)
            }
        }
    }

    /// After a member or element: `true` past a `,` (another follows), `false` past `closing`
    /// (the object or array ends), `nil` for anything else.
    mutating func separator(closing: UInt8) -> Bool? {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ",") || bytes[index] == closing else {
            _ = endOrUnexpected("',' or '\(Character(Unicode.Scalar(closing)))'")
            return nil
        }
        index += 1
        return bytes[index - 1] == UInt8(ascii: ",")
    }

    /// A string, `index` on its opening quote.
    mutating func string() -> String? {
        let quote = index
        index += 1
        let start = index
        // The common case: no escape, so the bytes are the string (once checked as UTF-8; ASCII
        // needs no check).
        var high: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                let text = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                guard high < 0x80 else { return validated(text, from: start) }
                return String(unsafeUninitializedCapacity: text.count) { buffer in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: text)
                    return text.count
                }
            }
            high |= byte
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { return controlCharacter(byte) }
            index += 1
        }
        var text = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return text.withUnsafeBytes { validated($0, from: start) }
            case UInt8(ascii: "\\"):
                let escape = index - 1
                guard index < bytes.count else { break }
                guard JSONEscape.unescape(bytes, at: &index, into: &text) else { return badEscape(at: escape) }
            default:
                guard byte >= 0x20 else {
                    index -= 1
                    return controlCharacter(byte)
                }
                text.append(byte)
            }
        }
        fail("a string that is never closed", at: quote)
        return nil
    }

    /// The string of `text` (a string's bytes, unescaped), or the error at its first byte that is
    /// not UTF-8, found in the string's bytes from `start`.
    mutating func validated(_ text: UnsafeRawBufferPointer, from start: Int) -> String? {
        if let string = String(validating: text, as: UTF8.self) { return string }
        var offset = start
        while offset < bytes.count, bytes[offset] != UInt8(ascii: "\"") {
            if bytes[offset] == UInt8(ascii: "\\") {
                offset += 2
            } else if let length = UTF8Sequence.length(in: bytes, at: offset) {
                offset += length
            } else {
                break
            }
        }
        fail("invalid UTF-8 in a string (the byte 0x\(JSONSyntaxError.hex(bytes[min(offset, bytes.count - 1)])))", at: offset)
        return nil
    }

    mutating func controlCharacter(_ byte: UInt8) -> String? {
        fail("a control character (U+00\(JSONSyntaxError.hex(byte).uppercased())) in a string; write it escaped (\\n, \\t, \\u00XX)")
        return nil
    }

    /// The escape at `escape` (its backslash) is not one: a `\u` with four hex digits is a lone
    /// surrogate, anything else not an escape JSON has.
    mutating func badEscape(at escape: Int) -> String? {
        var digits = escape + 2
        if bytes.count - escape >= 6, bytes[escape + 1] == UInt8(ascii: "u"), JSONEscape.hex4(bytes, at: &digits) != nil {
            let code = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[escape..<(escape + 6)]), as: UTF8.self)
            fail("a lone surrogate (\(code)) in a string; a \\uD800…\\uDBFF must be followed by a \\uDC00…\\uDFFF", at: escape)
        } else {
            fail("an invalid escape in a string (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", at: escape)
        }
        return nil
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func number() -> JSONValue? {
        let start = index
        func digits() -> Int {
            let first = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - first
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        let integerDigits = digits()
        guard integerDigits > 0 else { return fail("an invalid number (no digits)", at: start) }
        guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
            return fail("an invalid number (a leading zero)", at: start)
        }
        var whole = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return fail("an invalid number (no digits after '.')", at: start) }
            whole = false
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return fail("an invalid number (no digits in the exponent)", at: start) }
            whole = false
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if whole, let integer = Int64(text) { return .int(integer) }
        guard let double = Double(text), double.isFinite else { return fail("a number too large for a 64-bit double", at: start) }
        if let integer = Int64(exactly: double) { return .int(integer) }
        return .double(double)
    }
}

/// An object's key as ``JSONParser/forEachMember(_:)`` hands it over: its bytes as they stand
/// in the text when they need no unescaping, else the key read as a string.
struct JSONKey {
    private let bytes: UnsafeRawBufferPointer?
    private let text: String?

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.text = nil
    }

    init(text: String) {
        self.bytes = nil
        self.text = text
    }

    /// For `switch key { case "model": … }`.
    @inline(__always) static func ~= (word: StaticString, key: JSONKey) -> Bool { key == word }

    @inline(__always) static func == (key: JSONKey, word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard let bytes = key.bytes else { return key.text!.utf8.elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: count)) }
        guard bytes.count == count else { return false }
        for offset in 0..<count where bytes[offset] != word.utf8Start[offset] { return false }
        return true
    }
}
