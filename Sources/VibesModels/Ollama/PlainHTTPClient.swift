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

    let target: Target
    let eventLoop: any EventLoop
    private let connectTimeout: TimeAmount
    /// Connections waiting for their next request (only touched on `eventLoop`).
    private var idle: [any Channel] = []
    private var isShutDown = false

    init(target: Target, eventLoop: any EventLoop, connectTimeout: TimeAmount) {
        self.target = target
        self.eventLoop = eventLoop
        self.connectTimeout = connectTimeout
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
        var head = HTTPRequestHead(
            version: .http1_1, method: method, uri: target.pathPrefix + path, headers: OllamaWire.requestHeaders(jsonBody: body != nil))
        head.headers.add(name: "Host", value: target.authority)
        if let body { head.headers.add(name: "Content-Length", value: String(body.count)) }
        if let channel = idle.popLast() {
            send(head, body, exchange, on: channel, reused: true)
        } else {
            connectAndSend(head, body, exchange)
        }
    }

    private func connectAndSend(_ head: HTTPRequestHead, _ body: [UInt8]?, _ exchange: PlainExchange) {
        connect().whenComplete { result in
            switch result {
            case .success(let channel): self.send(head, body, exchange, on: channel, reused: false)
            case .failure(let error): exchange.fail(error)
            }
        }
    }

    private func connect() -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Our own headers only (fixed names, the host from the configuration's
                    // URL, a length): NIO's check of every header's bytes cost more than the
                    // rest of the request's encoding.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(PlainReplyHandler())
                }
            }
            .connect(host: target.host, port: target.port)
            .map { channel in
                // A connection the server closes while idle leaves the pool at once.
                channel.closeFuture.whenComplete { _ in self.idle.removeAll { $0 === channel } }
                return channel
            }
    }

    /// `reused`: the connection carried an exchange before. If it breaks before any reply, the
    /// server closed it while it was idle (the request never reached it): the request goes once
    /// more, on a new connection.
    private func send(_ head: HTTPRequestHead, _ body: [UInt8]?, _ exchange: PlainExchange, on channel: any Channel, reused: Bool) {
        guard !exchange.isCompleted else {
            release(channel, reusable: true)
            return
        }
        let handler: PlainReplyHandler
        do {
            handler = try channel.pipeline.syncOperations.handler(type: PlainReplyHandler.self)
        } catch {
            exchange.fail(error)
            channel.close(promise: nil)
            return
        }
        handler.begin(
            exchange, on: channel,
            onEnd: { reusable in self.release(channel, reusable: reusable) },
            resend: reused ? { self.connectAndSend(head, body, exchange) } : nil)
        // One flush: head, body and end leave in one write.
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    /// A connection done with its exchange: idle for the next one, or closed.
    private func release(_ channel: any Channel, reusable: Bool) {
        if reusable && !isShutDown && channel.isActive {
            idle.append(channel)
        } else {
            channel.close(promise: nil)
        }
    }

    /// Closes the idle connections; requests after this fail.
    func shutdown() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            self.isShutDown = true
            let channels = self.idle
            self.idle = []
            return EventLoopFuture.andAllComplete(channels.map { $0.close() }, on: self.eventLoop)
        }
    }
}
