//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// A source of models: local (Ollama) or remote.
///
/// Errors thrown by a provider are ``ModelError``s.
public protocol ModelProvider: Sendable {
    /// The provider's short name, used as the prefix of ``ModelInfo/id`` (`ollama`).
    var name: String { get }

    /// The models this provider can run now.
    func models() async throws -> [ModelInfo]

    /// Runs a chat to completion and returns the whole reply.
    func chat(_ request: ChatRequest) async throws -> ChatResponse

    /// Runs a chat and yields the reply as it is generated.
    ///
    /// The last chunk has `done == true` and carries the stop reason and usage. Cancelling the
    /// consuming task, or dropping the iterator, stops the generation (for Ollama: closes the
    /// connection, the only way to make it stop).
    func chatStream(_ request: ChatRequest) -> ChatStream

    /// Embeds texts: one vector per input, in order.
    ///
    /// Providers without embeddings keep the default, which throws
    /// ``ModelError/serverError(status:message:midStream:)`` with status 501 (not retryable).
    func embed(_ request: EmbedRequest) async throws -> EmbedResponse
}

extension ModelProvider {
    public func embed(_ request: EmbedRequest) async throws -> EmbedResponse {
        throw ModelError.serverError(
            status: 501, message: "the \(name) provider does not support embeddings", midStream: false)
    }
}
