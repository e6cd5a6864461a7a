//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Reads an `OLLAMA_HOST` value by the rules of Ollama's own Python client (`_parse_host`).
///
/// - No scheme: `http://` and port 11434. `http://host`: port 80. `https://host`: port 443.
/// - `:5678` is `127.0.0.1:5678`; an empty value is `http://127.0.0.1:11434`.
/// - A trailing `/` is dropped; a path is kept. IPv6 addresses are bracketed.
/// - `0.0.0.0` and `::` (listen-on-all addresses) become loopback, as Ollama's Go client does
///   when it connects.
public enum OllamaHost {
    public static let defaultPort = 11434
    public static let defaultBaseURL = "http://127.0.0.1:11434"

    /// The base URL for `value` (an `OLLAMA_HOST` string or a `--ollama-url`).
    public static func baseURL(from value: String?) -> String {
        let raw = (value ?? "").trimmingWhitespace()
        var scheme = "http"
        var port = defaultPort
        var rest = raw
        if let separator = raw.firstRange(of: "://") {
            scheme = raw[..<separator.lowerBound].lowercased()
            rest = String(raw[separator.upperBound...])
            if scheme == "http" { port = 80 } else if scheme == "https" { port = 443 }
        }

        // Split authority from path.
        let authority: Substring
        let path: Substring
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            authority = rest[..<slash]
            path = rest[slash...].prefix(while: { $0 != "?" && $0 != "#" })
        } else {
            authority = rest[...]
            path = ""
        }
        // Drop user info.
        let hostPort = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""

        var host: String
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":"), let parsed = Int(after.dropFirst()) { port = parsed }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            if let parsed = Int(hostPort[hostPort.index(after: colon)...]) { port = parsed }
        } else {
            host = String(hostPort)
        }
        host = host.lowercased()
        if host.isEmpty || host == "0.0.0.0" { host = "127.0.0.1" }
        if host == "::" || host == "0:0:0:0:0:0:0:0" { host = "::1" }
        if host.contains(":") { host = "[\(host)]" }

        let trimmedPath = path.trimming(where: { $0 == "/" })
        return trimmedPath.isEmpty ? "\(scheme)://\(host):\(port)" : "\(scheme)://\(host):\(port)/\(trimmedPath)"
    }

    /// The base URL from an explicit value, else the environment's `OLLAMA_HOST`, else the default.
    public static func resolve(explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return baseURL(from: explicit) }
        if let env = environment["OLLAMA_HOST"], !env.isEmpty { return baseURL(from: env) }
        return defaultBaseURL
    }
}
