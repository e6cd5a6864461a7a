//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

extension JSONValue {
    /// Reads one JSON text (RFC 8259, strictly: no trailing commas, comments, single quotes,
    /// `NaN`, unquoted keys, leading zeros, raw control characters, bad escapes, invalid UTF-8 or
    /// lone surrogates in strings), with optional whitespace around it and an optional UTF-8 byte
    /// order mark. The one JSON reader of the project: request files, batch lines, Ollama's
    /// replies and the spool's own records.
    ///
    /// A number without a fraction or exponent that fits `Int64` is `.int`, as is one with them
    /// whose value is a whole number that fits exactly; every other number `.double`. A repeated
    /// key: the last one counts. Nesting deeper than 512 is refused.
    /// - Throws: ``JSONSyntaxError`` with the line and column of the first error.
    public static func parse(utf8 bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        // `withUnsafeBytes` rethrows untyped: the result carries the typed error out.
        try bytes.withUnsafeBytes { buffer in Result { () throws(JSONSyntaxError) in try parse(utf8: buffer) } }.get()
    }

    /// The same, from bytes in place (a reply's buffer).
    public static func parse(utf8 buffer: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(buffer)
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { parser.index = 3 }
        if let value = parser.value(depth: 0) {
            parser.skipSpace()
            if parser.index == buffer.count { return value }
            parser.fail("\(JSONSyntaxError.show(buffer[parser.index])) after the end of the JSON value")
        }
        let (offset, reason) = parser.failure ?? (parser.index, "not JSON")
        throw JSONSyntaxError(buffer, at: offset, reason)
    }

    /// The same, from a string.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(utf8: Array(text.utf8))
    }
}
