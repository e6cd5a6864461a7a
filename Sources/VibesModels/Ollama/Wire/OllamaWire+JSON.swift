//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// The chat body, written with the project's JSON writer (a batch line writes one per request):
/// keys whose value is `nil` are left out, as the `Encodable` conformance leaves them.
extension OllamaWire.ChatBody {
    /// Compact JSON, keys in the order of the type's fields.
    var jsonBytes: [UInt8] {
        var object = JSONObjectWriter(capacity: 256)
        object.string("model", model)
        object.key("messages")
        object.array(messages) { message, out in message.write(into: &out) }
        object.value("tools", tools.map(JSONValue.array))
        object.value("format", format)
        object.value("options", options.map(JSONValue.object))
        object.value("stream", .bool(stream))
        object.value("keep_alive", keepAlive)
        object.value("think", think)
        return object.finish()
    }
}

extension OllamaWire.Message {
    func write(into out: inout [UInt8]) {
        var object = JSONObjectWriter(taking: &out)
        object.string("role", role)
        object.string("content", content)
        object.string("thinking", thinking)
        object.value("images", images.map { .array($0.map(JSONValue.string)) })
        if let toolCalls {
            object.key("tool_calls")
            object.array(toolCalls) { call, out in
                var inner = JSONObjectWriter(taking: &out)
                inner.string("id", call.id)
                inner.key("function")
                var function = JSONObjectWriter(taking: &inner.out)
                function.value("index", call.function.index.map { .int(Int64($0)) })
                function.string("name", call.function.name)
                function.value("arguments", call.function.arguments)
                inner.out = function.finish()
                out = inner.finish()
            }
        }
        object.string("tool_name", toolName)
        out = object.finish()
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

/// Writes one JSON object's members into a byte array, in the order given.
struct JSONObjectWriter {
    var out: [UInt8]
    private var first = true

    init(capacity: Int) {
        out = []
        out.reserveCapacity(capacity)
    }

    /// Continues `out`, taken over (left empty, so appending does not copy it): give it back
    /// with ``finish()``.
    init(taking out: inout [UInt8]) {
        self.out = out
        out = []
    }

    mutating func key(_ name: StaticString) {
        out.append(UInt8(ascii: first ? "{" : ","))
        first = false
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(contentsOf: "\":".utf8)
    }

    /// The member, unless `value` is `nil`.
    mutating func string(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONValue.write(string: value, into: &out)
    }

    /// The member, unless `value` is `nil`.
    mutating func value(_ name: StaticString, _ value: JSONValue?) {
        guard let value else { return }
        key(name)
        value.write(into: &out)
    }

    mutating func array<T>(_ elements: [T], _ write: (T, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            write(element, &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// The object's bytes (`{}` when no member was written).
    mutating func finish() -> [UInt8] {
        if first { out.append(UInt8(ascii: "{")) }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
