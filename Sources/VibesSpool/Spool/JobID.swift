//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// How a request's file name becomes its job id, so that every name the worker derives from
/// the id fits the file system's `NAME_MAX` (255 bytes).
///
/// The longest derived name is `.ID.result.json.tmp` (the id plus 17 bytes); others are
/// `ID.partial`, `ID.txt`, `ID.error.json`, `.ID.json.attempts`, `ID~N` for uniqueness, and a
/// batch's `ID.output.jsonl`. So an id is at most ``maxBytes`` (200) bytes, which leaves room for
/// every suffix and a `~N`:
///
/// - the id is the file name without `.json`; a name that is not valid UTF-8 has each byte that
///   is not part of valid UTF-8 written `\xHH` (`bad\xff\xfe1.json` runs as `bad\xff\xfe1`, with
///   literal backslashes);
/// - an id over 200 bytes is shortened to its first 183 bytes (cut at a character boundary),
///   `-`, and 16 hex digits of the 64-bit FNV-1a hash of the whole id: exactly 200 bytes or fewer,
///   the same for the same name every time.
///
/// A request's own `id` field (at most 128 bytes) is never shortened.
package enum JobID {
    /// The longest id, in UTF-8 bytes.
    package static let maxBytes = 200

    /// The job id for a request file named `name` (which ends in `.json`).
    package static func forRequest(named name: FileName) -> String {
        let stem = FileName(bytes: Array(name.bytes.dropLast(name.bytes.count >= 5 ? 5 : 0)))
        return fitting(stem.description)
    }

    /// `id` itself when it is at most ``maxBytes`` long, else shortened as the type describes.
    package static func fitting(_ id: String) -> String {
        let bytes = Array(id.utf8)
        guard bytes.count > maxBytes else { return id }
        let digest = fnv1a64(bytes)
        let hex = String(digest, radix: 16)
        let suffix = "-" + String(repeating: "0", count: 16 - hex.count) + hex
        var cut = maxBytes - suffix.utf8.count
        // Never split a character: back off over continuation bytes (10xxxxxx).
        while cut > 0 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        return String(decoding: bytes[..<cut], as: UTF8.self) + suffix
    }

    /// 64-bit FNV-1a: small, stable across runs and machines (unlike `Hasher`).
    static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
