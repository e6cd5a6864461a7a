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
    typealias Response = WholeReply

    private let watchdog: ResponseWatchdog
    private let maxBytes: Int
    private var reply = WholeReply()
    private(set) var headReceived = false

    init(watchdog: ResponseWatchdog, maxBytes: Int) {
        self.watchdog = watchdog
        self.maxBytes = maxBytes
    }

    func didReceiveHead(task: HTTPClient.Task<WholeReply>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        headReceived = true
        reply.status = head.status
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<WholeReply>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        watchdog.received()
        if let error = reply.append(buffer, maxBytes: maxBytes) { return task.eventLoop.makeFailedFuture(error) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<WholeReply>) throws -> WholeReply {
        reply
    }
}
