//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// What the provider's one way of sending a request (``OllamaProvider/send(_:_:body:reading:watchdog:)``)
/// needs of the AsyncHTTPClient delegate that reads the reply: a whole reply
/// (``OllamaWholeReader``) or a streamed chat (``OllamaStreamReader``).
///
/// The owner reads these after the task's future completed, which orders the reads after the
/// delegate's last call.
protocol OllamaReplyReader: HTTPClientResponseDelegate where Response: Sendable {
    /// Whether the reply's head arrived (a connection error before it means nothing answered).
    var headReceived: Bool { get }
    /// Reply text handed on so far, in bytes (for ``ModelError/streamInterrupted(bytesReceived:cause:)``).
    var textBytes: Int { get }
    /// An error of the reader's consumer, to throw as it is (not as a broken exchange).
    var consumerError: (any Error)? { get }
}

/// Reads one whole (not streamed) reply where it arrives, on the connection's event loop: the
/// body of a 200, up to `maxBytes`; any other status ends as its ``ModelError`` (from up to
/// 64 KiB of its body). Each piece of the body counts as progress for the time limits.
///
/// Unchecked `Sendable`: AsyncHTTPClient calls a delegate on its task's event loop only, one call
/// at a time (see ``OllamaReplyReader``).
final class OllamaWholeReader: OllamaReplyReader, @unchecked Sendable {
    typealias Response = ByteBuffer

    private let watchdog: ResponseWatchdog
    private let maxBytes: Int
    private let statusError: @Sendable (_ status: HTTPResponseStatus, _ body: ByteBuffer) -> ModelError
    private var status = HTTPResponseStatus.ok
    private var body = ByteBuffer()
    private(set) var headReceived = false
    let textBytes = 0
    let consumerError: (any Error)? = nil
    static let maxErrorBytes = 64 << 10

    init(watchdog: ResponseWatchdog, maxBytes: Int, statusError: @escaping @Sendable (HTTPResponseStatus, ByteBuffer) -> ModelError) {
        self.watchdog = watchdog
        self.maxBytes = maxBytes
        self.statusError = statusError
    }

    func didReceiveHead(task: HTTPClient.Task<ByteBuffer>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        headReceived = true
        status = head.status
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<ByteBuffer>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        watchdog.received()
        if status != .ok {
            guard body.readableBytes < Self.maxErrorBytes else { return task.eventLoop.makeSucceededVoidFuture() }
        } else if body.readableBytes + buffer.readableBytes > maxBytes {
            return task.eventLoop.makeFailedFuture(ModelError.invalidResponse("a reply over \(maxBytes) bytes"))
        }
        if body.readableBytes == 0 {
            // Most replies are one piece: kept as it came, no copy.
            body = buffer
        } else {
            var buffer = buffer
            body.writeBuffer(&buffer)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<ByteBuffer>) throws -> ByteBuffer {
        guard status == .ok else { throw statusError(status, body) }
        return body
    }
}

extension EventLoopFuture {
    /// The future's value, awaited; `cancel` runs if the waiting task is cancelled (it ends the
    /// exchange behind the future, which then fails).
    func get(cancellingWith cancel: @escaping @Sendable () -> Void) async throws -> Value where Value: Sendable {
        try await withTaskCancellationHandler {
            try await self.get()
        } onCancel: {
            cancel()
        }
    }
}
