//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Logging

/// Escapes the characters that could split or forge a log line, so that one event is one line
/// whatever file names, ids, models or error texts it carries:
///
/// - `\n`, `\r`, `\t` are written `\n`, `\r`, `\t`;
/// - every other control character (C0 U+0000–U+001F, DEL U+007F, C1 U+0080–U+009F) and the
///   line and paragraph separators U+2028, U+2029 are written `\u{XX}` (hex, as Swift writes it).
///
/// Everything else, backslashes included, is left as it is. A name that is not UTF-8 reaches
/// the log already in its escaped form (`\xHH`, see ``FileName``).
package enum LogEscaping {
    package static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscaping) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where needsEscaping(scalar):
                let hex = String(scalar.value, radix: 16)
                result += "\\u{" + (hex.count < 2 ? "0" + hex : hex) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `value` with every string in it escaped (a `stringConvertible` becomes its escaped description).
    package static func escape(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .string(let text): .string(escape(text))
        case .stringConvertible(let item): .string(escape(item.description))
        case .array(let items): .array(items.map { escape($0) })
        case .dictionary(let metadata): .dictionary(escape(metadata))
        }
    }

    package static func escape(_ metadata: Logger.Metadata) -> Logger.Metadata {
        var result: Logger.Metadata = [:]
        for (key, value) in metadata { result[escape(key)] = escape(value) }
        return result
    }

    static func needsEscaping(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: true
        default: false
        }
    }
}

/// A log handler that escapes every event (message, metadata, source; see ``LogEscaping``) and
/// hands it to `Inner` (e.g. swift-log's `StreamLogHandler`, which writes one line per event).
///
/// It keeps the logger's metadata and metadata provider itself, so that no text reaches `Inner`
/// unescaped; an event's error becomes the metadata `error.message` and `error.type`, as
/// `StreamLogHandler` would write it.
package struct EscapingLogHandler<Inner: LogHandler>: LogHandler {
    package var inner: Inner
    package var metadata: Logger.Metadata
    package var metadataProvider: Logger.MetadataProvider?

    package init(_ inner: Inner) {
        self.inner = inner
        self.metadata = inner.metadata
        self.metadataProvider = inner.metadataProvider
        self.inner.metadata = [:]
        self.inner.metadataProvider = nil
    }

    package var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var escaped = event
        escaped.error = nil
        escaped.message = "\(LogEscaping.escape(event.message.description))"
        escaped.metadata = merged.isEmpty ? nil : LogEscaping.escape(merged)
        escaped.source = LogEscaping.escape(event.source)
        inner.log(event: escaped)
    }
}
