//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

extension StringProtocol {
    /// Without leading and trailing white space (spaces, tabs, newlines).
    /// FoundationEssentials has no `trimmingCharacters(in:)`, and full Foundation costs ~6 MiB of RSS.
    package func trimmingWhitespace() -> String {
        trimming(where: { $0.isWhitespace })
    }

    /// Without leading and trailing characters that match `predicate`.
    package func trimming(where predicate: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !predicate($0) }), let last = lastIndex(where: { !predicate($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
