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
        case UInt8(ascii: "{"): return depth < Self.maxDepth ? object(depth: depth) : tooDeep()
        case UInt8(ascii: "["): return depth < Self.maxDepth ? array(depth: depth) : tooDeep()
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return endOrUnexpected("a value")
        }
    }

    mutating func tooDeep() -> JSONValue? {
        fail("nesting deeper than \(Self.maxDepth) levels")
    }

    mutating func literal(_ text: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = text.utf8CodeUnitCount
        guard bytes.count - index >= count else { return endOrUnexpected("a value") }
        for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return endOrUnexpected("a value") }
        index += count
        return value
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
