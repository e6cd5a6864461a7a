//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// The chat body, written with the project's JSON writer (a batch line writes one per request):
/// keys whose value is `nil` are left out, as the `Encodable` conformance leaves them.
extension OllamaWire.ChatBody {
    /// Compact JSON, keys in the order of the type's fields.
    var jsonBytes: [UInt8] {
        var json = JSONWriter()
        json.bytes.reserveCapacity(256)
        json.beginObject()
        json.member("model", .string(model))
        json.beginArray("messages")
        for message in messages { message.write(into: &json) }
        json.endArray()
        json.member("tools", ifPresent: tools.map(JSONValue.array))
        json.member("format", ifPresent: format)
        json.member("options", ifPresent: options.map(JSONValue.object))
        json.member("stream", .bool(stream))
        json.member("keep_alive", ifPresent: keepAlive)
        json.member("think", ifPresent: think)
        json.endObject()
        return json.bytes
    }
}

extension OllamaWire.Message {
    /// The message as an element of the `messages` array.
    func write(into json: inout JSONWriter) {
        json.beginObject()
        json.member("role", .string(role))
        json.member("content", .string(content))
        json.member("thinking", ifPresent: thinking.map(JSONValue.string))
        json.member("images", ifPresent: images.map { .array($0.map(JSONValue.string)) })
        if let toolCalls {
            json.beginArray("tool_calls")
            for call in toolCalls {
                json.beginObject()
                json.member("id", ifPresent: call.id.map(JSONValue.string))
                json.beginObject("function")
                json.member("index", ifPresent: call.function.index.map { .int(Int64($0)) })
                json.member("name", .string(call.function.name))
                json.member("arguments", ifPresent: call.function.arguments)
                json.endObject()
                json.endObject()
            }
            json.endArray()
        }
        json.member("tool_name", ifPresent: toolName.map(JSONValue.string))
        json.endObject()
    }
}

extension OllamaWire.WireToolCall {
    init?(json: JSONValue) {
        guard case .object(let fields) = json, let id = JSONRead.string(fields["id"]),
            case .object(let function)? = fields["function"], let name = function["name"]?.stringValue,
            let index = JSONRead.int(function["index"])
        else { return nil }
        let arguments: JSONValue? = function["arguments"].flatMap { $0 == .null ? nil : $0 }
        self.init(id: id.value, function: Function(index: index.value.map { Int($0) }, name: name, arguments: arguments))
    }
}

/// Optional fields read as `Codable` reads them: absent or `null` is a present `nil`
/// (`.some(nil)`), the right type its value, any other type `nil` (the reply is not valid).
enum JSONRead {
    struct Field<T> {
        let value: T?
    }

    static func string(_ value: JSONValue?) -> Field<String>? {
        switch value {
        case nil, .null?: Field(value: nil)
        case .string(let text)?: Field(value: text)
        default: nil
        }
    }

    static func bool(_ value: JSONValue?) -> Field<Bool>? {
        switch value {
        case nil, .null?: Field(value: nil)
        case .bool(let flag)?: Field(value: flag)
        default: nil
        }
    }

    /// A whole number that fits (the parser gives whole numbers as `.int`).
    static func int(_ value: JSONValue?) -> Field<Int64>? {
        switch value {
        case nil, .null?: Field(value: nil)
        case .int(let number)?: Field(value: number)
        default: nil
        }
    }
}
