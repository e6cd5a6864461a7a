//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A loopback HTTP/1.1 server that answers like Ollama, scripted per test.
///
/// Binds `127.0.0.1:0`; each request is answered by the handler's ``FakeResponse``: a status, headers
/// and steps (exact byte chunks, pauses, a dropped connection). It records every request and every
/// closed connection, so a test can see that a client hung up.
public final class FakeOllama: Sendable {
    public typealias Handler = @Sendable (FakeRequest) async -> FakeResponse

    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private let serverChannel: any Channel
    private let acceptTask: Task<Void, Never>
    private let log = Recorder()
    private let accepted: Accepted

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Every connection wrapped for the accept loop and not yet taken by it. NIO traps when such
    /// a wrapper is dropped without its writer finished, which happens to a connection accepted
    /// while the listening socket closes (a client, such as a worker process, connecting at the
    /// fake's shutdown): the accept stream has ended, so nothing takes it. Held here, those are
    /// closed properly at shutdown; once closed, a late one is refused before it is wrapped.
    private final class Accepted: Sendable {
        struct State {
            var pending: [ObjectIdentifier: Connection] = [:]
            var closed = false
        }
        let state = Mutex(State())
        struct Refused: Error {}

        func wrap(_ channel: any Channel) throws -> Connection {
            try state.withLock { state in
                guard !state.closed else { throw Refused() }
                let connection = try Connection(wrappingChannelSynchronously: channel)
                state.pending[ObjectIdentifier(channel)] = connection
                return connection
            }
        }

        func take(_ connection: Connection) {
            _ = state.withLock { $0.pending.removeValue(forKey: ObjectIdentifier(connection.channel)) }
        }

        /// Closes every connection the accept loop never took; later ones are refused.
        func close() async {
            let left = state.withLock { state in
                state.closed = true
                defer { state.pending = [:] }
                return Array(state.pending.values)
            }
            for connection in left { try? await connection.executeThenClose { _, _ in } }
        }
    }

    private final class Recorder: Sendable {
        struct Log {
            var requests: [FakeRequest] = []
            var opened = 0
            var closed = 0
        }
        let state = Mutex(Log())
        func withLock<T>(_ body: (inout Log) -> T) -> T { state.withLock { body(&$0) } }
    }

    /// Starts a server answering with `handler`.
    public static func start(port: Int = 0, _ handler: @escaping Handler) async throws -> FakeOllama {
        let accepted = Accepted()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try accepted.wrap(channel)
                }
            }
        return FakeOllama(server: server, accepted: accepted, handler: handler)
    }

    private init(server: NIOAsyncChannel<Connection, Never>, accepted: Accepted, handler: @escaping Handler) {
        self.port = server.channel.localAddress?.port ?? 0
        self.serverChannel = server.channel
        self.accepted = accepted
        let log = self.log
        self.acceptTask = Task {
            try? await server.executeThenClose { inbound in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await connection in inbound {
                            accepted.take(connection)
                            log.withLock { $0.opened += 1 }
                            connection.channel.closeFuture.whenComplete { _ in log.withLock { $0.closed += 1 } }
                            group.addTask {
                                await Self.serve(connection, handler: handler, log: log)
                            }
                        }
                    } catch {}
                    group.cancelAll()
                }
            }
        }
    }

    /// Runs `body` with a started server and shuts it down afterwards, whatever happens.
    public static func with<T>(_ handler: @escaping Handler, _ body: (FakeOllama) async throws -> T) async throws -> T {
        let fake = try await start(handler)
        do {
            let result = try await body(fake)
            await fake.shutdown()
            return result
        } catch {
            await fake.shutdown()
            throw error
        }
    }

    /// Closes the listening socket and ends every connection. The accept loop is not cancelled:
    /// closing the socket ends its stream after the connections already accepted, and each of
    /// those is served (and closed) as cancelled; one accepted as the socket closed, which the
    /// loop never took, is closed by ``Accepted/close()``.
    public func shutdown() async {
        try? await serverChannel.close()
        await acceptTask.value
        await accepted.close()
    }

    /// Every request received so far, in order.
    public var requests: [FakeRequest] { log.withLock { $0.requests } }
    /// Connections accepted so far.
    public var openedConnections: Int { log.withLock { $0.opened } }
    /// Connections closed so far, by either side.
    public var closedConnections: Int { log.withLock { $0.closed } }

    private static func serve(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, handler: Handler,
        log: Recorder
    ) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.clear()
                case .body(var buffer):
                    body.writeBuffer(&buffer)
                case .end:
                    guard let head else { return }
                    let request = FakeRequest(
                        method: head.method.rawValue, path: head.uri,
                        headers: head.headers.map { ($0.name, $0.value) },
                        body: Array(body.readableBytesView))
                    log.withLock { $0.requests.append(request) }
                    let response = await handler(request)
                    if response.status == FakeResponse.noReply.status { return }
                    var headers = HTTPHeaders(response.headers)
                    if let length = response.contentLength {
                        headers.replaceOrAdd(name: "Content-Length", value: String(length))
                    }
                    try await outbound.write(
                        .head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: response.status), headers: headers)))
                    for step in response.steps {
                        switch step {
                        case .send(let bytes):
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                        case .sleep(let duration):
                            try await Task.sleep(for: duration)
                        case .wait(let go):
                            await go()
                        case .drop:
                            return
                        }
                    }
                    try await outbound.write(.end(nil))
                }
            }
        }
    }

    /// A port on 127.0.0.1 where nothing listens (bound, then closed).
    public static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 1
        try await channel.close()
        return port
    }
}

/// A request as the fake received it.
public struct FakeRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object, if it is one.
    public var json: [String: any Sendable]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: any Sendable]
    }

    /// The `model` field of a JSON body.
    public var model: String? { json?["model"] as? String }

    /// The `content` of the last message of a chat body.
    public var lastMessage: String? {
        ((json?["messages"] as? [Any])?.last as? [String: Any])?["content"] as? String
    }
}
