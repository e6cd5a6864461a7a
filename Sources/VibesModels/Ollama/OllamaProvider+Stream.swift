//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

extension OllamaProvider {
    public func chatStream(_ request: ChatRequest) -> ChatStream {
        ChatStream { queue in
            let body = OllamaWire.ChatBody(request, stream: true).jsonBytes
            _ = try await self.limited { watchdog in
                try await self.streamChat(body: body, model: request.model, watchdog: watchdog, output: .queue(queue))
            }
        }
    }

    /// Reads the reply on the HTTP client's event loop and writes its text into `sink` there:
    /// no task switch per chunk (see ``OllamaStreamReader``).
    public func chat(_ request: ChatRequest, streamingTextInto sink: any ChatTextSink) async throws -> ChatResponse {
        let body = OllamaWire.ChatBody(request, stream: true).jsonBytes
        return try await limited { watchdog in
            try await self.streamChat(body: body, model: request.model, watchdog: watchdog, output: .sink(sink))
        }
    }

    /// One streamed `/api/chat` exchange, read by an ``OllamaStreamReader`` on the event loop of
    /// its connection (it asks for more bytes in the same call that handed them over, so
    /// AsyncHTTPClient never holds any back).
    private func streamChat(
        body: [UInt8], model: String, watchdog: ResponseWatchdog, output: OllamaStreamReader.Output
    ) async throws -> ChatResponse {
        let baseURL = configuration.baseURL
        let reader = OllamaStreamReader(model: model, output: output, watchdog: watchdog) { status, body in
            OllamaProvider.statusError(status, body: body, baseURL: baseURL, model: model)
        }
        return try await send(.POST, "/api/chat", body: body, reading: reader, watchdog: watchdog)
    }

    /// Decodes one reply object (a stream line or a whole reply), checking for `{"error": …}` before
    /// anything else is read from it: such a line is a server error even at status 200.
    static func decodeChatReply(_ line: ByteBuffer) throws -> OllamaWire.ChatReply {
        try line.withUnsafeReadableBytes { try decodeChatReply($0) }
    }

    static func decodeChatReply(_ line: UnsafeRawBufferPointer) throws -> OllamaWire.ChatReply {
        // The usual reply, read without JSON values; anything else as follows.
        if let reply = OllamaLineScanner.reply(line) { return reply }
        let json = JSONValue.parse(utf8: line)
        guard let json, let reply = OllamaWire.ChatReply(json: json) else {
            // An error object whose other fields are not a chat reply's is still an error.
            if let error = json?["error"]?.stringValue {
                throw ModelError.serverError(status: 200, message: error, midStream: true)
            }
            let text = String(decoding: line.prefix(200), as: UTF8.self)
            throw ModelError.invalidResponse("the reply is not Ollama's JSON: \(text)")
        }
        if let error = reply.error {
            throw ModelError.serverError(status: 200, message: error, midStream: true)
        }
        return reply
    }
}
