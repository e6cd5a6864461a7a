//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Where and why a text is not JSON, as ``JSONValue/parse(utf8:)`` reports it:
/// `line 2, column 17: a trailing comma before '}'`.
public struct JSONSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based; columns count characters (UTF-8 sequences), not bytes.
    public var line: Int
    public var column: Int
    public var reason: String

    public init(line: Int, column: Int, reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String { "line \(line), column \(column): \(reason)" }

    /// The error at byte `offset` of `bytes`, its line and column counted from the start.
    init(_ bytes: UnsafeRawBufferPointer, at offset: Int, _ reason: String) {
        var line = 1
        var column = 1
        for byte in bytes[..<min(offset, bytes.count)] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        self.init(line: line, column: column, reason: reason)
    }

    /// What was found where something else was expected, for reasons; with a hint for the usual
    /// non-JSON (comments, single quotes).
    static func show(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "/"): "'/' (a comment? JSON has none)"
        case UInt8(ascii: "'"): "a single quote (JSON strings use double quotes)"
        case 0x21...0x7E: "'\(Character(Unicode.Scalar(byte)))'"
        default: "the byte 0x\(hex(byte))"
        }
    }

    /// Two hex digits, lower case.
    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }
}
