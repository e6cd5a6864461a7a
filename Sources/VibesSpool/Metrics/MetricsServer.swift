//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Serves ``SpoolMetrics/exposition()`` at `GET /metrics` (`--metrics-listen HOST:PORT`).
///
/// ``bind(_:metrics:)`` listens at once, so a bad or taken address is a startup error; ``run()``
/// serves until its task is cancelled or a graceful shutdown begins. Other paths get 404, other
/// methods than GET and HEAD 405.
package final class MetricsServer: Service, Sendable {
    /// The media type of Prometheus' text format.
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    package let address: Address
    /// The port listened on (the one the system chose when `address.port` is 0).
    package let port: Int
    private let channel: any Channel
    private let connections: Connections

    private init(address: Address, channel: any Channel, connections: Connections) {
        self.address = address
        self.channel = channel
        self.connections = connections
        self.port = channel.localAddress?.port ?? address.port
    }

    /// Listens on `address`.
    /// - Throws: ``MetricsServerError`` naming the address and the reason.
    package static func bind(_ address: Address, metrics: SpoolMetrics) async throws -> MetricsServer {
        let connections = Connections()
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    connections.add(channel)
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(metrics: metrics))
                    }
                }
                .bind(host: address.host, port: address.port).get()
            return MetricsServer(address: address, channel: channel, connections: connections)
        } catch {
            throw MetricsServerError(address: address, cause: error)
        }
    }

    /// Serves until cancelled or a graceful shutdown begins, then stops listening and closes the
    /// open connections.
    package func run() async throws {
        let channel = self.channel
        await cancelWhenGracefulShutdown {
            await withTaskCancellationHandler {
                try? await channel.closeFuture.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        }
        try? await channel.close()
        await connections.closeAll()
    }

    /// The open connections (kept-alive ones would outlive the listening socket).
    private final class Connections: Sendable {
        private let open = Mutex<[ObjectIdentifier: any Channel]>([:])

        func add(_ channel: any Channel) {
            let id = ObjectIdentifier(channel)
            open.withLock { $0[id] = channel }
            channel.closeFuture.whenComplete { [self] _ in _ = open.withLock { $0.removeValue(forKey: id) } }
        }

        func closeAll() async {
            for channel in open.withLock({ Array($0.values) }) {
                try? await channel.close()
            }
        }
    }
}

/// `--metrics-listen` could not listen.
package struct MetricsServerError: Error, CustomStringConvertible {
    package var address: MetricsServer.Address
    package var cause: any Error

    package var description: String {
        let reason: String
        if let error = cause as? IOError {
            reason = String(cString: strerror(error.errnoCode)).lowercased()
        } else if cause is SocketAddressError {
            reason = "unknown host"
        } else {
            reason = "\(cause)"
        }
        return "cannot listen on \(address): \(reason)"
    }
}

/// Answers each request on one connection (the server pipeline handles keep-alive and pipelining).
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: SpoolMetrics
    private var request: HTTPRequestHead?

    init(metrics: SpoolMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        var headers = HTTPHeaders()
        let status: HTTPResponseStatus
        let body: String
        if path != "/metrics" {
            (status, body) = (.notFound, "not found: the metrics are at /metrics\n")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        } else if head.method != .GET && head.method != .HEAD {
            (status, body) = (.methodNotAllowed, "method not allowed: use GET\n")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            headers.add(name: "Allow", value: "GET, HEAD")
        } else {
            (status, body) = (.ok, metrics.exposition())
            headers.add(name: "Content-Type", value: MetricsServer.contentType)
        }
        let buffer = context.channel.allocator.buffer(string: body)
        headers.add(name: "Content-Length", value: "\(buffer.readableBytes)")
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
