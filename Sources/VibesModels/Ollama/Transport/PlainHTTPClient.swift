//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 client for the exchanges whose reply is read whole (a batch line's chat or
/// embedding, `/api/tags`, `/api/show`, `/api/version`) with one `http://` host: keep-alive
/// connections on one event loop, each request's head and body in one write, the reply collected
/// where it arrives (``PlainReplyHandler``).
///
/// Why not AsyncHTTPClient, which streamed replies still use: it flushes a request's head
/// before its body (two writes, and two wake-ups of the server, per request) and costs more per
/// request than the rest of a batch line together (see bench/README.md, "The batch benchmark").
/// `https://` hosts stay with AsyncHTTPClient.
final class PlainHTTPClient: @unchecked Sendable {
    /// Where requests go: from a base URL `http://HOST:PORT[/PREFIX]`.
    struct Target: Sendable, Equatable {
        var host: String
        var port: Int
        /// `HOST:PORT` as the `Host` header carries it.
        var authority: String
        var pathPrefix: String

        /// `nil` unless `baseURL` is a plain `http://` URL with a port.
        init?(baseURL: String) {
            guard baseURL.hasPrefix("http://") else { return nil }
            let rest = baseURL.dropFirst("http://".count)
            let authority = rest.prefix { $0 != "/" }
            guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
                (1...65535).contains(port)
            else { return nil }
            var host = authority[..<colon]
            if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
            guard !host.isEmpty else { return nil }
            self.host = String(host)
            self.port = port
            self.authority = String(authority)
            var prefix = String(rest.dropFirst(authority.count))
            while prefix.hasSuffix("/") { prefix.removeLast() }
            self.pathPrefix = prefix
        }
    }

    /// A connection and the two handlers of ours it has.
    struct Connection {
        let channel: any Channel
        let encoder: PlainRequestEncoder
        let reply: PlainReplyHandler
    }

    let target: Target
    let eventLoop: any EventLoop
    private let connectTimeout: TimeAmount
    /// Connections waiting for their next request (only touched on `eventLoop`).
    private var idle: [Connection] = []
    private var isShutDown = false
    /// A request's headers but its length, with a JSON body and without one.
    private let headers: (json: HTTPHeaders, bare: HTTPHeaders)

    init(target: Target, eventLoop: any EventLoop, connectTimeout: TimeAmount) {
        self.target = target
        self.eventLoop = eventLoop
        self.connectTimeout = connectTimeout
        var (json, bare) = (OllamaWire.requestHeaders(jsonBody: true), OllamaWire.requestHeaders(jsonBody: false))
        json.add(name: "Host", value: target.authority)
        bare.add(name: "Host", value: target.authority)
        headers = (json, bare)
    }

    /// Sends one request (`path` after the base URL's own path) on an idle connection, or a new
    /// one; `exchange` collects the reply and completes.
    /// At once when called on the event loop (a worker's task runs there), else queued to it.
    func execute(_ method: HTTPMethod, path: String, body: [UInt8]?, exchange: PlainExchange) {
        guard eventLoop.inEventLoop else {
            eventLoop.execute { self.execute(method, path: path, body: body, exchange: exchange) }
            return
        }
        guard !isShutDown else {
            exchange.fail(ChannelError.ioOnClosedChannel)
            return
        }
        // The length is the encoder's (PlainRequestEncoder); the other headers are the same for
        // every request with a body, and for every one without.
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: target.pathPrefix + path, headers: body == nil ? headers.bare : headers.json)
        if let connection = idle.popLast() {
            send(head, body, exchange, on: connection, reused: true)
        } else {
            connectAndSend(head, body, exchange)
        }
    }

    private func connectAndSend(_ head: HTTPRequestHead, _ body: [UInt8]?, _ exchange: PlainExchange) {
        connect().whenComplete { result in
            switch result {
            case .success(let connection): self.send(head, body, exchange, on: connection, reused: false)
            case .failure(let error): exchange.fail(error)
            }
        }
    }

    private func connect() -> EventLoopFuture<Connection> {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // NIO's client handlers (addHTTPClientHandlers) with our own request
                    // encoder, and without their check of every header's bytes: ours are fixed
                    // names, the host from the configuration's URL, and a length. The response
                    // decoder sees each request's head go by (it needs its method).
                    let operations = channel.pipeline.syncOperations
                    try operations.addHandler(PlainRequestEncoder())
                    try operations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try operations.addHandler(PlainReplyHandler())
                }
            }
            .connect(host: target.host, port: target.port)
            .flatMapThrowing { channel in
                let operations = channel.pipeline.syncOperations
                let connection = Connection(
                    channel: channel, encoder: try operations.handler(type: PlainRequestEncoder.self),
                    reply: try operations.handler(type: PlainReplyHandler.self))
                // A connection the server closes while idle leaves the pool at once.
                channel.closeFuture.whenComplete { _ in self.idle.removeAll { $0.channel === channel } }
                return connection
            }
    }

    /// `reused`: the connection carried an exchange before. If it breaks before any reply, the
    /// server closed it while it was idle (the request never reached it): the request goes once
    /// more, on a new connection.
    private func send(_ head: HTTPRequestHead, _ body: [UInt8]?, _ exchange: PlainExchange, on connection: Connection, reused: Bool) {
        guard !exchange.isCompleted else {
            release(connection, reusable: true)
            return
        }
        connection.reply.begin(
            exchange, on: connection.channel,
            onEnd: { reusable in self.release(connection, reusable: reusable) },
            resend: reused ? { self.connectAndSend(head, body, exchange) } : nil)
        // Head and body leave in one write.
        connection.encoder.send(head, body: body, on: connection.channel)
    }

    /// A connection done with its exchange: idle for the next one, or closed.
    private func release(_ connection: Connection, reusable: Bool) {
        if reusable && !isShutDown && connection.channel.isActive {
            idle.append(connection)
        } else {
            connection.channel.close(promise: nil)
        }
    }

    /// Closes the idle connections; requests after this fail.
    func shutdown() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            self.isShutDown = true
            let connections = self.idle
            self.idle = []
            return EventLoopFuture.andAllComplete(connections.map { $0.channel.close() }, on: self.eventLoop)
        }
    }
}
