//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import NIOCore
import NIOHTTP1

/// One exchange of a ``PlainHTTPClient``: the reply collected whole (``WholeReply``), the time
/// limits told of each piece. Its state is only touched on the client's event loop; it
/// completes once.
final class PlainExchange: @unchecked Sendable {
    private let promise: EventLoopPromise<WholeReply>
    private let watchdog: ResponseWatchdog
    private let maxBytes: Int
    private var reply = WholeReply()
    private var channel: (any Channel)?
    private var completed = false
    /// Set before the exchange completes (read after it, by its caller).
    private(set) var headReceived = false

    init(eventLoop: any EventLoop, watchdog: ResponseWatchdog, maxBytes: Int) {
        self.promise = eventLoop.makePromise()
        self.watchdog = watchdog
        self.maxBytes = maxBytes
    }

    var futureResult: EventLoopFuture<WholeReply> { promise.futureResult }
    /// Cancelled (or failed) before it was sent: nothing to send.
    var isCompleted: Bool { completed }

    /// Ends the exchange from any thread (cancelled, or a limit ran out): its connection is
    /// closed, since the reply may still come.
    func cancel() {
        promise.futureResult.eventLoop.execute {
            guard !self.completed else { return }
            let channel = self.channel
            self.fail(CancellationError())
            channel?.close(promise: nil)
        }
    }

    func attach(_ channel: any Channel) {
        self.channel = channel
    }

    func head(_ status: HTTPResponseStatus) {
        headReceived = true
        reply.status = status
    }

    /// Takes a piece of the body; the error that ends the exchange if it is too much.
    func body(_ buffer: ByteBuffer) -> (any Error)? {
        watchdog.received()
        return reply.append(buffer, maxBytes: maxBytes)
    }

    func succeed() {
        guard !completed else { return }
        completed = true
        channel = nil
        promise.succeed(reply)
    }

    func fail(_ error: any Error) {
        guard !completed else { return }
        completed = true
        channel = nil
        promise.fail(error)
    }
}

/// The connection closed before the reply ended.
struct PlainConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the connection closed before the reply ended" }
}

/// The last handler of a ``PlainHTTPClient`` connection: hands the reply's parts to the
/// exchange in progress, and says at its end whether the connection can carry another.
final class PlainReplyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var exchange: PlainExchange?
    private var onEnd: ((Bool) -> Void)?
    private var resend: (() -> Void)?
    private var keepAlive = true

    /// `onEnd`: the reply is whole; whether the connection can carry another. `resend`: what
    /// to do instead of failing when the connection breaks before any reply.
    func begin(_ exchange: PlainExchange, on channel: any Channel, onEnd: @escaping (Bool) -> Void, resend: (() -> Void)?) {
        self.exchange = exchange
        self.onEnd = onEnd
        self.resend = resend
        keepAlive = true
        exchange.attach(channel)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange else {
            // A reply nobody asked for: the connection cannot be trusted.
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
            exchange.head(head.status)
        case .body(let buffer):
            if let error = exchange.body(buffer) {
                end()
                exchange.fail(error)
                context.close(promise: nil)
            }
        case .end:
            let onEnd = end()
            exchange.succeed()
            onEnd?(keepAlive)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        broken(PlainConnectionClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        broken(error)
        context.close(promise: nil)
    }

    private func broken(_ error: any Error) {
        guard let exchange else { return }
        let resend = self.resend
        end()
        if let resend, !exchange.headReceived, !exchange.isCompleted {
            resend()
        } else {
            exchange.fail(error)
        }
    }

    @discardableResult
    private func end() -> ((Bool) -> Void)? {
        let onEnd = self.onEnd
        exchange = nil
        self.onEnd = nil
        resend = nil
        return onEnd
    }
}
