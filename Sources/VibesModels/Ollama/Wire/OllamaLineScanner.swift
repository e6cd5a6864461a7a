//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Reads the usual line of a streamed `/api/chat` reply without building JSON values:
///
///     {"model":"m","created_at":"…","message":{"role":"assistant","content":"Hi","thinking":"…"},"done":false}
///
/// in any key order, with any whitespace. Anything else — the final `done: true` line, an error
/// line, tool calls, images, unknown or repeated keys, escapes in keys or in `model` and
/// `created_at`, invalid UTF-8, trailing bytes — is left to the full reader (`decodeChatReply`;
/// `scan` returns `nil`), which then decides as it always did. So this scanner only has to be right about what it
/// accepts, not complete.
enum OllamaLineScanner {
    /// What a usual line holds besides its text: where `model` and `created_at` are in the line.
    struct Fields {
        var model: Range<Int>?
        var createdAt: Range<Int>?
    }

    /// Scans one line (without its newline). On the usual shape, appends the unescaped `content`
    /// to `text` and `thinking` to `thinking` and returns the other fields; otherwise leaves both
    /// as they were and returns `nil`.
    static func scan(_ line: UnsafeRawBufferPointer, text: inout [UInt8], thinking: inout [UInt8]) -> Fields? {
        let (textMark, thinkingMark) = (text.count, thinking.count)
        var reader = Reader(bytes: line)
        if let fields = reader.chatLine(text: &text, thinking: &thinking) {
            return fields
        }
        text.removeSubrange(textMark...)
        thinking.removeSubrange(thinkingMark...)
        return nil
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        mutating func chatLine(text: inout [UInt8], thinking: inout [UInt8]) -> Fields? {
            var fields = Fields()
            let seen = object { reader, key in
                if reader.matches(key, "model") {
                    fields.model = reader.rawString()
                    return fields.model == nil ? nil : 1
                } else if reader.matches(key, "created_at") {
                    fields.createdAt = reader.rawString()
                    return fields.createdAt == nil ? nil : 2
                } else if reader.matches(key, "message") {
                    return reader.message(text: &text, thinking: &thinking) ? 4 : nil
                } else if reader.matches(key, "done") {
                    return reader.literal("false") ? 8 : nil
                }
                return nil
            }
            guard seen != nil, atEnd() else { return nil }
            return fields
        }

        /// `{"role":"…","content":"…"}` with an optional `thinking`; role and content required
        /// (as `OllamaWire.Message` requires them).
        mutating func message(text: inout [UInt8], thinking: inout [UInt8]) -> Bool {
            let seen = object { reader, key in
                if reader.matches(key, "role") {
                    return reader.rawString() == nil ? nil : 1
                } else if reader.matches(key, "content") {
                    return reader.string(into: &text) ? 2 : nil
                } else if reader.matches(key, "thinking") {
                    return reader.string(into: &thinking) ? 4 : nil
                }
                return nil
            }
            return (seen ?? 0) & 3 == 3
        }

        /// An object, `{ "key": value, … }`: `member` reads each value after its key (the key's
        /// bytes given) and returns the key's bit, or `nil` to refuse it; a key seen twice is
        /// refused too. The bits of the keys seen; `nil`: refused.
        mutating func object(_ member: (inout Self, Range<Int>) -> UInt16?) -> UInt16? {
            guard take(UInt8(ascii: "{")) else { return nil }
            if take(UInt8(ascii: "}")) { return 0 }
            var seen: UInt16 = 0
            repeat {
                guard let key = rawString(), take(UInt8(ascii: ":")), let bit = member(&self, key), seen & bit == 0 else { return nil }
                seen |= bit
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}")) ? seen : nil
        }

        /// Whether the bytes in `range` are `word`.
        func matches(_ range: Range<Int>, _ word: StaticString) -> Bool {
            guard range.count == word.utf8CodeUnitCount else { return false }
            let start = word.utf8Start
            for offset in 0..<range.count where bytes[range.lowerBound + offset] != start[offset] { return false }
            return true
        }

        // MARK: tokens

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        /// Skips whitespace, then takes `byte` if it is next.
        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func atEnd() -> Bool {
            skipSpace()
            return index == bytes.count
        }

        mutating func literal(_ word: StaticString) -> Bool {
            skipSpace()
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { return false }
            let start = word.utf8Start
            for offset in 0..<count where bytes[index + offset] != start[offset] { return false }
            index += count
            return true
        }

        /// A string without escapes and with ASCII only: its bytes' range (between the quotes).
        mutating func rawString() -> Range<Int>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return start..<(index - 1)
                }
                guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { return nil }
                index += 1
            }
            return nil
        }

        /// A string, unescaped and checked to be UTF-8, appended to `output`.
        mutating func string(into output: inout [UInt8]) -> Bool {
            guard take(UInt8(ascii: "\"")) else { return false }
            var runStart = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                    index += 1
                    if byte == UInt8(ascii: "\"") { return true }
                    guard escape(into: &output) else { return false }
                    runStart = index
                } else if byte < 0x80 {
                    guard byte >= 0x20 else { return false }
                    index += 1
                } else {
                    guard let length = UTF8Sequence.length(in: bytes, at: index) else { return false }
                    index += length
                }
            }
            return false
        }

        /// After a backslash: one escape, appended as UTF-8.
        mutating func escape(into output: inout [UInt8]) -> Bool {
            JSONEscape.unescape(bytes, at: &index, into: &output)
        }
    }
}
