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

/// Reads one streamed `/api/chat` reply where its bytes arrive: on the HTTP connection's event
/// loop, as AsyncHTTPClient hands over each piece of the body.
///
/// Each piece is cut into lines, each line read (``OllamaWire/ChatReply/read(_:)``), and the
/// text of all its lines goes out at once: to a ``ChatTextSink`` (one call), or as chunks into a
/// ``ChunkQueue``. The piece is then done with, so the connection reads on at
/// once: no thread hop, no task switch, nothing held back.
///
/// That is also what keeps the text of a broken stream. AsyncHTTPClient keeps the pieces that
/// arrive while its consumer has not asked for more, and throws them away when the connection
/// closes; a consumer that always asks at once leaves nothing there to lose.
///
/// Unchecked `Sendable`: AsyncHTTPClient calls a delegate on its task's event loop only, one
/// call at a time; the owner reads ``headReceived`` and ``textBytes`` after the task's future
/// completed, which orders those reads after the last call.
final class OllamaStreamReader: OllamaReplyReader, @unchecked Sendable {
    typealias Response = ChatResponse

    enum Output {
        case sink(any ChatTextSink)
        case queue(ChunkQueue)
    }

    private let output: Output
    private let watchdog: ResponseWatchdog
    private let statusError: @Sendable (_ status: HTTPResponseStatus, _ body: ByteBuffer) -> ModelError

    private(set) var headReceived = false
    /// Reply text handed on so far, in bytes.
    private(set) var textBytes = 0
    private var status = HTTPResponseStatus.ok
    private var statusOK = true
    private var errorBody = ByteBuffer()
    private var splitter = NDJSONLineSplitter()
    private var response: ChatResponse
    private var sawDone = false
    /// This piece's text (and thinking), reused from piece to piece.
    private var text: [UInt8] = []
    private var thinking: [UInt8] = []
    private var chunks: [ChatChunk] = []
    /// An error of ours (a bad line, the sink's) ends the exchange; nothing more is decoded.
    private var failed = false
    /// What the sink threw (a full disk, say): the caller gets it as it is, not as a broken
    /// stream. Read once the exchange has ended.
    private(set) var consumerError: (any Error)?

    init(
        model: String, output: Output, watchdog: ResponseWatchdog,
        statusError: @escaping @Sendable (HTTPResponseStatus, ByteBuffer) -> ModelError
    ) {
        self.output = output
        self.watchdog = watchdog
        self.statusError = statusError
        self.response = ChatResponse(model: model, message: ChatMessage(role: .assistant, content: ""))
        text.reserveCapacity(4096)
    }

    // MARK: HTTPClientResponseDelegate

    func didReceiveHead(task: HTTPClient.Task<ChatResponse>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        headReceived = true
        status = head.status
        statusOK = head.status == .ok
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<ChatResponse>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        watchdog.received()
        guard statusOK else {
            var buffer = buffer
            if errorBody.readableBytes < OllamaWholeReader.maxErrorBytes { errorBody.writeBuffer(&buffer) }
            return task.eventLoop.makeSucceededVoidFuture()
        }
        guard !failed else { return task.eventLoop.makeSucceededVoidFuture() }
        do {
            try splitter.forEachLine(in: buffer) { try decode($0) }
            return flush(task.eventLoop)
        } catch {
            failed = true
            return task.eventLoop.makeFailedFuture(error)
        }
    }

    func didReceiveError(task: HTTPClient.Task<ChatResponse>, _ error: any Error) {
        // The connection broke: a last line that is whole but lacks its newline still counts.
        guard statusOK, !failed, let last = splitter.finish() else { return }
        last.withUnsafeReadableBytes { try? decode($0) }
        _ = try? flushNow()
    }

    func didFinishRequest(task: HTTPClient.Task<ChatResponse>) throws -> ChatResponse {
        guard statusOK else { throw statusError(status, errorBody) }
        // The body ended. A last line without its newline may still be the final one.
        if let last = splitter.finish() {
            try last.withUnsafeReadableBytes { try decode($0) }
            _ = try flushNow()
        }
        guard sawDone else {
            throw ModelError.streamInterrupted(
                bytesReceived: textBytes, cause: "the stream ended without its final `done` line")
        }
        if !thinking.isEmpty { response.message.thinking = String(decoding: thinking, as: UTF8.self) }
        return response
    }

    // MARK: Lines

    /// Decodes one line into this piece's text (sink) or chunks (queue).
    private func decode(_ line: UnsafeRawBufferPointer) throws {
        guard !sawDone else { return }
        let reply = try OllamaWire.ChatReply.read(line)
        switch output {
        case .sink:
            if let message = reply.message {
                text.append(contentsOf: message.content.utf8)
                if let more = message.thinking { thinking.append(contentsOf: more.utf8) }
            }
            // A token line is done with; the final line and tool calls also shape the response.
            if reply.done == true || reply.message?.toolCalls != nil { absorb(reply.chunk) }
        case .queue:
            let chunk = reply.chunk
            textBytes += chunk.textDelta.utf8.count
            absorb(chunk)
            chunks.append(chunk)
        }
    }

    private func absorb(_ chunk: ChatChunk) {
        response.message.toolCalls += chunk.toolCalls
        if chunk.done {
            sawDone = true
            if let model = chunk.model, !model.isEmpty { response.model = model }
            response.createdAt = chunk.createdAt
            response.stopReason = chunk.stopReason
            response.usage = chunk.usage ?? Usage()
            response.timings = chunk.timings ?? OllamaTimings()
        }
    }

    /// Hands this piece's text or chunks on; the future says when to read the next piece.
    private func flush(_ eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        do {
            guard try flushNow() else {
                // The consumer is far behind: read on once it has caught up.
                guard case .queue(let queue) = output else { return eventLoop.makeSucceededVoidFuture() }
                let promise = eventLoop.makePromise(of: Void.self)
                watchdog.pause()
                queue.whenDrained { [watchdog] in
                    watchdog.resume()
                    promise.succeed()
                }
                return promise.futureResult
            }
            return eventLoop.makeSucceededVoidFuture()
        } catch {
            failed = true
            return eventLoop.makeFailedFuture(error)
        }
    }

    /// Hands on what is ready; `false` when the consumer asks to stop reading for a while.
    private func flushNow() throws -> Bool {
        switch output {
        case .sink(let sink):
            guard !text.isEmpty else { return true }
            do {
                try text.withUnsafeBytes { try sink.write($0) }
            } catch {
                consumerError = error
                throw error
            }
            textBytes += text.count
            text.removeAll(keepingCapacity: true)
            return true
        case .queue(let queue):
            guard !chunks.isEmpty else { return true }
            defer { chunks.removeAll(keepingCapacity: true) }
            return queue.push(chunks)
        }
    }
}
