//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Hummingbird
import NIOCore
import VibesModels

extension JSONValue {
    /// The value as a JSON response (the project's JSON writer).
    func response(status: HTTPResponse.Status = .ok) -> Response {
        var bytes = jsonBytes
        bytes.append(UInt8(ascii: "\n"))
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension APIError {
    var response: Response {
        var response = json.response(status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}

/// The routes and their methods, for telling a wrong method (405) from a path that is no route
/// (404). `*` is one path segment.
enum RouteTable {
    static let routes: [(pattern: [Substring], methods: [String])] = [
        ("/", ["GET"]), ("/v1/files", ["GET", "POST"]), ("/v1/files/*", ["GET", "DELETE"]), ("/v1/files/*/content", ["GET"]),
        ("/v1/batches", ["GET", "POST"]), ("/v1/batches/*", ["GET"]), ("/v1/batches/*/cancel", ["POST"]), ("/v1/models", ["GET"]),
    ].map { (pattern: $0.0.split(separator: "/"), methods: $0.1) }

    /// The methods `path` is served with (empty: no route).
    static func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/")
        for route in routes where route.pattern.count == segments.count {
            if zip(route.pattern, segments).allSatisfy({ $0 == "*" || $0 == $1 }) { return route.methods }
        }
        return []
    }
}
