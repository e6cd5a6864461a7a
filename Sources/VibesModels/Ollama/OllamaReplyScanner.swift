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
    mutating func wholeReply() -> OllamaWire.ChatReply? {
        var reply = OllamaWire.ChatReply()
        var seen: UInt16 = 0
        guard take(UInt8(ascii: "{")) else { return nil }
        if take(UInt8(ascii: "}")) { return atEnd() ? reply : nil }
        repeat {
            guard let key = rawString(), take(UInt8(ascii: ":")) else { return nil }
            let bit: UInt16
            if matches(key, "model") {
                bit = 1
                guard let value = rawText() else { return nil }
                reply.model = value
            } else if matches(key, "created_at") {
                bit = 2
                guard let value = rawText() else { return nil }
                reply.createdAt = value
            } else if matches(key, "message") {
                bit = 4
                guard let message = wholeMessage() else { return nil }
                reply.message = message
            } else if matches(key, "done") {
                bit = 8
                if literal("true") {
                    reply.done = true
                } else if literal("false") {
                    reply.done = false
                } else {
                    return nil
                }
            } else if matches(key, "done_reason") {
                bit = 16
                guard let value = rawText() else { return nil }
                reply.doneReason = value
            } else if matches(key, "total_duration") {
                bit = 32
                guard let value = wholeNumber() else { return nil }
                reply.totalDuration = value
            } else if matches(key, "load_duration") {
                bit = 64
                guard let value = wholeNumber() else { return nil }
                reply.loadDuration = value
            } else if matches(key, "prompt_eval_count") {
                bit = 128
                guard let value = wholeNumber() else { return nil }
                reply.promptEvalCount = Int(value)
            } else if matches(key, "prompt_eval_duration") {
                bit = 256
                guard let value = wholeNumber() else { return nil }
                reply.promptEvalDuration = value
            } else if matches(key, "eval_count") {
                bit = 512
                guard let value = wholeNumber() else { return nil }
                reply.evalCount = Int(value)
            } else if matches(key, "eval_duration") {
                bit = 1024
                guard let value = wholeNumber() else { return nil }
                reply.evalDuration = value
            } else {
                return nil
            }
            guard seen & bit == 0 else { return nil }
            seen |= bit
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")), atEnd() else { return nil }
        return reply
    }

    /// `{"role":"…","content":"…"}` with an optional `thinking`; role and content required.
    mutating func wholeMessage() -> OllamaWire.Message? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var (role, content, thinking): (String?, [UInt8]?, [UInt8]?) = (nil, nil, nil)
        repeat {
            guard let key = rawString(), take(UInt8(ascii: ":")) else { return nil }
            if matches(key, "role"), role == nil {
                guard let value = rawText() else { return nil }
                role = value
            } else if matches(key, "content"), content == nil {
                var text: [UInt8] = []
                guard string(into: &text) else { return nil }
                content = text
            } else if matches(key, "thinking"), thinking == nil {
                var text: [UInt8] = []
                guard string(into: &text) else { return nil }
                thinking = text
            } else {
                return nil
            }
        } while take(UInt8(ascii: ","))
        guard let role, let content, take(UInt8(ascii: "}")) else { return nil }
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
