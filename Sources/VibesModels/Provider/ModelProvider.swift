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

    /// Whether the provider answers at all (for Ollama: `GET /api/version`).
    func probe() async throws

    /// The names of the models installed now (for Ollama: `/api/tags`, without `/api/show`).
    func installedModels() async throws -> [String]

    /// The models loaded in memory now, if the provider can tell (for Ollama: `/api/ps`), as
    /// ``LoadedModel``s.
    func loadedModels() async throws -> [LoadedModel]

    /// Embeds texts: one vector per input, in order.
    ///
    /// Providers without embeddings keep the default, which throws
    /// ``ModelError/serverError(status:message:midStream:)`` with status 501 (not retryable).
    func embed(_ request: EmbedRequest) async throws -> EmbedResponse

    /// Runs a chat and hands the reply text to `sink` where it arrives; returns the rest of the
    /// reply (see ``ChatTextSink``). A default goes through ``chatStream(_:)``.
    func chat(_ request: ChatRequest, streamingTextInto sink: any ChatTextSink) async throws -> ChatResponse
}

/// A model a provider holds in memory.
public struct LoadedModel: Sendable, Hashable {
    public var name: String
    /// The context window it was loaded with, when the provider says.
    public var contextLength: Int?

    public init(name: String, contextLength: Int? = nil) {
        self.name = name
        self.contextLength = contextLength
    }
}

extension ModelProvider {
    public func probe() async throws { _ = try await models() }
    public func installedModels() async throws -> [String] { try await models().map(\.name) }
    public func loadedModels() async throws -> [LoadedModel] { [] }

    public func embed(_ request: EmbedRequest) async throws -> EmbedResponse {
        throw ModelError.serverError(
            status: 501, message: "the \(name) provider does not support embeddings", midStream: false)
    }
}
