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
import Synchronization

/// Ollama's HTTP API as a ``ModelProvider``.
///
/// Owns an `HTTPClient` unless one is passed in; call ``shutdown()`` when done with it (or use
/// ``withOllamaProvider(configuration:_:)``).
public final class OllamaProvider: ModelProvider {
    public let name = "ollama"
    public let configuration: Configuration
    let client: HTTPClient
    private let ownsClient: Bool
    /// `/api/show` answers by model name and digest: a model only changes with its digest.
    private let showCache = Mutex<[String: OllamaWire.ShowReply]>([:])
    /// Watches the time limits of every request in flight.
    let timeouts: TimeoutMonitor
    /// The event loop that reads every reply (see ``OllamaStreamReader``, ``OllamaWholeReader``)
    /// and that the pool prefers for connections: they are made there and an idle one there is
    /// leased first, so a reply is read where it arrives.
    let replyEventLoop: any EventLoop

    /// `eventLoop`: the loop for this provider's connections, one of the client's group
    /// (`HTTPClient.defaultEventLoopGroup` when this provider makes its own client); by default
    /// the group's next.
    public init(configuration: Configuration = .init(), httpClient: HTTPClient? = nil, eventLoop: (any EventLoop)? = nil) {
        self.configuration = configuration
        self.timeouts = TimeoutMonitor(limits: [configuration.firstByteTimeout, configuration.idleTimeout])
        if let httpClient {
            self.client = httpClient
            self.ownsClient = false
        } else {
            var config = HTTPClient.Configuration()
            config.timeout.connect = .nanoseconds(Int64(configuration.connectTimeout.seconds * 1e9))
            config.redirectConfiguration = .disallow
            config.decompression = .disabled
            config.httpVersion = .http1Only
            config.connectionPool.idleTimeout = .seconds(60)
            config.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
            // Refused means not running: say so at once. Callers retry with their own backoff.
            config.connectionPool.retryConnectionEstablishment = false
            self.client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
            self.ownsClient = true
        }
        self.replyEventLoop = eventLoop ?? client.eventLoopGroup.next()
    }

    /// Shuts the HTTP client down if this provider created it.
    public func shutdown() async throws {
        if ownsClient { try await client.shutdown() }
    }

    // MARK: ModelProvider

    public func models() async throws -> [ModelInfo] {
        let tags: OllamaWire.TagsReply = try await getJSON("/api/tags")
        let entries = (tags.models ?? []).compactMap { entry -> (String, OllamaWire.TagsReply.Model)? in
            guard let name = entry.name ?? entry.model else { return nil }
            return (name, entry)
        }
        return try await withThrowingTaskGroup(of: (Int, ModelInfo).self) { group in
            for (index, (name, entry)) in entries.enumerated() {
                group.addTask {
                    let show = try await self.show(name: name, digest: entry.digest)
                    return (index, self.modelInfo(name: name, tag: entry, show: show))
                }
            }
            var infos = [(Int, ModelInfo)]()
            for try await info in group { infos.append(info) }
            return infos.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    public func chat(_ request: ChatRequest) async throws -> ChatResponse {
        let body = OllamaWire.ChatBody(request, stream: false).jsonBytes
        let reply = try await limited { watchdog in
            let data = try await self.exchange(.POST, "/api/chat", body: body, model: request.model, watchdog: watchdog)
            return try Self.decodeChatReply(data)
        }
        return Self.chatResponse(reply, request)
    }

    /// A whole `/api/chat` reply as the neutral response.
    static func chatResponse(_ reply: OllamaWire.ChatReply, _ request: ChatRequest) -> ChatResponse {
        ChatResponse(
            model: reply.model ?? request.model,
            createdAt: reply.createdAt.flatMap(RFC3339.parse),
            message: reply.message?.neutral ?? ChatMessage(role: .assistant, content: ""),
            stopReason: reply.doneReason.map(StopReason.init(ollama:)) ?? ((reply.done ?? true) ? .stop : nil),
            usage: reply.usage,
            timings: reply.timings
        )
    }

    /// Ollama's version (`GET /api/version`): the cheap "is it up?" probe.
    public func version() async throws -> String {
        let reply: OllamaWire.VersionReply = try await getJSON("/api/version")
        return reply.version
    }

    // MARK: HTTP

    /// One exchange whose reply is read whole (up to `maxBodyBytes`): the body of a 200, or the
    /// ``ModelError`` of any other status.
    func exchange(_ method: HTTPMethod, _ path: String, body: [UInt8]?, model: String?, watchdog: ResponseWatchdog) async throws -> ByteBuffer {
        let baseURL = configuration.baseURL
        let reader = OllamaWholeReader(watchdog: watchdog, maxBytes: configuration.maxBodyBytes) { status, body in
            OllamaProvider.statusError(status, body: body, baseURL: baseURL, model: model)
        }
        return try await send(method, path, body: body, reading: reader, watchdog: watchdog)
    }

    /// Sends one request through AsyncHTTPClient, its reply read by `reader` on ``replyEventLoop``,
    /// ended by `watchdog`'s limits (which the caller runs, see ``limited(_:)``) or by cancelling
    /// the caller. Every exchange with Ollama, whole or streamed, comes here, and every error it
    /// ends with is classified here.
    ///
    /// The loop is a preference (`.delegate(on:)`), not a requirement (`.delegateAndChannel(on:)`):
    /// AsyncHTTPClient (1.37) opens a connection of its own for a request that requires a loop and
    /// closes it as soon as it is idle, so every request would open a new connection. A
    /// preferred loop gets the pool's keep-alive connections, made on that loop.
    func send<Reader: OllamaReplyReader>(
        _ method: HTTPMethod, _ path: String, body: [UInt8]?, reading reader: Reader, watchdog: ResponseWatchdog
    ) async throws -> Reader.Response {
        let task: HTTPClient.Task<Reader.Response>
        do {
            let request = try HTTPClient.Request(
                url: configuration.baseURL + path, method: method, headers: OllamaWire.requestHeaders(jsonBody: body != nil),
                body: body.map { .bytes($0) })
            // No deadline of AHC's own: the watchdog enforces the limits, and cancels the task.
            task = client.execute(request: request, delegate: reader, eventLoop: .delegate(on: replyEventLoop))
        } catch {
            throw classify(error, headReceived: false, textBytes: 0)
        }
        watchdog.onExpiry { task.cancel() }
        do {
            return try await task.futureResult.get(cancellingWith: task.cancel)
        } catch {
            if let consumerError = reader.consumerError { throw consumerError }
            throw classify(error, headReceived: reader.headReceived, textBytes: reader.textBytes)
        }
    }

    func getJSON<T: Decodable & Sendable>(_ path: String, body: [UInt8]? = nil) async throws -> T {
        try await limited { watchdog in
            let data = try await self.exchange(body == nil ? .GET : .POST, path, body: body, model: nil, watchdog: watchdog)
            do {
                return try JSONDecoder().decode(T.self, from: data)
            } catch {
                let text = data.getString(at: data.readerIndex, length: min(data.readableBytes, 200)) ?? ""
                throw ModelError.invalidResponse("\(path) answered something that is not Ollama's JSON: \(text)")
            }
        }
    }

    /// Runs one exchange under this provider's first-byte and idle limits.
    func limited<T: Sendable>(_ body: (ResponseWatchdog) async throws -> T) async throws -> T {
        let watchdog = ResponseWatchdog(firstByte: configuration.firstByteTimeout, idle: configuration.idleTimeout)
        return try await watchdog.run(monitor: timeouts) { try await body(watchdog) }
    }

    private func show(name: String, digest: String?) async throws -> OllamaWire.ShowReply? {
        let key = "\(name)@\(digest ?? "")"
        if let cached = showCache.withLock({ $0[key] }) { return cached }
        let body = Array(try JSONEncoder().encode(OllamaWire.ShowBody(model: name)))
        let reply: OllamaWire.ShowReply
        do {
            reply = try await getJSON("/api/show", body: body)
        } catch let error as ModelError where !error.isConnectionProblem {
            // A model whose details cannot be read is still listed, with the fallback values.
            return nil
        }
        showCache.withLock { $0[key] = reply }
        return reply
    }

    private func modelInfo(name: String, tag: OllamaWire.TagsReply.Model, show: OllamaWire.ShowReply?) -> ModelInfo {
        var contextWindow = configuration.fallbackContextWindow
        if let info = show?.modelInfo, let architecture = info["general.architecture"]?.stringValue,
            let length = info["\(architecture).context_length"]?.doubleValue, length > 0
        {
            contextWindow = Int(length)
        }
        let names = show?.capabilities ?? ["completion"]
        var capabilities: ModelCapabilities = []
        for capability in names {
            switch capability {
            case "completion": capabilities.formUnion([.chat, .streaming])
            case "tools": capabilities.insert(.tools)
            case "vision": capabilities.insert(.vision)
            case "thinking": capabilities.insert(.thinking)
            case "embedding": capabilities.insert(.embeddings)
            default: break
            }
        }
        return ModelInfo(
            provider: self.name, name: name, contextWindow: contextWindow, capabilities: capabilities,
            providerCapabilities: names, pricing: nil, local: true, sizeBytes: tag.size,
            modifiedAt: tag.modifiedAt.flatMap(RFC3339.parse))
    }
}

/// Runs `body` with a provider for `configuration` and shuts its HTTP client down afterwards.
public func withOllamaProvider<T>(
    configuration: OllamaProvider.Configuration, _ body: (OllamaProvider) async throws -> T
) async throws -> T {
    let provider = OllamaProvider(configuration: configuration)
    do {
        let result = try await body(provider)
        try await provider.shutdown()
        return result
    } catch {
        try? await provider.shutdown()
        throw error
    }
}
