//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Who wrote a message.
public enum ChatRole: String, Sendable, Hashable, Codable {
    case system, user, assistant, tool
}

/// A tool the model may call: a function with a JSON Schema for its parameters.
public struct ToolDefinition: Sendable, Hashable {
    public var name: String
    public var description: String?
    public var parameters: JSONValue?
    /// The definition exactly as the caller gave it, when it came from a provider's own format.
    /// Providers that speak that format send it unchanged.
    public var raw: JSONValue?

    public init(name: String, description: String? = nil, parameters: JSONValue? = nil, raw: JSONValue? = nil) {
        self.name = name
        self.description = description
        self.parameters = parameters
        self.raw = raw
    }
}

/// A call of a tool, as the model asked for it.
public struct ToolCall: Sendable, Hashable {
    public var id: String?
    public var name: String
    public var arguments: JSONValue

    public init(id: String? = nil, name: String, arguments: JSONValue) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// One message of a conversation: text, optional images, tool calls.
public struct ChatMessage: Sendable, Hashable {
    public var role: ChatRole
    public var content: String
    /// Images as base64 (what Ollama's API carries), without a `data:` prefix.
    public var images: [String]
    public var thinking: String?
    public var toolCalls: [ToolCall]
    /// For `role == .tool`: the name of the tool this message answers.
    public var toolName: String?

    public init(
        role: ChatRole, content: String, images: [String] = [], thinking: String? = nil,
        toolCalls: [ToolCall] = [], toolName: String? = nil
    ) {
        self.role = role
        self.content = content
        self.images = images
        self.thinking = thinking
        self.toolCalls = toolCalls
        self.toolName = toolName
    }

    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: .system, content: text) }
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, content: text) }
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: .assistant, content: text) }
}

/// How long Ollama keeps a model loaded after a request.
public enum KeepAlive: Sendable, Hashable {
    /// A duration string in Ollama's syntax (`"5m"`, `"1h"`, `"-1"`).
    case duration(String)
    /// Seconds; negative keeps the model loaded forever, `0` unloads it at once.
    case seconds(Double)
}

/// Structured output: any JSON, or a JSON Schema the reply must follow.
public enum ResponseFormat: Sendable, Hashable {
    case json
    case schema(JSONValue)
}

/// Whether a thinking model thinks, and how hard.
public enum ThinkSetting: Sendable, Hashable {
    case enabled(Bool)
    /// `"low"`, `"medium"` or `"high"`.
    case level(String)
}

/// Settings only Ollama understands, passed through as they are.
public struct OllamaSettings: Sendable, Hashable {
    /// Ollama's `options` (`num_ctx`, `top_k`, …). ``ChatRequest``'s own fields win over the same keys.
    public var options: [String: JSONValue]
    public var format: ResponseFormat?
    public var keepAlive: KeepAlive?
    public var think: ThinkSetting?

    public init(
        options: [String: JSONValue] = [:], format: ResponseFormat? = nil, keepAlive: KeepAlive? = nil,
        think: ThinkSetting? = nil
    ) {
        self.options = options
        self.format = format
        self.keepAlive = keepAlive
        self.think = think
    }
}

/// A chat request in provider-neutral terms, plus provider-specific settings.
public struct ChatRequest: Sendable, Hashable {
    /// The provider's model name (`llama3.2`, `qwen2.5:7b`).
    public var model: String
    public var messages: [ChatMessage]
    public var temperature: Double?
    public var maxTokens: Int?
    public var stop: [String]?
    public var seed: Int?
    public var tools: [ToolDefinition]
    public var ollama: OllamaSettings

    public init(
        model: String, messages: [ChatMessage], temperature: Double? = nil, maxTokens: Int? = nil,
        stop: [String]? = nil, seed: Int? = nil, tools: [ToolDefinition] = [], ollama: OllamaSettings = .init()
    ) {
        self.model = model
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.stop = stop
        self.seed = seed
        self.tools = tools
        self.ollama = ollama
    }
}

/// Why the model stopped.
public enum StopReason: Sendable, Hashable, CustomStringConvertible {
    /// It finished (or hit a stop sequence).
    case stop
    /// It hit the output token limit.
    case length
    /// It asked for tool calls.
    case toolCalls
    /// The model was loaded or unloaded, not run (Ollama's `load` / `unload`).
    case load
    case other(String)

    public init(ollama value: String) {
        switch value {
        case "stop": self = .stop
        case "length": self = .length
        case "tool_calls": self = .toolCalls
        case "load", "unload": self = .load
        default: self = .other(value)
        }
    }

    /// The provider's own spelling (`stop`, `length`, …).
    public var description: String {
        switch self {
        case .stop: "stop"
        case .length: "length"
        case .toolCalls: "tool_calls"
        case .load: "load"
        case .other(let value): value
        }
    }
}

/// Token counts of one exchange.
public struct Usage: Sendable, Hashable {
    public var promptTokens: Int?
    public var completionTokens: Int?

    public init(promptTokens: Int? = nil, completionTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// Ollama's own timings, in nanoseconds as it reports them.
public struct OllamaTimings: Sendable, Hashable {
    public var totalDuration: Int64?
    public var loadDuration: Int64?
    public var promptEvalDuration: Int64?
    public var evalDuration: Int64?

    public init(
        totalDuration: Int64? = nil, loadDuration: Int64? = nil, promptEvalDuration: Int64? = nil,
        evalDuration: Int64? = nil
    ) {
        self.totalDuration = totalDuration
        self.loadDuration = loadDuration
        self.promptEvalDuration = promptEvalDuration
        self.evalDuration = evalDuration
    }
}

/// A whole reply.
public struct ChatResponse: Sendable, Hashable {
    public var model: String
    public var createdAt: Date?
    /// The assistant message: text, thinking, tool calls.
    public var message: ChatMessage
    public var stopReason: StopReason?
    public var usage: Usage
    public var timings: OllamaTimings

    public init(
        model: String, createdAt: Date? = nil, message: ChatMessage, stopReason: StopReason? = nil,
        usage: Usage = .init(), timings: OllamaTimings = .init()
    ) {
        self.model = model
        self.createdAt = createdAt
        self.message = message
        self.stopReason = stopReason
        self.usage = usage
        self.timings = timings
    }
}

/// A piece of a streamed reply. The last one has `done == true` and carries stop reason and usage.
public struct ChatChunk: Sendable, Hashable {
    public var textDelta: String
    public var thinkingDelta: String
    public var toolCalls: [ToolCall]
    public var done: Bool
    public var stopReason: StopReason?
    public var usage: Usage?
    public var timings: OllamaTimings?
    public var model: String?
    public var createdAt: Date?

    public init(
        textDelta: String = "", thinkingDelta: String = "", toolCalls: [ToolCall] = [], done: Bool = false,
        stopReason: StopReason? = nil, usage: Usage? = nil, timings: OllamaTimings? = nil, model: String? = nil,
        createdAt: Date? = nil
    ) {
        self.textDelta = textDelta
        self.thinkingDelta = thinkingDelta
        self.toolCalls = toolCalls
        self.done = done
        self.stopReason = stopReason
        self.usage = usage
        self.timings = timings
        self.model = model
        self.createdAt = createdAt
    }
}
