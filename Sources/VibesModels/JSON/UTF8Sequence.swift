//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// UTF-8 validation by hand, for bytes that are not a `String` yet (a stream line, a file name).
package enum UTF8Sequence {
    /// The length of the well-formed UTF-8 sequence starting at `start` (1 for ASCII), or `nil`:
    /// a stray continuation byte, an overlong form, a surrogate, beyond U+10FFFF, or cut short.
    @inlinable
    package static func length<Bytes: RandomAccessCollection>(in bytes: Bytes, at start: Int) -> Int?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        let lead = bytes[start]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return nil
        }
        guard bytes.endIndex - start >= length else { return nil }
        let second = bytes[start + 1]
        guard second >= low, second <= high else { return nil }
        for offset in 2..<length where bytes[start + offset] & 0xC0 != 0x80 { return nil }
        return length
    }
}
