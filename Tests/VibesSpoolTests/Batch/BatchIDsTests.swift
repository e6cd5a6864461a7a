//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
@testable import VibesSpool

/// The ids of a batch's output lines (`batch_req_…`, `req_…`, `chatcmpl-…`), three a line,
/// written as hex digits in place.
@Suite struct BatchIDsTests {
    @Test func batchIDsAreThePrefixAnd24LowercaseHexDigitsAndDistinct() {
        var seen = Set<String>()
        for prefix in ["batch_req_", "req_", "chatcmpl-"] {
            for _ in 0..<1000 {
                let id = BatchIDs.make(prefix)
                #expect(id.hasPrefix(prefix))
                let digits = id.dropFirst(prefix.count)
                #expect(digits.count == 24)
                #expect(digits.allSatisfy { "0123456789abcdef".contains($0) })
                seen.insert(String(digits))
            }
        }
        #expect(seen.count == 3000)
        // Not all the same digit in a place: the digits vary (a constant would pass the rest).
        let firsts = Set((0..<64).map { _ in BatchIDs.make("").first! })
        #expect(firsts.count > 4)
    }
}
