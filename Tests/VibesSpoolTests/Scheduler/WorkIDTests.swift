//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
@testable import VibesSpool

@Suite struct WorkIDTests {
    /// The tie-break between equal queue times: lines before jobs, each in the order numbered, so
    /// a batch's lines handed over together start in the file's order.
    @Test func tiesGoToLinesFirstThenInTheOrderNumbered() {
        let ids: [WorkID] = [.job(2), .line(3), .job(1), .line(1), .line(2)]
        #expect(ids.sorted() == [.line(1), .line(2), .line(3), .job(1), .job(2)])
    }
}
