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

    /// Runs a chat and hands the reply text to `sink` where it arrives; returns the rest of the
    /// reply (see ``ChatTextSink``). A default goes through ``chatStream(_:)``.
    func chat(_ request: ChatRequest, streamingTextInto sink: any ChatTextSink) async throws -> ChatResponse
}
