//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Hummingbird
import Logging

/// Turns every error into OpenAI's error body: ``APIError`` as it is, the router's "no route"
/// into 404 (no such path) or 405 (the path exists with another method), Hummingbird's own
/// errors with their status, anything else into a 500 that is logged.
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as HTTPError {
            if error.status == .notFound {
                let allowed = RouteTable.methods(for: request.uri.path)
                guard allowed.isEmpty else {
                    var response = APIError.methodNotAllowed(method: request.method.rawValue, path: request.uri.path).response
                    response.headers[.allow] = allowed.joined(separator: ", ")
                    return response
                }
                return APIError.invalidURL(method: request.method.rawValue, path: request.uri.path).response
            }
            if error.status == .contentTooLarge { return APIError(status: .contentTooLarge, message: "The request body is too large.").response }
            return APIError(status: error.status, message: error.body ?? error.status.reasonPhrase).response
        } catch {
            context.logger.error("\(request.method) \(request.uri.path): \(error)")
            return APIError.server("The server failed: \(error)").response
        }
    }
}

/// With API keys, every request needs `Authorization: Bearer KEY` (401 without).
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeys

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !keys.isEmpty else { return try await next(request, context) }
        let header = request.headers[.authorization]
        guard keys.accepts(authorization: header) else { throw APIError.unauthorized(missing: header == nil) }
        return try await next(request, context)
    }
}
