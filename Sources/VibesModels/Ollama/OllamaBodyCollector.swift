//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Collects one whole (not streamed) reply on the HTTP connection's event loop: its status and
/// its body, up to a limit. The caller resumes once, when the exchange has ended, instead of once
/// for the head and once more for each piece of the body.
///
/// Unchecked `Sendable`: AsyncHTTPClient calls a delegate on its task's event loop only, one call
/// at a time; the owner reads ``headReceived`` after the task's future completed.
final class OllamaBodyCollector: HTTPClientResponseDelegate, @unchecked Sendable {
    struct Reply: Sendable {
        var status: HTTPResponseStatus
        var body: ByteBuffer
    }

    private let watchdog: ResponseWatchdog
    private let maxBytes: Int
    /// An error reply is read for its message only.
    private let maxErrorBytes = 64 << 10
    private var reply = Reply(status: .ok, body: ByteBuffer())
    private(set) var headReceived = false

    init(watchdog: ResponseWatchdog, maxBytes: Int) {
        self.watchdog = watchdog
        self.maxBytes = maxBytes
    }

    func didReceiveHead(task: HTTPClient.Task<Reply>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        headReceived = true
        reply.status = head.status
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Reply>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        watchdog.received()
        let total = reply.body.readableBytes + buffer.readableBytes
        if reply.status != .ok {
            guard reply.body.readableBytes < maxErrorBytes else { return task.eventLoop.makeSucceededVoidFuture() }
        } else if total > maxBytes {
            return task.eventLoop.makeFailedFuture(ModelError.invalidResponse("a reply over \(maxBytes) bytes"))
        }
        if reply.body.readableBytes == 0 {
            // Most replies are one piece: keep it as it came, no copy.
            reply.body = buffer
        } else {
            var buffer = buffer
            reply.body.writeBuffer(&buffer)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Reply>) throws -> Reply {
        reply
    }
}
