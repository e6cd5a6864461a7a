//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Strings: read in place when they need no unescaping, checked to be UTF-8, and the errors that
/// name what is wrong inside one.
extension JSONParser {
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
                guard high < 0x80 else { return validated(text, from: start) }
                return String(unsafeUninitializedCapacity: text.count) { buffer in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: text)
                    return text.count
                }
            }
            high |= byte
            // An escape or a control character: the loop below reads on or names the error.
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
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
        fail("a string that is never closed", at: start - 1)
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
}
