//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

extension JSONValue {
    /// Reads one JSON text (RFC 8259, strictly: no trailing commas, comments, `NaN`, leading
    /// zeros, raw control characters or invalid UTF-8 in strings, lone surrogates), with optional
    /// whitespace around it and an optional UTF-8 byte order mark; `nil` if it is not one.
    ///
    /// What `JSONDecoder` gives for the same text: a number without a fraction or exponent that
    /// fits `Int64` is `.int`, as is one with them whose value is a whole number that fits
    /// exactly; every other number `.double`. Nesting deeper than 512 is refused. A batch file
    /// is read with it line by line (Foundation's `Decoder` machinery costs several times more).
    public static func parse(utf8 bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBytes { parse(utf8: $0) }
    }

    /// The same, from bytes in place (a reply's buffer).
    public static func parse(utf8 buffer: UnsafeRawBufferPointer) -> JSONValue? {
        var parser = JSONParser(buffer)
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { parser.index = 3 }
        // Not `nil`: a `nil` typed as JSONValue is `.null`.
        guard let value = parser.value(depth: 0) else { return Optional<JSONValue>.none }
        parser.skipSpace()
        guard parser.index == buffer.count else { return Optional<JSONValue>.none }
        return value
    }
}

private struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var index = 0
    /// The members of the objects being read, innermost last: an object's dictionary is built
    /// once, at its size, from its members here (one hash a key, no growing).
    var members: [(String, JSONValue)] = []
    static let maxDepth = 512

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    mutating func value(depth: Int) -> JSONValue? {
        skipSpace()
        guard index < bytes.count, depth < Self.maxDepth else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object(depth: depth)
        case UInt8(ascii: "["): return array(depth: depth)
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    mutating func literal(_ text: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = text.utf8CodeUnitCount
        guard bytes.count - index >= count else { return nil }
        for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return nil }
        index += count
        return value
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
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            guard let member = value(depth: depth + 1) else { return nil }
            members.append((key, member))
            guard let more = separator(closing: UInt8(ascii: "}")) else { return nil }
            // A repeated key: the last one counts.
            if !more { return .object(Dictionary(members[first...], uniquingKeysWith: { _, last in last })) }
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
        }
    }

    /// After a member or element: `true` past a `,` (another follows), `false` past `closing`
    /// (the object or array ends), `nil` for anything else.
    mutating func separator(closing: UInt8) -> Bool? {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ",") || bytes[index] == closing else { return nil }
        index += 1
        return bytes[index - 1] == UInt8(ascii: ",")
    }

    /// A string, `index` on its opening quote.
    mutating func string() -> String? {
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
                guard high < 0x80 else { return String(validating: text, as: UTF8.self) }
                return String(unsafeUninitializedCapacity: text.count) { buffer in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: text)
                    return text.count
                }
            }
            high |= byte
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { return nil }
            index += 1
        }
        var text = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard JSONEscape.unescape(bytes, at: &index, into: &text) else { return nil }
            default:
                guard byte >= 0x20 else { return nil }
                text.append(byte)
            }
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
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        let integerDigits = digits()
        guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { return nil }
        var whole = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return nil }
            whole = false
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return nil }
            whole = false
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if whole, let integer = Int64(text) { return .int(integer) }
        guard let double = Double(text), double.isFinite else { return nil }
        if let integer = Int64(exactly: double) { return .int(integer) }
        return .double(double)
    }
}
