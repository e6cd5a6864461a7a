//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import NIOCore
import NIOHTTP1

/// A reply read whole: its status and its body, collected piece by piece up to a limit (of an
/// error status only the first 64 KiB, for its message). Both clients of whole replies fill one:
/// ``OllamaBodyCollector`` (AsyncHTTPClient) and ``PlainExchange`` (our own).
struct WholeReply: Sendable {
    var status: HTTPResponseStatus = .ok
    var body = ByteBuffer()
    static let maxErrorBytes = 64 << 10

    /// Takes a piece of the body; the error that ends the exchange if it makes the body too big.
    mutating func append(_ buffer: ByteBuffer, maxBytes: Int) -> ModelError? {
        if status != .ok {
            guard body.readableBytes < Self.maxErrorBytes else { return nil }
        } else if body.readableBytes + buffer.readableBytes > maxBytes {
            return ModelError.invalidResponse("a reply over \(maxBytes) bytes")
        }
        if body.readableBytes == 0 {
            // Most replies are one piece: keep it as it came, no copy.
            body = buffer
        } else {
            var buffer = buffer
            body.writeBuffer(&buffer)
        }
        return nil
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
