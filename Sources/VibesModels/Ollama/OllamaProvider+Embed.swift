//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

extension OllamaProvider {
    /// Embeds texts with `POST /api/embed`.
    ///
    /// Errors are classified as for ``chat(_:)``: a 404 for the model is
    /// ``ModelError/modelNotInstalled(model:detail:)``, an `{"error": …}` body at 200 a server error.
    public func embed(_ request: EmbedRequest) async throws -> EmbedResponse {
        let body = Array(try JSONEncoder().encode(OllamaWire.EmbedBody(request)))
        let reply = try await limited { watchdog in
            try Self.decodeEmbedReply(try await self.exchange(.POST, "/api/embed", body: body, model: request.model, watchdog: watchdog))
        }
        return try Self.embedResponse(reply, request)
    }

    /// A decoded `/api/embed` reply as the neutral response: one vector per input, or an error.
    static func embedResponse(_ reply: OllamaWire.EmbedReply, _ request: EmbedRequest) throws -> EmbedResponse {
        guard reply.embeddings.count == request.input.count else {
            throw ModelError.invalidResponse(
                "/api/embed answered \(reply.embeddings.count) vectors for \(request.input.count) inputs")
        }
        return EmbedResponse(
            model: reply.model ?? request.model,
            embeddings: reply.embeddings,
            promptTokens: reply.promptEvalCount,
            timings: OllamaTimings(totalDuration: reply.totalDuration, loadDuration: reply.loadDuration))
    }

    /// Decodes the reply once (a batch of embeddings is mostly numbers, costly to read twice);
    /// an `{"error": …}` body at 200 is a server error, whatever else it holds.
    static func decodeEmbedReply(_ data: ByteBuffer) throws -> OllamaWire.EmbedReply {
        let decoder = JSONDecoder()
        let reply: OllamaWire.EmbedReply
        do {
            reply = try decoder.decode(OllamaWire.EmbedReply.self, from: data)
        } catch {
            if let errorReply = try? decoder.decode(OllamaWire.ErrorReply.self, from: data) {
                throw ModelError.serverError(status: 200, message: errorReply.error, midStream: false)
            }
            let text = data.getString(at: data.readerIndex, length: min(data.readableBytes, 200)) ?? ""
            throw ModelError.invalidResponse("/api/embed answered something that is not Ollama's JSON: \(text)")
        }
        if let error = reply.error {
            throw ModelError.serverError(status: 200, message: error, midStream: false)
        }
        return reply
    }
}

extension OllamaWire {
    /// `POST /api/embed`: `{model, input, truncate?, options?, keep_alive?, dimensions?}`.
    struct EmbedBody: Encodable {
        var model: String
        var input: [String]
        var truncate: Bool?
        var options: [String: JSONValue]?
        var keepAlive: JSONValue?
        var dimensions: Int?

        enum CodingKeys: String, CodingKey {
            case model, input, truncate, options, dimensions
            case keepAlive = "keep_alive"
        }

        init(_ request: EmbedRequest) {
            model = request.model
            input = request.input
            truncate = request.truncate
            options = request.options.isEmpty ? nil : request.options
            keepAlive = request.keepAlive.map(\.wireValue)
            dimensions = request.dimensions
        }
    }

    /// `{model, embeddings, total_duration, load_duration, prompt_eval_count}`.
    struct EmbedReply: Decodable {
        /// Set on an error body that also looks like a reply.
        var error: String?
        var model: String?
        var embeddings: [[Double]]
        var totalDuration: Int64?
        var loadDuration: Int64?
        var promptEvalCount: Int?

        enum CodingKeys: String, CodingKey {
            case error, model, embeddings
            case totalDuration = "total_duration"
            case loadDuration = "load_duration"
            case promptEvalCount = "prompt_eval_count"
        }
    }
}

extension KeepAlive {
    /// The `keep_alive` value as Ollama reads it: the string, or whole seconds as an integer.
    public var wireValue: JSONValue {
        switch self {
        case .duration(let text): .string(text)
        case .seconds(let seconds): seconds == seconds.rounded() ? .int(Int64(seconds)) : .double(seconds)
        }
    }
}
