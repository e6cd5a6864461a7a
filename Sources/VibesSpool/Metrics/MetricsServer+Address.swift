//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

extension MetricsServer {
    /// `HOST:PORT` or `[IPv6]:PORT`, as given to `--metrics-listen`.
    package struct Address: Sendable, Equatable, CustomStringConvertible {
        package var host: String
        package var port: Int

        package init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Parses `HOST:PORT` (a name or IPv4 address) or `[IPv6]:PORT`; the port is 0 to 65535
        /// (0: any free port).
        /// - Throws: ``ParseError`` with a message for the user.
        package init(parsing text: String) throws {
            let hostPart: Substring
            let portPart: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else {
                    throw ParseError("'\(text)': an IPv6 address is written [ADDRESS]:PORT, e.g. [::1]:9464")
                }
                hostPart = text[text.index(after: text.startIndex)..<close]
                portPart = text[text.index(close, offsetBy: 2)...]
                guard hostPart.contains(":") else {
                    throw ParseError("'\(text)': [...] is for IPv6 addresses; write an IPv4 address or name without brackets")
                }
            } else {
                guard let colon = text.lastIndex(of: ":") else {
                    throw ParseError("'\(text)': give HOST:PORT, e.g. 127.0.0.1:9464")
                }
                hostPart = text[..<colon]
                portPart = text[text.index(after: colon)...]
                guard !hostPart.contains(":") else {
                    throw ParseError("'\(text)': write an IPv6 address in brackets, e.g. [::1]:9464")
                }
            }
            guard !hostPart.isEmpty else {
                throw ParseError("'\(text)': the host is missing (0.0.0.0:PORT listens on every IPv4 address)")
            }
            guard !hostPart.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                throw ParseError("'\(text)': '\(hostPart)' is not a host name or address")
            }
            guard portPart.allSatisfy(\.isASCII), let port = Int(portPart), (0...65535).contains(port) else {
                throw ParseError("'\(text)': the port must be a number from 0 to 65535")
            }
            self.init(host: String(hostPart), port: port)
        }

        package var description: String {
            host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// A `--metrics-listen` value that is not `HOST:PORT`.
    package struct ParseError: Error, CustomStringConvertible {
        package var description: String
        init(_ message: String) { description = message }
    }
}
