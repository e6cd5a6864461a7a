//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOHTTP1

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

    /// One `POST` on our own client under the time limits, without a task: `done` runs once, on
    /// the client's event loop (see ``sendPlain(_:_:_:body:model:watchdog:_:)``).
    private func start(
        _ plain: PlainHTTPClient, _ path: String, body: [UInt8], model: String, _ done: @escaping @Sendable (Result<ByteBuffer, any Error>) -> Void
    ) -> ModelCall {
        let watchdog = ResponseWatchdog(firstByte: configuration.firstByteTimeout, idle: configuration.idleTimeout)
        let registration = timeouts.register(watchdog)
        let exchange = sendPlain(plain, .POST, path, body: body, model: model, watchdog: watchdog) { result in
            self.timeouts.remove(registration)
            done(result)
        }
        return ModelCall(cancel: exchange.cancel)
    }

    /// Sends one request on our own client, ended by `watchdog`'s limits (which the caller
    /// registers): `done` runs once, on the client's event loop, with the body of a 200, or the
    /// error of any other status, of a limit that ran out, or of the connection (classified; a
    /// `CancellationError` when the returned exchange was cancelled). Both the awaited exchanges
    /// (``exchange(_:_:body:model:watchdog:)``) and the started ones come here.
    func sendPlain(
        _ plain: PlainHTTPClient, _ method: HTTPMethod, _ path: String, body: [UInt8]?, model: String?, watchdog: ResponseWatchdog,
        _ done: @escaping @Sendable (Result<ByteBuffer, any Error>) -> Void
    ) -> PlainExchange {
        let exchange = PlainExchange(eventLoop: plain.eventLoop, watchdog: watchdog, maxBytes: configuration.maxBodyBytes)
        exchange.futureResult.whenComplete { result in
            switch result {
            case .success(let reply) where reply.status == .ok:
                done(.success(reply.body))
            case .success(let reply):
                done(.failure(Self.statusError(reply.status, body: reply.body, baseURL: self.configuration.baseURL, model: model)))
            case .failure(let error):
                done(.failure(watchdog.expiry ?? self.classify(error, headReceived: exchange.headReceived, textBytes: 0)))
            }
        }
        plain.execute(method, path: path, body: body, exchange: exchange)
        // Weak: the exchange holds the watchdog, which holds this closure.
        watchdog.onExpiry { [weak exchange] in exchange?.cancel() }
        return exchange
    }
}
