//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOHTTP1

/// Ollama's JSON shapes, kept internal: the package API is the provider-neutral chat types.
enum OllamaWire {
    /// The headers every request to Ollama carries (`Content-Type` when it has a JSON body).
    static func requestHeaders(jsonBody: Bool) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/json, application/x-ndjson")
        headers.add(name: "User-Agent", value: "vibes-spool")
        if jsonBody { headers.add(name: "Content-Type", value: "application/json") }
        return headers
    }

    // MARK: Requests

    struct ChatBody: Encodable {
        var model: String
        var messages: [Message]
        var tools: [JSONValue]?
        var format: JSONValue?
        var options: [String: JSONValue]?
        var stream: Bool
        var keepAlive: JSONValue?
        var think: JSONValue?

        enum CodingKeys: String, CodingKey {
            case model, messages, tools, format, options, stream, think
            case keepAlive = "keep_alive"
        }
    }

    struct Message: Codable {
        var role: String
        var content: String
        var thinking: String?
        var images: [String]?
        var toolCalls: [WireToolCall]?
        var toolName: String?

        enum CodingKeys: String, CodingKey {
            case role, content, thinking, images
            case toolCalls = "tool_calls"
            case toolName = "tool_name"
        }
    }

    struct WireToolCall: Codable {
        struct Function: Codable {
            var index: Int?
            var name: String
            var arguments: JSONValue?
        }
        var id: String?
        var function: Function
    }

    struct ShowBody: Encodable {
        var model: String
    }

    // MARK: Responses

    /// One `/api/chat` reply object (a whole reply, or one NDJSON line of a stream).
    struct ChatReply {
        /// Set on an error line (`{"error": …}`, or a look-alike's final line with `error`).
        var error: String?
        var model: String?
        var createdAt: String?
        var message: Message?
        var done: Bool?
        var doneReason: String?
        var totalDuration: Int64?
        var loadDuration: Int64?
        var promptEvalCount: Int?
        var promptEvalDuration: Int64?
        var evalCount: Int?
        var evalDuration: Int64?
    }

    /// `{"error": "…"}`, Ollama's error body, also sent as a line mid-stream.
    struct ErrorReply: Decodable {
        var error: String
    }

    struct TagsReply: Decodable {
        struct Model: Decodable {
            var name: String?
            var model: String?
            var modifiedAt: String?
            var size: Int64?
            var digest: String?

            enum CodingKeys: String, CodingKey {
                case name, model, size, digest
                case modifiedAt = "modified_at"
            }
        }
        var models: [Model]?
    }

    struct ShowReply: Decodable {
        var modelInfo: [String: JSONValue]?
        var capabilities: [String]?
        var parameters: String?

        enum CodingKeys: String, CodingKey {
            case capabilities, parameters
            case modelInfo = "model_info"
        }
    }

    struct VersionReply: Decodable {
        var version: String
    }
}

// MARK: - Mapping between the neutral types and the wire

extension OllamaWire.ChatBody {
    init(_ request: ChatRequest, stream: Bool) {
        var options = request.ollama.options
        if let temperature = request.temperature { options["temperature"] = .double(temperature) }
        if let maxTokens = request.maxTokens { options["num_predict"] = .int(Int64(maxTokens)) }
        if let stop = request.stop { options["stop"] = .array(stop.map { .string($0) }) }
        if let seed = request.seed { options["seed"] = .int(Int64(seed)) }

        self.init(
            model: request.model,
            messages: request.messages.map(OllamaWire.Message.init),
            tools: request.tools.isEmpty ? nil : request.tools.map(\.ollamaJSON),
            format: request.ollama.format.map {
                switch $0 {
                case .json: .string("json")
                case .schema(let schema): schema
                }
            },
            options: options.isEmpty ? nil : options,
            stream: stream,
            keepAlive: request.ollama.keepAlive.map {
                switch $0 {
                case .duration(let text): .string(text)
                case .seconds(let seconds):
                    seconds == seconds.rounded() ? .int(Int64(seconds)) : .double(seconds)
                }
            },
            think: request.ollama.think.map {
                switch $0 {
                case .enabled(let flag): .bool(flag)
                case .level(let level): .string(level)
                }
            }
        )
    }
}

extension OllamaWire.Message {
    init(_ message: ChatMessage) {
        self.init(
            role: message.role.rawValue,
            content: message.content,
            thinking: message.thinking,
            images: message.images.isEmpty ? nil : message.images,
            toolCalls: message.toolCalls.isEmpty
                ? nil
                : message.toolCalls.map {
                    OllamaWire.WireToolCall(id: $0.id, function: .init(name: $0.name, arguments: $0.arguments))
                },
            toolName: message.toolName
        )
    }

    var neutral: ChatMessage {
        ChatMessage(
            role: ChatRole(rawValue: role) ?? .assistant,
            content: content,
            images: images ?? [],
            thinking: thinking.flatMap { $0.isEmpty ? nil : $0 },
            toolCalls: (toolCalls ?? []).map {
                ToolCall(id: $0.id, name: $0.function.name, arguments: $0.function.arguments ?? .object([:]))
            },
            toolName: toolName
        )
    }
}

extension ToolDefinition {
    /// Ollama's (OpenAI-style) tool JSON: the caller's own when given, else built.
    var ollamaJSON: JSONValue {
        if let raw { return raw }
        var function: [String: JSONValue] = ["name": .string(name)]
        if let description { function["description"] = .string(description) }
        function["parameters"] = parameters ?? ["type": "object", "properties": [:]]
        return ["type": "function", "function": .object(function)]
    }
}

extension OllamaWire.ChatReply {
    var usage: Usage { Usage(promptTokens: promptEvalCount, completionTokens: evalCount) }

    var timings: OllamaTimings {
        OllamaTimings(
            totalDuration: totalDuration, loadDuration: loadDuration, promptEvalDuration: promptEvalDuration,
            evalDuration: evalDuration)
    }

    var chunk: ChatChunk {
        let isDone = done ?? false
        return ChatChunk(
            textDelta: message?.content ?? "",
            thinkingDelta: message?.thinking ?? "",
            toolCalls: message?.neutral.toolCalls ?? [],
            done: isDone,
            stopReason: isDone ? doneReason.map(StopReason.init(ollama:)) ?? .stop : nil,
            usage: isDone ? usage : nil,
            timings: isDone ? timings : nil,
            model: model,
            createdAt: createdAt.flatMap(RFC3339.parse)
        )
    }
}
