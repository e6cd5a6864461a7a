//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing
@testable import VibesSpool

/// The edge between file times and the scheduler's monotonic instants.
@Suite struct WallClockTests {
    @Test func oneWallTimeIsOneInstantAndOrderIsKept() {
        let mtime = Date().timeIntervalSince1970 - 5
        let first = WallClock.instant(since1970: mtime)
        #expect(WallClock.instant(since1970: mtime) == first, "two files with one modification time")
        #expect(WallClock.instant(since1970: mtime + 0.001) > first)
        let age = ContinuousClock.now - first
        #expect(age > .seconds(4.9) && age < .seconds(6), "five seconds old")
    }

    @Test func anInstantGoesBackToItsWallTime() {
        let wall = Date().timeIntervalSince1970 + 30
        let back = WallClock.date(of: WallClock.instant(since1970: wall)).timeIntervalSince1970
        #expect(abs(back - wall) < 0.001)
    }
}
