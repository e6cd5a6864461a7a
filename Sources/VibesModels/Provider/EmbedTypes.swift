//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// An embedding request in provider-neutral terms: one vector per input text, in order.
public struct EmbedRequest: Sendable, Hashable {
    /// The provider's model name (`nomic-embed-text`, `all-minilm`).
    public var model: String
    /// The texts to embed; one vector comes back per text.
    public var input: [String]
    /// Ollama's `options` (`num_ctx`, …), passed through as they are.
    public var options: [String: JSONValue]
    public var keepAlive: KeepAlive?
    /// Whether the provider may cut an input longer than the context window (Ollama's default:
    /// yes); `false` makes such an input an error.
    public var truncate: Bool?
    /// The length of the vectors wanted, for models that support shorter ones.
    public var dimensions: Int?

    public init(
        model: String, input: [String], options: [String: JSONValue] = [:], keepAlive: KeepAlive? = nil,
        truncate: Bool? = nil, dimensions: Int? = nil
    ) {
        self.model = model
        self.input = input
        self.options = options
        self.keepAlive = keepAlive
        self.truncate = truncate
        self.dimensions = dimensions
    }
}

/// The vectors of an ``EmbedRequest``, one per input, in order.
public struct EmbedResponse: Sendable, Hashable {
    public var model: String
    public var embeddings: [[Double]]
    /// Tokens read from the inputs.
    public var promptTokens: Int?
    /// Ollama's own timings (`total_duration`, `load_duration`), in nanoseconds.
    public var timings: OllamaTimings

    public init(model: String, embeddings: [[Double]], promptTokens: Int? = nil, timings: OllamaTimings = .init()) {
        self.model = model
        self.embeddings = embeddings
        self.promptTokens = promptTokens
        self.timings = timings
    }
}

/// Where an embedding call goes: a provider's ``ModelProvider/embed(_:)``, or a stand-in for it
/// (a member of a group waits for the group's one request).
public typealias Embedder = @Sendable (EmbedRequest) async throws -> EmbedResponse
