//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import VibesSpool

/// `serve`'s HTTP server: the routes, the middlewares (OpenAI's errors outermost, then the key
/// check) and the limits, on Hummingbird.
extension APIService {
    /// Every route, behind the middlewares.
    package func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: OpenAIErrorMiddleware())
        router.add(middleware: BearerAuthMiddleware(keys: settings.keys))
        router.get("/") { _, _ in
            let status = try await NIOThreadPool.singleton.runIfActive { try SpoolStatus.read(self.settings.spool) }
            var response = Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: StatusPage.html(status))))
            response.headers[.cacheControl] = "no-store"
            return response
        }
        addFileRoutes(to: router)
        addBatchRoutes(to: router)
        return router
    }

    /// The application: the server on `settings.listen`, and the expiry sweep beside it.
    package func application(logger: Logger, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: .seconds(settings.idleTimeoutSeconds))),
            configuration: ApplicationConfiguration(
                address: .hostname(settings.listen.host, port: settings.listen.port), serverName: "vibes-spool",
                availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections)),
            services: [ExpirySweep(service: self)],
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
