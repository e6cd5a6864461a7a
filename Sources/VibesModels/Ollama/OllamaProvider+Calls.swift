//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// Whole replies without a task: the request goes out, and its reply is read and handed to a
/// completion on the event loop that read it. A batch's lines come this way; per line, that is
/// no task to create, run and resume, and no continuation. An `https://` host (AsyncHTTPClient)
/// runs the async methods in a task instead.
extension OllamaProvider {
    public func startChat(_ request: ChatRequest, completion: @escaping @Sendable (Result<ChatResponse, any Error>) -> Void) -> ModelCall {
        guard let plain else { return ModelCall.inTask(preferring: taskExecutor, completion) { try await self.chat(request) } }
        let body = OllamaWire.ChatBody(request, stream: false).jsonBytes
        return start(plain, "/api/chat", body: body, model: request.model) { result in
            completion(result.flatMap { data in Result { Self.chatResponse(try Self.decodeChatReply(data), request) } })
        }
    }

    public func startEmbed(_ request: EmbedRequest, completion: @escaping @Sendable (Result<EmbedResponse, any Error>) -> Void) -> ModelCall {
        guard let plain else { return ModelCall.inTask(preferring: taskExecutor, completion) { try await self.embed(request) } }
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(OllamaWire.EmbedBody(request)))
        } catch {
            completion(.failure(error))
            return ModelCall {}
        }
        return start(plain, "/api/embed", body: body, model: request.model) { result in
            completion(result.flatMap { data in Result { try Self.embedResponse(try Self.decodeEmbedReply(data), request) } })
        }
    }

    /// One `POST` on our own client under the time limits: `done` runs once, on the client's
    /// event loop, with the body of a 200 or the error that ``exchange(_:_:body:model:watchdog:)``
    /// would throw (a `CancellationError` when cancelled).
    private func start(
        _ plain: PlainHTTPClient, _ path: String, body: [UInt8], model: String, _ done: @escaping @Sendable (Result<ByteBuffer, any Error>) -> Void
    ) -> ModelCall {
        let watchdog = ResponseWatchdog(firstByte: configuration.firstByteTimeout, idle: configuration.idleTimeout)
        let registration = timeouts.register(watchdog)
        let exchange = PlainExchange(eventLoop: plain.eventLoop, watchdog: watchdog, maxBytes: configuration.maxBodyBytes)
        exchange.futureResult.whenComplete { result in
            self.timeouts.remove(registration)
            switch result {
            case .success(let reply) where reply.status == .ok:
                done(.success(reply.body))
            case .success(let reply):
                done(.failure(Self.statusError(reply.status, body: reply.body, baseURL: self.configuration.baseURL, model: model)))
            case .failure(let error):
                done(.failure(watchdog.expiry ?? self.classify(error, headReceived: exchange.headReceived, textBytes: 0)))
            }
        }
        plain.execute(.POST, path: path, body: body, exchange: exchange)
        // Weak: the exchange holds the watchdog, which holds this closure.
        watchdog.onExpiry { [weak exchange] in exchange?.cancel() }
        return ModelCall(cancel: exchange.cancel)
    }
}
