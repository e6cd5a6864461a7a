//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// A file name as the kernel has it: bytes, not necessarily UTF-8 (no `/`, no NUL).
///
/// The spool's worker-facing API (``SpoolDirectory/queuedRequests()``,
/// ``SpoolDirectory/claim(_:workerID:)``, the watcher's events, ``SpoolDirectory/isRequestName(_:)``)
/// passes names as `String`s in the ``escaped`` form, which names every file exactly once:
///
/// - a name that is valid UTF-8 and has no backslash is itself;
/// - otherwise each `\` is written `\\`, and each byte that is not part of valid UTF-8 `\xHH`
///   (two lowercase hex digits): `bad\xff\xfe1.json`.
///
/// ``init(escaped:)`` reads that form back into the same bytes.
package struct FileName: Hashable, Sendable, CustomStringConvertible {
    package let bytes: [UInt8]

    package init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The bytes of `escaped` (see the type's documentation). A backslash that starts no escape is
    /// taken as it is.
    package init(escaped: String) {
        let text = Array(escaped.utf8)
        guard text.contains(UInt8(ascii: "\\")) else {
            bytes = text
            return
        }
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "\\"), index + 1 < text.count {
                if text[index + 1] == UInt8(ascii: "\\") {
                    result.append(byte)
                    index += 2
                    continue
                }
                if text[index + 1] == UInt8(ascii: "x"), index + 3 < text.count,
                    let high = Self.hexValue(text[index + 2]), let low = Self.hexValue(text[index + 3])
                {
                    result.append(high << 4 | low)
                    index += 4
                    continue
                }
            }
            result.append(byte)
            index += 1
        }
        bytes = result
    }

    /// Whether the name is valid UTF-8.
    package var isValidUTF8: Bool { String(validating: bytes, as: UTF8.self) != nil }

    /// The injective text form (see the type's documentation).
    package var escaped: String {
        if let text = String(validating: bytes, as: UTF8.self), !bytes.contains(UInt8(ascii: "\\")) { return text }
        return Self.escapingInvalidUTF8(bytes, doublingBackslashes: true)
    }

    /// For people: the name itself when it is valid UTF-8, else with each byte that is not part
    /// of valid UTF-8 written `\xHH` (backslashes kept as they are; not injective).
    package var description: String {
        String(validating: bytes, as: UTF8.self) ?? Self.escapingInvalidUTF8(bytes, doublingBackslashes: false)
    }

    /// `bytes` as text: valid UTF-8 sequences as they are, every other byte as `\xHH`.
    static func escapingInvalidUTF8(_ bytes: [UInt8], doublingBackslashes: Bool) -> String {
        var result = ""
        var index = 0
        while index < bytes.count {
            let length = UTF8Sequence.length(in: bytes, at: index) ?? 0
            if length == 0 {
                result += "\\x" + Self.hex(bytes[index])
                index += 1
            } else {
                let piece = String(decoding: bytes[index..<index + length], as: UTF8.self)
                result += doublingBackslashes && piece == "\\" ? "\\\\" : piece
                index += length
            }
        }
        return result
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A path for a system call: bytes ending in NUL, and a readable form for messages.
struct RawPath: Sendable, CustomStringConvertible {
    let cString: [CChar]
    let description: String

    init(_ path: String) {
        cString = path.utf8CString.map { $0 }
        description = path
    }

    /// `directory/name`.
    init(_ directory: String, _ name: FileName) {
        var bytes = Array(directory.utf8)
        bytes.append(UInt8(ascii: "/"))
        bytes += name.bytes
        bytes.append(0)
        cString = bytes.map { CChar(bitPattern: $0) }
        description = "\(directory)/\(name)"
    }
}
