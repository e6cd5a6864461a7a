//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// OpenAI's chat completions API translated to and from the neutral chat types, so that an
/// OpenAI body runs on Ollama's `/api/chat` (nothing is sent to OpenAI).
///
/// A request body (`POST /v1/chat/completions`) becomes a ``ChatRequest``:
///
/// | OpenAI field | neutral field (Ollama `/api/chat`) |
/// | --- | --- |
/// | `model` | `model` (required, an Ollama model name) |
/// | `messages[].role` | `role`; `developer` → `system`; `function` is refused |
/// | `messages[].content` string | the message text |
/// | `messages[].content` parts `{type: "text", text}` | the message text (parts joined with `\n`) |
/// | `messages[].content` parts `{type: "image_url", image_url: {url: "data:…;base64,…"}}` | `images` (the base64 payload); an `http(s)` URL is refused: nothing is fetched |
/// | `messages[].tool_calls[].function` `{name, arguments}` (arguments a JSON string) | `tool_calls[].function` (arguments as a JSON object) |
/// | `messages[]` with role `tool`, `tool_call_id` | `role: tool`, `tool_name` (the name of the call with that id) |
/// | `max_completion_tokens`, else `max_tokens` | `options.num_predict` |
/// | `temperature` | `options.temperature` |
/// | `top_p` | `options.top_p` |
/// | `seed` | `options.seed` |
/// | `stop` (a string or a list) | `options.stop` (a list) |
/// | `frequency_penalty`, `presence_penalty` | `options.frequency_penalty`, `options.presence_penalty` |
/// | `response_format` `{type: "json_object"}` | `format: "json"` |
/// | `response_format` `{type: "json_schema", json_schema: {schema}}` | `format`: the schema |
/// | `response_format` `{type: "text"}` | nothing |
/// | `tools` `[{type: "function", function: {name, description?, parameters?}}]` | `tools`, as given |
/// | `tool_choice` `"auto"` / `"none"` | nothing / no `tools` sent |
/// | `reasoning_effort` `low`, `medium`, `high` | `think`: that level |
/// | `reasoning_effort` `none`, `minimal` | `think: false` |
/// | `n: 1`, `stream: false`, `logprobs: false` | nothing |
/// | `user`, `metadata`, `store`, `service_tier`, `parallel_tool_calls`, `stream_options`, other fields | ignored |
///
/// Refused (a ``InvalidRequest`` naming the field): `n` > 1, `stream: true`, `logprobs: true`,
/// `top_logprobs`, a non-empty `logit_bias`, `audio` or `modalities` with `audio`, `functions`
/// and `function_call` (the old form of `tools`), `tool_choice` `"required"` or a named tool
/// (Ollama cannot force a call), remote image URLs, content parts other than text and images.
package enum OpenAIChat {
    /// Translates an OpenAI chat completions request body.
    /// - Throws: ``InvalidRequest`` naming the field at fault.
    package static func request(from body: [String: JSONValue]) throws(InvalidRequest) -> ChatRequest {
        let fields = FieldReader(body)
        try refuseUnsupported(fields)
        let model = try fields.requiredString("model", "a string naming an Ollama model")
        guard let list = try fields.array("messages", "an array of messages") else {
            throw InvalidRequest(field: "messages", "`messages`: required, expected an array of messages, found nothing")
        }
        guard !list.isEmpty else {
            throw InvalidRequest(field: "messages", "`messages`: expected at least one message, found an empty array")
        }
        var messages: [ChatMessage] = []
        var toolNames: [String: String] = [:]
        for (index, item) in list.enumerated() {
            let message = try Self.message(item, field: "messages[\(index)]", toolNames: toolNames)
            for call in message.toolCalls { if let id = call.id { toolNames[id] = call.name } }
            messages.append(message)
        }

        var request = ChatRequest(model: model, messages: messages)
        if let limit = try fields.int("max_completion_tokens") {
            request.maxTokens = limit
        } else {
            request.maxTokens = try fields.int("max_tokens")
        }
        request.temperature = try fields.double("temperature")
        request.seed = try fields.int("seed", minimum: Int(Int64.min))
        request.stop = try fields.stringOrList("stop")
        for key in ["top_p", "frequency_penalty", "presence_penalty"] {
            if let value = try fields.double(key) { request.ollama.options[key] = .double(value) }
        }
        request.ollama.format = try format(fields)
        request.ollama.think = try think(fields)
        request.tools = try tools(fields)
        return request
    }

    private static func refuseUnsupported(_ fields: FieldReader) throws(InvalidRequest) {
        if let n = try fields.int("n", minimum: 1), n > 1 {
            throw .refused("n", "expected 1, found \(n): one choice per line (send one line per completion wanted)")
        }
        if try fields.bool("stream") == true {
            throw .refused("stream", "expected false or nothing, found true: batch lines are not streamed")
        }
        if try fields.bool("logprobs") == true {
            throw .refused("logprobs", "expected false or nothing, found true: Ollama reports no log probabilities here")
        }
        if fields.value("top_logprobs") != nil {
            throw .refused("top_logprobs", "not supported: Ollama reports no log probabilities here")
        }
        if let bias = fields.value("logit_bias"), bias != .object([:]) {
            throw .refused("logit_bias", "not supported by Ollama")
        }
        if fields.value("audio") != nil || (fields.value("modalities")?.arrayValue ?? []).contains("audio") {
            throw .refused(fields.value("audio") != nil ? "audio" : "modalities", "audio output is not supported by Ollama")
        }
        for old in ["functions", "function_call"] where fields.value(old) != nil {
            throw .refused(old, "the old form of tools is not supported; use `tools`")
        }
    }

    private static func message(_ value: JSONValue, field: String, toolNames: [String: String]) throws(InvalidRequest) -> ChatMessage {
        guard case .object(let object) = value else { throw .wrongValue(field, expected: "a message object", found: value) }
        let fields = FieldReader(object, path: field + ".")
        let roleName = try fields.requiredString("role", "system, developer, user, assistant or tool")
        let role: ChatRole
        switch roleName {
        case "system", "developer": role = .system
        case "user": role = .user
        case "assistant": role = .assistant
        case "tool": role = .tool
        default:
            throw InvalidRequest(field: "\(field).role", "`\(field).role`: expected system, developer, user, assistant or tool, found \"\(roleName)\"")
        }
        var message = ChatMessage(role: role, content: "")
        switch fields.value("content") {
        case nil: break
        case .string(let text)?: message.content = text
        case .array(let parts)?:
            var texts: [String] = []
            for (index, part) in parts.enumerated() {
                let partField = "\(field).content[\(index)]"
                switch try Self.part(part, field: partField) {
                case .text(let text): texts.append(text)
                case .image(let base64): message.images.append(base64)
                }
            }
            message.content = texts.joined(separator: "\n")
        case let other?:
            throw .wrongValue("\(field).content", expected: "a string or an array of content parts", found: other)
        }
        for (index, call) in (try fields.array("tool_calls") ?? []).enumerated() {
            message.toolCalls.append(try toolCall(call, field: "\(field).tool_calls[\(index)]"))
        }
        if role == .tool, let id = try fields.string("tool_call_id") {
            message.toolName = toolNames[id]
        }
        return message
    }

    private enum Part { case text(String), image(String) }

    private static func part(_ value: JSONValue, field: String) throws(InvalidRequest) -> Part {
        guard case .object(let object) = value else { throw .wrongValue(field, expected: "a content part object", found: value) }
        let fields = FieldReader(object, path: field + ".")
        switch try fields.requiredString("type", "\"text\" or \"image_url\"") {
        case "text":
            return .text(try fields.string("text") ?? "")
        case "image_url":
            let url: String
            if let nested = try? fields.objectValue("image_url"), let text = nested["url"]?.stringValue {
                url = text
            } else if let text = try? fields.string("image_url") {
                url = text
            } else {
                throw InvalidRequest(field: "\(field).image_url.url", "`\(field).image_url.url`: required, expected a data: URL, found nothing")
            }
            return .image(try imagePayload(url, field: "\(field).image_url.url"))
        case let other:
            throw .refused("\(field).type", "expected \"text\" or \"image_url\", found \"\(other)\": other content parts are not supported")
        }
    }

    /// The base64 payload of a `data:` URL. Remote URLs are refused: nothing is fetched.
    static func imagePayload(_ url: String, field: String) throws(InvalidRequest) -> String {
        if url.hasPrefix("http://") || url.hasPrefix("https://") {
            throw .refused(field, "remote image URLs are not fetched; embed the image as a data: URL (data:image/png;base64,…)")
        }
        guard url.hasPrefix("data:"), let marker = url.firstRange(of: ";base64,") else {
            throw .refused(field, "expected a data: URL with base64 content (data:image/png;base64,…), found \(InvalidRequest.show(.string(url)))")
        }
        return String(url[marker.upperBound...])
    }

    private static func toolCall(_ value: JSONValue, field: String) throws(InvalidRequest) -> ToolCall {
        guard let name = value["function"]?["name"]?.stringValue else {
            throw InvalidRequest(field: field, "`\(field)`: expected {\"type\": \"function\", \"function\": {\"name\": …, \"arguments\": \"{…}\"}}, found \(InvalidRequest.show(value))")
        }
        var arguments: JSONValue = [:]
        switch value["function"]?["arguments"] {
        case .string(let text)?:
            guard let parsed = try? JSONValue.parse(text) else {
                throw .refused("\(field).function.arguments", "expected a string holding a JSON object, found \(InvalidRequest.show(.string(text)))")
            }
            arguments = parsed
        case .object(let object)?: arguments = .object(object)
        default: break
        }
        return ToolCall(id: value["id"]?.stringValue, name: name, arguments: arguments)
    }

    private static func format(_ fields: FieldReader) throws(InvalidRequest) -> ResponseFormat? {
        guard let format = try fields.objectValue("response_format") else { return nil }
        let inner = FieldReader(format, path: "response_format.")
        switch try inner.requiredString("type", "\"text\", \"json_object\" or \"json_schema\"") {
        case "text": return nil
        case "json_object": return .json
        case "json_schema":
            guard let schema = try inner.objectValue("json_schema")?["schema"], case .object = schema else {
                throw InvalidRequest(field: "response_format.json_schema.schema", "`response_format.json_schema.schema`: required, expected a JSON Schema object, found nothing")
            }
            return .schema(schema)
        case let other:
            throw InvalidRequest(field: "response_format.type", "`response_format.type`: expected \"text\", \"json_object\" or \"json_schema\", found \"\(other)\"")
        }
    }

    private static func think(_ fields: FieldReader) throws(InvalidRequest) -> ThinkSetting? {
        guard let effort = try fields.string("reasoning_effort") else { return nil }
        switch effort {
        case "low", "medium", "high": return .level(effort)
        case "none", "minimal": return .enabled(false)
        default:
            throw InvalidRequest(field: "reasoning_effort", "`reasoning_effort`: expected none, minimal, low, medium or high, found \"\(effort)\"")
        }
    }

    private static func tools(_ fields: FieldReader) throws(InvalidRequest) -> [ToolDefinition] {
        switch fields.value("tool_choice") {
        case nil, .string("auto")?: break
        case .string("none")?: return []
        case let other?:
            throw .refused("tool_choice", "expected \"auto\" or \"none\", found \(InvalidRequest.show(other)): Ollama cannot force a tool call")
        }
        var tools: [ToolDefinition] = []
        for (index, item) in (try fields.array("tools") ?? []).enumerated() {
            let field = "tools[\(index)]"
            guard case .object = item, item["type"] == "function", let function = item["function"]?.objectValue,
                let name = function["name"]?.stringValue
            else {
                throw InvalidRequest(field: field, "`\(field)`: expected {\"type\": \"function\", \"function\": {\"name\": …, \"parameters\": {…}}}, found \(InvalidRequest.show(item))")
            }
            tools.append(ToolDefinition(name: name, description: function["description"]?.stringValue, parameters: function["parameters"], raw: item))
        }
        return tools
    }
}
