//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Reads a whole `/api/chat` reply (not streamed; also a stream's final line) of the usual shape
/// without building JSON values:
///
///     {"model":"m","created_at":"…","message":{"role":"assistant","content":"Hi","thinking":"…"},
///      "done":true,"done_reason":"stop","total_duration":1,"load_duration":2,"prompt_eval_count":3,
///      "prompt_eval_duration":4,"eval_count":5,"eval_duration":6}
///
/// in any key order, with any whitespace, any of them left out. Anything else — an error, tool
/// calls, images, `null`, unknown or repeated keys, escapes in keys or in the fields other than
/// `content` and `thinking`, numbers that are not whole and non-negative (or over 18 digits),
/// invalid UTF-8, trailing bytes — is left to the full reader (`decodeChatReply`; `reply`
/// returns `nil`), as for ``OllamaLineScanner``: this only has to be right about what it accepts.
extension OllamaLineScanner {
    static func reply(_ bytes: UnsafeRawBufferPointer) -> OllamaWire.ChatReply? {
        var reader = Reader(bytes: bytes)
        return reader.wholeReply()
    }
}

extension OllamaLineScanner.Reader {
    /// The reply's fields that are strings without escapes, and those that are whole numbers.
    private static let texts: [(key: StaticString, set: @Sendable (inout OllamaWire.ChatReply, String) -> Void)] = [
        ("model", { $0.model = $1 }), ("created_at", { $0.createdAt = $1 }), ("done_reason", { $0.doneReason = $1 }),
    ]
    private static let numbers: [(key: StaticString, set: @Sendable (inout OllamaWire.ChatReply, Int64) -> Void)] = [
        ("total_duration", { $0.totalDuration = $1 }), ("load_duration", { $0.loadDuration = $1 }),
        ("prompt_eval_count", { $0.promptEvalCount = Int($1) }), ("prompt_eval_duration", { $0.promptEvalDuration = $1 }),
        ("eval_count", { $0.evalCount = Int($1) }), ("eval_duration", { $0.evalDuration = $1 }),
    ]

    mutating func wholeReply() -> OllamaWire.ChatReply? {
        var reply = OllamaWire.ChatReply()
        let seen = object { reader, key in
            if reader.matches(key, "message") {
                reply.message = reader.wholeMessage()
                return reply.message == nil ? nil : 1
            } else if reader.matches(key, "done") {
                reply.done = reader.literal("true") ? true : reader.literal("false") ? false : nil
                return reply.done == nil ? nil : 2
            }
            for (index, field) in Self.texts.enumerated() where reader.matches(key, field.key) {
                guard let value = reader.rawText() else { return nil }
                field.set(&reply, value)
                return 4 << index
            }
            for (index, field) in Self.numbers.enumerated() where reader.matches(key, field.key) {
                guard let value = reader.wholeNumber() else { return nil }
                field.set(&reply, value)
                return 32 << index
            }
            return nil
        }
        guard seen != nil, atEnd() else { return nil }
        return reply
    }

    /// `{"role":"…","content":"…"}` with an optional `thinking`; role and content required.
    mutating func wholeMessage() -> OllamaWire.Message? {
        var (role, content, thinking): (String?, [UInt8], [UInt8]?) = (nil, [], nil)
        let seen = object { reader, key in
            if reader.matches(key, "role") {
                role = reader.rawText()
                return role == nil ? nil : 1
            } else if reader.matches(key, "content") {
                return reader.string(into: &content) ? 2 : nil
            } else if reader.matches(key, "thinking") {
                var text: [UInt8] = []
                guard reader.string(into: &text) else { return nil }
                thinking = text
                return 4
            }
            return nil
        }
        guard let seen, seen & 3 == 3, let role else { return nil }
        // Checked to be UTF-8 as they were read.
        return OllamaWire.Message(
            role: role, content: String(decoding: content, as: UTF8.self), thinking: thinking.map { String(decoding: $0, as: UTF8.self) },
            images: nil, toolCalls: nil, toolName: nil)
    }

    /// A string without escapes, ASCII only.
    mutating func rawText() -> String? {
        guard let range = rawString() else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// A whole non-negative number of 1 to 18 digits (so it fits an `Int64`), as JSON writes it:
    /// no leading zero, no fraction or exponent after it.
    mutating func wholeNumber() -> Int64? {
        skipSpace()
        var value: Int64 = 0
        let start = index
        while index < bytes.count, index - start < 18, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        let digits = index - start
        guard digits >= 1, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        if index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
            default: break
            }
        }
        return value
    }
}
