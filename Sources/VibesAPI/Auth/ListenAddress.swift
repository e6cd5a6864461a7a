//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// `--listen HOST:PORT` (`[::1]:PORT` for IPv6), and the rule that without API keys only a
/// loopback address may be used.
package struct ListenAddress: Sendable, Equatable {
    package var host: String
    package var port: Int

    package static let defaultValue = ListenAddress(host: "127.0.0.1", port: 11435)

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `HOST:PORT`; throws a message for people.
    package init(parsing text: String) throws(ListenError) {
        var host: Substring
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { throw ListenError("--listen '\(text)': expected [IPv6]:PORT") }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ListenError("--listen '\(text)': expected HOST:PORT, e.g. 127.0.0.1:11435") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else {
            throw ListenError("--listen '\(text)': expected HOST:PORT with a port from 0 to 65535")
        }
        self.init(host: String(host), port: port)
    }

    /// Whether the host is a loopback address: 127.0.0.0/8, ::1 or `localhost`.
    package var isLoopback: Bool {
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Refuses a non-loopback address when there are no keys.
    package func check(hasKeys: Bool) throws(ListenError) {
        guard hasKeys || isLoopback else {
            throw ListenError("""
                refusing to listen on \(host):\(port) without API keys: anyone who can reach it could submit batches \
                and read every result. Give --api-key-file FILE (one key a line), or listen on a loopback address \
                (127.0.0.1, ::1).
                """)
        }
    }
}

/// A setting `serve` cannot start with, said for people.
package struct ListenError: Error, Sendable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
