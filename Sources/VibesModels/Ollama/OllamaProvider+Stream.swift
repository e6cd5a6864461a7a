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

    /// Reads one reply object (a stream line or a whole reply) with the one reply reader
    /// (``OllamaWire/ChatReply/read(_:)``): an `{"error": …}` object is a server error even at
    /// status 200.
    static func decodeChatReply(_ line: ByteBuffer) throws -> OllamaWire.ChatReply {
        try line.withUnsafeReadableBytes { try OllamaWire.ChatReply.read($0) }
    }
}
