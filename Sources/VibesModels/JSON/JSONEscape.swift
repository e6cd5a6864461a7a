//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// JSON's string escapes, for the project's JSON parser (``JSONParser``).
enum JSONEscape {
    /// Reads one escape at `index` (just after its backslash) and appends what it stands for,
    /// as UTF-8; a `\u` high surrogate must be followed by its low one. `false`: not a valid
    /// escape (`index` is then somewhere inside it).
    static func unescape(_ bytes: UnsafeRawBufferPointer, at index: inout Int, into output: inout [UInt8]) -> Bool {
        guard index < bytes.count else { return false }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(byte)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "u"):
            guard var scalar = hex4(bytes, at: &index) else { return false }
            if scalar >= 0xD800 && scalar < 0xDC00 {
                guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return false }
                index += 2
                guard let low = hex4(bytes, at: &index), low >= 0xDC00, low < 0xE000 else { return false }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                return false
            }
            guard let unicode = Unicode.Scalar(scalar) else { return false }
            output.append(contentsOf: UTF8.encode(unicode)!)
        default:
            return false
        }
        return true
    }

    /// Four hex digits at `index`.
    static func hex4(_ bytes: UnsafeRawBufferPointer, at index: inout Int) -> UInt32? {
        guard bytes.count - index >= 4 else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}
