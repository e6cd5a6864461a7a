//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension OpenAIChat {
    /// A reply as OpenAI's `chat.completion` object:
    ///
    /// | `chat.completion` field | from the neutral reply (Ollama's `/api/chat` answer) |
    /// | --- | --- |
    /// | `id` | `id` (the caller's, `chatcmpl-…`) |
    /// | `object` | `"chat.completion"` |
    /// | `created` | `created_at` in Unix seconds (else `now`) |
    /// | `model` | `model` |
    /// | `system_fingerprint` | `"fp_ollama"` |
    /// | `choices[0].index` | `0` |
    /// | `choices[0].message.role` | `"assistant"` |
    /// | `choices[0].message.content` | `message.content`; `null` when empty and there are tool calls |
    /// | `choices[0].message.reasoning` | `message.thinking`, when there is any (as Ollama's own OpenAI API) |
    /// | `choices[0].message.tool_calls[]` | `{id, type: "function", function: {name, arguments}}`: `arguments` as a JSON string, `id` the call's or `call_<index>` |
    /// | `choices[0].finish_reason` | `length` for `length`; `tool_calls` when the reply has tool calls; else `stop` |
    /// | `choices[0].logprobs` | `null` |
    /// | `usage.prompt_tokens`, `usage.completion_tokens` | `prompt_eval_count`, `eval_count` (0 when not reported) |
    /// | `usage.total_tokens` | their sum |
    package static func completion(_ response: ChatResponse, id: String, now: Date = Date()) -> JSONValue {
        let reply = response.message
        var message: [String: JSONValue] = ["role": "assistant"]
        message["content"] = reply.content.isEmpty && !reply.toolCalls.isEmpty ? .null : .string(reply.content)
        if let thinking = reply.thinking, !thinking.isEmpty { message["reasoning"] = .string(thinking) }
        if !reply.toolCalls.isEmpty {
            message["tool_calls"] = .array(
                reply.toolCalls.enumerated().map { index, call -> JSONValue in
                    let function: [String: JSONValue] = ["name": .string(call.name), "arguments": .string(call.arguments.compactJSON)]
                    return .object(["id": .string(call.id ?? "call_\(index)"), "type": .string("function"), "function": .object(function)])
                })
        }
        let finishReason: String
        switch response.stopReason {
        case .length?: finishReason = "length"
        case _ where !reply.toolCalls.isEmpty: finishReason = "tool_calls"
        case .toolCalls?: finishReason = "tool_calls"
        default: finishReason = "stop"
        }
        let prompt = Int64(response.usage.promptTokens ?? 0)
        let completion = Int64(response.usage.completionTokens ?? 0)
        var choice: [String: JSONValue] = ["index": .int(0), "message": .object(message)]
        choice["finish_reason"] = .string(finishReason)
        choice["logprobs"] = .null
        var usage: [String: JSONValue] = ["prompt_tokens": .int(prompt), "completion_tokens": .int(completion)]
        usage["total_tokens"] = .int(prompt + completion)
        var object: [String: JSONValue] = ["id": .string(id), "object": .string("chat.completion")]
        object["created"] = .int(Int64((response.createdAt ?? now).timeIntervalSince1970))
        object["model"] = .string(response.model)
        object["system_fingerprint"] = .string("fp_ollama")
        object["choices"] = .array([.object(choice)])
        object["usage"] = .object(usage)
        return .object(object)
    }
}

extension JSONValue {
    /// The value as compact JSON text, keys sorted.
    package var compactJSON: String {
        String(decoding: jsonBytes, as: UTF8.self)
    }
}
