//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// The keys of `--api-key-file` (one a line; blank lines and `#` comments skipped), and the
/// check of `Authorization: Bearer KEY` in constant time.
package struct APIKeys: Sendable, Equatable {
    let keys: [[UInt8]]

    package init(keys: [String]) {
        self.keys = keys.map { Array($0.utf8) }
    }

    /// Reads the file's text.
    package init(fileText: String) {
        self.init(keys: fileText.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces }.filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }

    package var isEmpty: Bool { keys.isEmpty }

    /// Whether an `Authorization` header's value carries one of the keys. Every key is compared
    /// over the whole of the presented one, whatever matched before, so the time taken tells
    /// nothing of how much of a key was right (only, at most, the presented key's length).
    package func accepts(authorization: String?) -> Bool {
        guard let authorization, authorization.utf8.count > 7 else { return false }
        let scheme = authorization.prefix(7).lowercased()
        guard scheme == "bearer " else { return false }
        let presented = Array(authorization.utf8.dropFirst(7))
        var matched: UInt8 = 0
        for key in keys {
            matched |= Self.equal(presented, key)
        }
        return matched == 1
    }

    /// 1 when `a == b`, else 0, in a time that depends on `a`'s length only.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> UInt8 {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in a.indices {
            difference |= a[index] ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0 ? 1 : 0
    }
}
