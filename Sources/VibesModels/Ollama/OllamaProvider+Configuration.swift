//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

extension OllamaProvider {
    /// Where Ollama is and how long to wait for it.
    public struct Configuration: Sendable {
        /// `http://127.0.0.1:11434`, without a trailing `/`; may carry a path prefix.
        public var baseURL: String
        /// Connecting to the server.
        public var connectTimeout: Duration
        /// Waiting for the first byte of a reply. A cold model load takes minutes; for `chat()`
        /// (not streamed) the whole generation happens before the first byte.
        public var firstByteTimeout: Duration
        /// Waiting for the next chunk once a reply has started.
        public var idleTimeout: Duration
        /// The largest non-streamed body read into memory (`chat()`, `/api/tags`, errors).
        public var maxBodyBytes: Int
        /// Used when `/api/show` does not tell a model's context window. Ollama's own default
        /// `num_ctx` was 2048 for most of its history.
        public var fallbackContextWindow: Int

        public init(
            baseURL: String = OllamaHost.defaultBaseURL,
            connectTimeout: Duration = .seconds(5),
            firstByteTimeout: Duration = .seconds(600),
            idleTimeout: Duration = .seconds(120),
            maxBodyBytes: Int = 64 << 20,
            fallbackContextWindow: Int = 2048
        ) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.connectTimeout = connectTimeout
            self.firstByteTimeout = firstByteTimeout
            self.idleTimeout = idleTimeout
            self.maxBodyBytes = maxBodyBytes
            self.fallbackContextWindow = fallbackContextWindow
        }

        /// The base URL from `explicit`, else `OLLAMA_HOST` in `environment`, else the default.
        public init(explicitURL: String?, environment: [String: String]) {
            self.init(baseURL: OllamaHost.resolve(explicit: explicitURL, environment: environment))
        }
    }
}
