//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// The one reader of an `/api/chat` reply object: a stream line or a whole reply.
///
/// It walks the object with the project's JSON parser (``JSONParser``, so the grammar is the one
/// of every other JSON the worker reads) and keeps the fields it knows as it meets them, without
/// building a dictionary of the whole reply: a stream line is read once per token. Fields follow
/// Ollama's types, `null` meaning absent; unknown keys are read and dropped.
extension OllamaWire.ChatReply {
    /// Reads one reply. An `{"error": "…"}` object is Ollama's error, even at status 200 and
    /// whatever else it holds.
    /// - Throws: ``ModelError/serverError(status:message:midStream:)`` for an error object,
    ///   ``ModelError/invalidResponse(_:)`` for anything that is not a reply (not JSON, a field
    ///   of the wrong type, no `role` or `content` in a `message`).
    static func read(_ bytes: UnsafeRawBufferPointer) throws(ModelError) -> Self {
        var parser = JSONParser(bytes)
        var reply = Self()
        var valid = true
        let read = parser.forEachMember { parser, key in
            if key == "message" { return OllamaWire.Message.read(&parser, into: &reply.message, valid: &valid) }
            guard let value = parser.value(depth: 1) else { return false }
            switch key {
            case "error": valid = assign(&reply.error, JSONRead.string(value)) && valid
            case "model": valid = assign(&reply.model, JSONRead.string(value)) && valid
            case "created_at": valid = assign(&reply.createdAt, JSONRead.string(value)) && valid
            case "done": valid = assign(&reply.done, JSONRead.bool(value)) && valid
            case "done_reason": valid = assign(&reply.doneReason, JSONRead.string(value)) && valid
            case "total_duration": valid = assign(&reply.totalDuration, JSONRead.int(value)) && valid
            case "load_duration": valid = assign(&reply.loadDuration, JSONRead.int(value)) && valid
            case "prompt_eval_duration": valid = assign(&reply.promptEvalDuration, JSONRead.int(value)) && valid
            case "eval_duration": valid = assign(&reply.evalDuration, JSONRead.int(value)) && valid
            case "prompt_eval_count": valid = assign(&reply.promptEvalCount, JSONRead.int(value).map { .init(value: $0.value.map { Int($0) }) }) && valid
            case "eval_count": valid = assign(&reply.evalCount, JSONRead.int(value).map { .init(value: $0.value.map { Int($0) }) }) && valid
            default: break
            }
            return true
        }
        guard read, parser.atEnd() else {
            throw .invalidResponse("the reply is not Ollama's JSON: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        if let error = reply.error { throw .serverError(status: 200, message: error, midStream: true) }
        guard valid else {
            throw .invalidResponse("the reply is not Ollama's JSON: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        return reply
    }
}

extension OllamaWire.Message {
    /// Reads a reply's `message` (an object, or `null`) into `message`; a member of the wrong
    /// type, or no `role` or `content`, clears `valid`. `false`: not JSON.
    static func read(_ parser: inout JSONParser, into message: inout Self?, valid: inout Bool) -> Bool {
        parser.skipSpace()
        if parser.index < parser.bytes.count, parser.bytes[parser.index] != UInt8(ascii: "{") {
            guard let value = parser.value(depth: 1) else { return false }
            if value == .null { message = nil } else { valid = false }
            return true
        }
        var read = Self(role: "", content: "")
        var (role, content) = (false, false)
        let ok = parser.forEachMember { parser, key in
            guard let value = parser.value(depth: 2) else { return false }
            switch key {
            case "role": role = value.stringValue.map { read.role = $0 } != nil
            case "content": content = value.stringValue.map { read.content = $0 } != nil
            case "thinking": valid = assign(&read.thinking, JSONRead.string(value)) && valid
            case "tool_name": valid = assign(&read.toolName, JSONRead.string(value)) && valid
            case "images":
                switch value {
                case .null: read.images = nil
                case .array(let values):
                    let images = values.compactMap(\.stringValue)
                    valid = valid && images.count == values.count
                    read.images = images
                default: valid = false
                }
            case "tool_calls":
                switch value {
                case .null: read.toolCalls = nil
                case .array(let values):
                    let calls = values.compactMap(OllamaWire.WireToolCall.init(json:))
                    valid = valid && calls.count == values.count
                    read.toolCalls = calls
                default: valid = false
                }
            default: break
            }
            return true
        }
        valid = valid && role && content
        message = read
        return ok
    }
}

/// Sets `field` to what ``JSONRead`` read; `false` (and `field` untouched) when the value was of
/// the wrong type.
private func assign<T>(_ field: inout T?, _ read: JSONRead.Field<T>?) -> Bool {
    guard let read else { return false }
    field = read.value
    return true
}
