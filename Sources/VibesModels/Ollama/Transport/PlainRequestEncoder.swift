//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import NIOCore
import NIOHTTP1

/// The request side of a ``PlainHTTPClient`` connection: a request's head and body become one
/// buffer, written whole (one `write` of one piece), with the `Content-Length` of the body it
/// was given; sent with ``send(_:body:on:)``, or as parts (head, body, end). In place of NIO's
/// `HTTPRequestEncoder`, which for the client's fixed headers cost as much as the rest of a
/// request's way out (see bench/README.md).
///
/// What it takes is what the client sends: a head without `Content-Length` or
/// `Transfer-Encoding` (it adds the length), at most one body part, a byte buffer.
final class PlainRequestEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    /// The request so far: its head, then its body.
    private var request: [UInt8] = []
    private var started = false
    private var hasBody = false
    /// A request without a body says its length is 0, unless its method never has one.
    private var mayHaveBody = true

    /// Where this handler is: whole requests leave from here (``send(_:body:on:)``).
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Sends a whole request, flushed: its head goes through the pipeline (the response decoder
    /// above sees it go by) and stops here; then head and body leave from here together. One
    /// trip through the pipeline, not three. On the channel's event loop.
    func send(_ head: HTTPRequestHead, body: [UInt8]?, on channel: any Channel) {
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        guard let context, started else {
            // The head did not come by (the handler was removed): the exchange fails with the
            // connection, not at its time limit.
            channel.close(promise: nil)
            return
        }
        if let body {
            appendLength(body.count)
            request += body
        } else {
            appendNoBody()
        }
        started = false
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(bytes: request))), promise: nil)
    }

    private func appendLength(_ count: Int) {
        request += "Content-Length: ".utf8
        request += String(count).utf8
        request += "\r\n\r\n".utf8
    }

    private func appendNoBody() {
        request += (mayHaveBody ? "Content-Length: 0\r\n\r\n" : "\r\n").utf8
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            // Into an array, then one buffer: appending bytes to an array costs less than a
            // buffer's write of each piece.
            request.removeAll(keepingCapacity: true)
            request += head.method.rawValue.utf8
            request.append(UInt8(ascii: " "))
            request += head.uri.utf8
            request += " HTTP/1.1\r\n".utf8
            for (name, value) in head.headers {
                request += name.utf8
                request += ": ".utf8
                request += value.utf8
                request += "\r\n".utf8
            }
            (started, hasBody) = (true, false)
            mayHaveBody = head.method != .GET && head.method != .HEAD && head.method != .DELETE && head.method != .OPTIONS
            promise?.succeed()
        case .body(.byteBuffer(let body)):
            guard started, !hasBody else {
                promise?.fail(ChannelError.inappropriateOperationForState)
                return
            }
            appendLength(body.readableBytes)
            request += body.readableBytesView
            hasBody = true
            promise?.succeed()
        case .body(.fileRegion):
            promise?.fail(ChannelError.operationUnsupported)
        case .end:
            guard started else {
                promise?.fail(ChannelError.inappropriateOperationForState)
                return
            }
            if !hasBody { appendNoBody() }
            started = false
            context.write(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(bytes: request))), promise: promise)
        }
    }
}
