//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Where ``ModelProvider/chat(_:streamingTextInto:)`` puts the reply text as it arrives.
///
/// Called one call at a time, in order, on the thread where the bytes arrived (for Ollama: the
/// HTTP client's event-loop thread, which reads the next bytes only after the call returns). So
/// it must be quick and must not wait for other tasks: appending to a buffer or one `write(2)`
/// to a local file is fine. Throwing stops the reply; the chat call rethrows the error.
public protocol ChatTextSink: Sendable {
    /// UTF-8 reply text, whole characters: the text of all the lines that arrived together,
    /// in one call. Never empty.
    func write(_ text: UnsafeRawBufferPointer) throws
}

extension ModelProvider {
    /// Runs a chat, hands the reply text to `sink` as it arrives, and returns the rest of the
    /// reply: thinking, tool calls, stop reason, usage and timings (`message.content` is empty:
    /// the text went to the sink).
    ///
    /// This default goes through ``chatStream(_:)``; a provider may read its stream straight into
    /// the sink (``OllamaProvider`` does).
    public func chat(_ request: ChatRequest, streamingTextInto sink: any ChatTextSink) async throws -> ChatResponse {
        var response = ChatResponse(model: request.model, message: ChatMessage(role: .assistant, content: ""))
        var thinking = ""
        for try await chunk in chatStream(request) {
            if !chunk.textDelta.isEmpty {
                var text = chunk.textDelta
                try text.withUTF8 { try sink.write(UnsafeRawBufferPointer($0)) }
            }
            response.absorb(chunk, thinking: &thinking)
        }
        response.message.thinking = thinking.isEmpty ? nil : thinking
        return response
    }
}

extension ChatResponse {
    /// Takes everything but the text of a chunk: its thinking (into `thinking`), tool calls, and
    /// the final chunk's stop reason, usage and timings.
    package mutating func absorb(_ chunk: ChatChunk, thinking: inout String) {
        thinking += chunk.thinkingDelta
        message.toolCalls += chunk.toolCalls
        if let model = chunk.model, !model.isEmpty { self.model = model }
        if createdAt == nil { createdAt = chunk.createdAt }
        if chunk.done {
            stopReason = chunk.stopReason
            usage = chunk.usage ?? Usage()
            timings = chunk.timings ?? OllamaTimings()
        }
    }
}
