//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// The ids `serve` hands out, and the only ones it accepts: `file-HEX`, `batch_HEX`, and a
/// batch's output and errors files `file-HEX-output`, `file-HEX-errors` (HEX the batch's).
/// HEX is 24 lowercase hex digits: the creation time in microseconds (14 digits, so ids sort by
/// time) and 40 random bits. An id of any other shape names nothing (404), so no request can
/// name a path: `../`, `/` and the like never reach the file system.
package enum APIID: Sendable, Equatable {
    case upload(hex: String)
    case batch(hex: String)
    case output(batchHex: String)
    case errors(batchHex: String)

    /// A new id's HEX part for the time `microseconds` (since 1970).
    package static func newHex(microseconds: Int64) -> String {
        hex(UInt64(max(0, microseconds)), digits: 14) + hex(UInt64.random(in: 0..<(1 << 40)), digits: 10)
    }

    static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text.suffix(digits)
    }

    /// Reads an id of a file (`file-…`); `nil` for anything else.
    package static func parseFile(_ id: String) -> APIID? {
        guard id.hasPrefix("file-") else { return nil }
        let rest = id.dropFirst(5)
        let hex = String(rest.prefix(24))
        guard isHex(hex) else { return nil }
        switch rest.dropFirst(24) {
        case "": return .upload(hex: hex)
        case "-output": return .output(batchHex: hex)
        case "-errors": return .errors(batchHex: hex)
        default: return nil
        }
    }

    /// Reads a batch id (`batch_…`); `nil` for anything else.
    package static func parseBatch(_ id: String) -> APIID? {
        guard id.hasPrefix("batch_") else { return nil }
        let hex = String(id.dropFirst(6))
        return isHex(hex) ? .batch(hex: hex) : nil
    }

    static func isHex(_ text: String) -> Bool {
        text.utf8.count == 24 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The id as a string.
    package var string: String {
        switch self {
        case .upload(let hex): "file-\(hex)"
        case .batch(let hex): "batch_\(hex)"
        case .output(let hex): "file-\(hex)-output"
        case .errors(let hex): "file-\(hex)-errors"
        }
    }
}
