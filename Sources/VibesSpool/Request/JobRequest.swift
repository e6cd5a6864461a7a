//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// A parsed, valid request file.
package struct JobRequest: Sendable {
    package var chat: ChatRequest
    /// The `id` field, if present and valid.
    package var id: String?
    /// The job's own deadline.
    package var timeout: Duration?
    package var metadata: JSONValue?
    /// -100…100, higher first; 0 when absent.
    package var priority = 0
    /// An embedding job (the `input` field): `chat` then holds only the model and settings.
    package var embed: EmbedRequest?

    /// `[A-Za-z0-9._-]{1,128}`, not starting with `.`.
    package static func isValidID(_ id: String) -> Bool {
        guard (1...128).contains(id.utf8.count), !id.hasPrefix(".") else { return false }
        return id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    /// Parses a request file's bytes.
    /// - Throws: ``InvalidRequest`` naming the field, what was expected and what was found.
    package static func parse(_ bytes: [UInt8]) throws -> JobRequest {
        let value: JSONValue
        do {
            value = try JSONValue.parse(utf8: bytes)
        } catch {
            throw InvalidRequest(field: nil, "the file is not valid JSON (\(error))")
        }
        guard case .object(let object) = value else {
            throw InvalidRequest(field: nil, "expected a JSON object, found \(value.typeName)")
        }
        return try JobRequest(object: object)
    }

    /// What an invalid request still tells, for its error envelope: a valid `id`, the `model`
    /// if it is a string, and `metadata`. All `nil` when the file is not a JSON object.
    package static func salvage(_ bytes: [UInt8]) -> (id: String?, model: String?, metadata: JSONValue?) {
        guard case .object(let object)? = try? JSONValue.parse(utf8: bytes) else {
            return (nil, nil, nil)
        }
        let id = object["id"]?.stringValue.flatMap { isValidID($0) ? $0 : nil }
        return (id, object["model"]?.stringValue, object["metadata"])
    }

    init(object: [String: JSONValue]) throws {
        guard let modelValue = object["model"] else {
            throw InvalidRequest(field: "model", "`model`: required, expected a string naming an Ollama model, found nothing")
        }
        guard case .string(let model) = modelValue, !model.trimmingWhitespace().isEmpty else {
            if case .string = modelValue { throw InvalidRequest(field: "model", "`model`: expected a model name, found an empty string") }
            throw InvalidRequest.wrongType("model", expected: "a string", found: modelValue)
        }

        var messages: [ChatMessage] = []
        if let system = object["system"] {
            guard case .string(let text) = system else { throw InvalidRequest.wrongType("system", expected: "a string", found: system) }
            messages.append(.system(text))
        }
        let input = try object["input"].map(Self.embeddingInput)
        if input != nil, let other = ["prompt", "messages"].first(where: { object[$0] != nil }) {
            throw InvalidRequest(field: "input", "`input` and `\(other)`: expected exactly one of `prompt`, `messages` or `input`, found both")
        }
        switch (object["prompt"], object["messages"]) {
        case (.some, .some):
            throw InvalidRequest(field: "prompt", "`prompt` and `messages`: expected exactly one of them, found both")
        case (nil, nil):
            guard input != nil else {
                throw InvalidRequest(field: "messages", "`prompt`, `messages` or `input`: expected exactly one of them, found neither")
            }
        case (.some(let prompt), nil):
            guard case .string(let text) = prompt else { throw InvalidRequest.wrongType("prompt", expected: "a string", found: prompt) }
            messages.append(.user(text))
        case (nil, .some(let list)):
            guard case .array(let items) = list else { throw InvalidRequest.wrongType("messages", expected: "an array of messages", found: list) }
            guard !items.isEmpty else { throw InvalidRequest(field: "messages", "`messages`: expected at least one message, found an empty array") }
            for (index, item) in items.enumerated() {
                messages.append(try Self.message(item, field: "messages[\(index)]"))
            }
        }

        var settings = OllamaSettings()
        if let options = object["options"] {
            guard case .object(let values) = options else { throw InvalidRequest.wrongType("options", expected: "an object", found: options) }
            settings.options = values
        }
        if let format = object["format"] {
            switch format {
            case .string("json"): settings.format = .json
            case .object: settings.format = .schema(format)
            case .string(let other):
                throw InvalidRequest(field: "format", "`format`: expected \"json\" or a JSON Schema object, found the string \"\(other)\"")
            default: throw InvalidRequest.wrongType("format", expected: "\"json\" or a JSON Schema object", found: format)
            }
        }
        if let keepAlive = object["keep_alive"] {
            switch keepAlive {
            case .string(let text): settings.keepAlive = .duration(text)
            case .int, .double: settings.keepAlive = .seconds(keepAlive.doubleValue!)
            default: throw InvalidRequest.wrongType("keep_alive", expected: "a duration string (\"5m\") or a number of seconds", found: keepAlive)
            }
        }
        if let think = object["think"] {
            switch think {
            case .bool(let flag): settings.think = .enabled(flag)
            case .string(let level) where ["low", "medium", "high"].contains(level): settings.think = .level(level)
            default: throw InvalidRequest(field: "think", "`think`: expected true, false, \"low\", \"medium\" or \"high\", found \(InvalidRequest.show(think))")
            }
        }
        var tools: [ToolDefinition] = []
        if let toolList = object["tools"] {
            guard case .array(let items) = toolList else { throw InvalidRequest.wrongType("tools", expected: "an array", found: toolList) }
            for (index, item) in items.enumerated() {
                guard case .object = item else { throw InvalidRequest.wrongType("tools[\(index)]", expected: "an object", found: item) }
                let name = item["function"]?["name"]?.stringValue ?? ""
                tools.append(ToolDefinition(name: name, raw: item))
            }
        }

        if let idValue = object["id"] {
            guard case .string(let id) = idValue else { throw InvalidRequest.wrongType("id", expected: "a string", found: idValue) }
            guard Self.isValidID(id) else {
                throw InvalidRequest(field: "id", "`id`: expected 1 to 128 of [A-Za-z0-9._-], not starting with '.', found \(InvalidRequest.show(idValue))")
            }
            self.id = id
        } else {
            self.id = nil
        }
        if let timeoutValue = object["timeout"] {
            self.timeout = try Self.duration(timeoutValue, field: "timeout")
        } else {
            self.timeout = nil
        }
        self.metadata = object["metadata"]
        if let priorityValue = object["priority"] {
            guard case .int(let priority) = priorityValue, (-100...100).contains(priority) else {
                throw InvalidRequest(field: "priority", "`priority`: expected an integer from -100 to 100, found \(InvalidRequest.show(priorityValue))")
            }
            self.priority = Int(priority)
        }
        if let input { self.embed = EmbedRequest(model: model, input: input, options: settings.options, keepAlive: settings.keepAlive) }
        self.chat = ChatRequest(model: model, messages: messages, tools: tools, ollama: settings)
    }

    private static func message(_ value: JSONValue, field: String) throws -> ChatMessage {
        guard case .object(let object) = value else { throw InvalidRequest.wrongType(field, expected: "an object", found: value) }
        guard let roleValue = object["role"] else {
            throw InvalidRequest(field: "\(field).role", "`\(field).role`: required, expected system, user, assistant or tool, found nothing")
        }
        guard case .string(let roleText) = roleValue, let role = ChatRole(rawValue: roleText) else {
            throw InvalidRequest(field: "\(field).role", "`\(field).role`: expected system, user, assistant or tool, found \(InvalidRequest.show(roleValue))")
        }
        var content = ""
        if let contentValue = object["content"] {
            guard case .string(let text) = contentValue else { throw InvalidRequest.wrongType("\(field).content", expected: "a string", found: contentValue) }
            content = text
        }
        var images: [String] = []
        if let imageList = object["images"] {
            guard case .array(let items) = imageList else { throw InvalidRequest.wrongType("\(field).images", expected: "an array of base64 strings", found: imageList) }
            for (index, item) in items.enumerated() {
                guard case .string(let image) = item else { throw InvalidRequest.wrongType("\(field).images[\(index)]", expected: "a base64 string", found: item) }
                images.append(image)
            }
        }
        var toolCalls: [ToolCall] = []
        if let callList = object["tool_calls"] {
            guard case .array(let items) = callList else { throw InvalidRequest.wrongType("\(field).tool_calls", expected: "an array", found: callList) }
            for (index, item) in items.enumerated() {
                guard let name = item["function"]?["name"]?.stringValue else {
                    throw InvalidRequest(field: "\(field).tool_calls[\(index)]", "`\(field).tool_calls[\(index)]`: expected {\"function\": {\"name\": …, \"arguments\": {…}}}, found \(InvalidRequest.show(item))")
                }
                toolCalls.append(ToolCall(id: item["id"]?.stringValue, name: name, arguments: item["function"]?["arguments"] ?? [:]))
            }
        }
        var toolName: String?
        if let nameValue = object["tool_name"] {
            guard case .string(let name) = nameValue else { throw InvalidRequest.wrongType("\(field).tool_name", expected: "a string", found: nameValue) }
            toolName = name
        }
        var thinking: String?
        if let thinkingValue = object["thinking"] {
            guard case .string(let text) = thinkingValue else { throw InvalidRequest.wrongType("\(field).thinking", expected: "a string", found: thinkingValue) }
            thinking = text
        }
        return ChatMessage(role: role, content: content, images: images, thinking: thinking, toolCalls: toolCalls, toolName: toolName)
    }

    /// A number of seconds, or a Go-style duration string (`"90s"`, `"5m"`, `"1h30m"`, `"1.5h"`).
    static func duration(_ value: JSONValue, field: String) throws -> Duration {
        let invalid = InvalidRequest(field: field, "`\(field)`: expected a positive number of seconds or a duration like \"30s\", \"5m\", \"1h30m\", found \(InvalidRequest.show(value))")
        let seconds: Double
        switch value {
        case .int, .double: seconds = value.doubleValue!
        case .string(let text): guard let parsed = parseDuration(text) else { throw invalid }
            seconds = parsed
        default: throw invalid
        }
        guard seconds > 0, seconds.isFinite else { throw invalid }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// Seconds from a duration string: Go's units, and days and weeks (`"30d"`, `"2w"`, for `prune`).
    static func parseDuration(_ text: String) -> Double? {
        if let plain = Double(text) { return plain }
        let units: [(String, Double)] = [
            ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800),
        ]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }) else { return nil }
            total += value * unit.1
            rest = rest.dropFirst(unit.0.count)
        }
        return total
    }
}
