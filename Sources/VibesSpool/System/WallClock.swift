//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// The edge between the wall clock and the monotonic clock.
///
/// The worker and the scheduler run on `ContinuousClock` (a step of the wall clock moves no
/// retry, no backoff and no `--max-wait`); the wall clock is only read where a time comes from
/// a file (a request's modification time) or goes into one (a retry's `next_at` in the state
/// file). Both directions convert through one pair of readings of the two clocks, so that two
/// file times convert alike (files with one modification time keep the order they were seen
/// in); the pair is read again when the two clocks have drifted more than a second apart (the
/// wall clock was stepped), so that a file's age stays right after a step.
enum WallClock {
    private struct Pair {
        var instant: ContinuousClock.Instant
        var since1970: Double
    }

    private static let pair = Mutex<Pair?>(nil)

    /// The monotonic instant of a wall time (seconds since 1970).
    static func instant(since1970 seconds: Double) -> ContinuousClock.Instant {
        let pair = current()
        return pair.instant + .seconds(seconds - pair.since1970)
    }

    /// The wall time of a monotonic instant.
    static func date(of instant: ContinuousClock.Instant) -> Date {
        let pair = current()
        return Date(timeIntervalSince1970: pair.since1970 + (instant - pair.instant).seconds)
    }

    private static func current() -> Pair {
        let now = Pair(instant: .now, since1970: Date().timeIntervalSince1970)
        return pair.withLock { pair in
            if let kept = pair, abs((now.instant - kept.instant).seconds - (now.since1970 - kept.since1970)) <= 1 { return kept }
            pair = now
            return now
        }
    }
}
