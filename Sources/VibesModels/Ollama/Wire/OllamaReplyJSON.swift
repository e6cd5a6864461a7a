//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension ChatResponse {
    /// The reply as Ollama's own non-streamed `/api/chat` answers it: `{model, created_at,
    /// message: {role, content, thinking?, tool_calls?}, done: true, done_reason, total_duration,
    /// load_duration, prompt_eval_count, prompt_eval_duration, eval_count, eval_duration}`.
    /// Counts and durations Ollama did not report are left out.
    package func ollamaJSON(now: Date = Date()) -> JSONValue {
        var message: [String: JSONValue] = ["role": "assistant", "content": .string(self.message.content)]
        if let thinking = self.message.thinking, !thinking.isEmpty { message["thinking"] = .string(thinking) }
        if !self.message.toolCalls.isEmpty {
            message["tool_calls"] = .array(
                self.message.toolCalls.map { call in
                    let function: JSONValue = ["name": .string(call.name), "arguments": call.arguments]
                    var entry: [String: JSONValue] = ["function": function]
                    if let id = call.id { entry["id"] = .string(id) }
                    return .object(entry)
                })
        }
        var object: [String: JSONValue] = [
            "model": .string(model),
            "created_at": .string(RFC3339.format(createdAt ?? now)),
            "message": .object(message),
            "done": true,
            "done_reason": .string(stopReason?.description ?? "stop"),
        ]
        object["total_duration"] = timings.totalDuration.map { JSONValue.int($0) }
        object["load_duration"] = timings.loadDuration.map { JSONValue.int($0) }
        object["prompt_eval_count"] = usage.promptTokens.map { JSONValue.int(Int64($0)) }
        object["prompt_eval_duration"] = timings.promptEvalDuration.map { JSONValue.int($0) }
        object["eval_count"] = usage.completionTokens.map { JSONValue.int(Int64($0)) }
        object["eval_duration"] = timings.evalDuration.map { JSONValue.int($0) }
        return .object(object)
    }
}

extension EmbedResponse {
    /// The reply as Ollama's `/api/embed` answers it: `{model, embeddings, total_duration,
    /// load_duration, prompt_eval_count}` (what Ollama did not report is left out).
    package var ollamaJSON: JSONValue {
        var object: [String: JSONValue] = [
            "model": .string(model),
            "embeddings": .array(embeddings.map { .array($0.map { .double($0) }) }),
        ]
        object["total_duration"] = timings.totalDuration.map { JSONValue.int($0) }
        object["load_duration"] = timings.loadDuration.map { JSONValue.int($0) }
        object["prompt_eval_count"] = promptTokens.map { JSONValue.int(Int64($0)) }
        return .object(object)
    }
}
