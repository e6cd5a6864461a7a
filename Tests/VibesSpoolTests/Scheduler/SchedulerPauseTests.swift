//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
@testable import VibesSpool

/// A paused worker keeps nothing claimed that it is not running: the scheduler alone.
extension SchedulerTests {
    /// x fails with a 500 and waits out its backoff (or, `due`, is due again and waits for the
    /// slot y holds); z waits in incoming/. y finds Ollama gone for good: the worker pauses, and
    /// x goes back; z, never claimed, stays where it is.
    @Test(arguments: [false, true])
    func anOllamaPausePutsBackRetryingAndWaitingJobs(due: Bool) {
        var s = scheduler([(Self.a, ["m"])], slots: 1, options: .init(retries: 3, backoffBase: .seconds(1)))
        let first = s.handle(.queued([request("x.json", "m", at: 0), request("y.json", "m", at: 1)]), now: t(1))
        #expect(starts(first).map(\.0) == ["x.json"])
        let retry = s.handle(.attemptFailed(token: .job(1), AttemptFailure(.retryable, attempts: 1)), now: t(2))
        #expect(starts(retry).map(\.0) == ["y.json"], "x holds no slot while it waits")
        _ = s.handle(.queued([request("z.json", "m", at: 3)]), now: t(3))
        if due { #expect(starts(s.handle(.tick, now: t(3.5))).isEmpty, "x is due, y holds the slot") }
        let paused = s.handle(.attemptFailed(token: .job(2), AttemptFailure(.unreachable, attempts: 4)), now: t(4))
        #expect(paused.contains(.fail(token: .job(2), name: nil, .unreachable(hosts: [Self.a]))))
        #expect(paused.contains(.log(.paused(reason: "Ollama not running at \(Self.a)"))))
        #expect(paused.contains(.putBack(token: .job(1))))
        #expect(paused.filter { if case .putBack = $0 { true } else { false } }.count == 1, "z was never claimed")
        #expect(starts(paused).isEmpty)
        #expect(s.handle(.tick, now: t(10)).isEmpty, "x's old retry time does nothing")
        #expect(!s.handle(.jobEnded(token: .job(1), outcome: .putBack), now: t(11)).contains { if case .start = $0 { true } else { false } })
    }

    @Test func aFullDiskPutsBackTheJobItHitAndTheRetryingOnes() {
        var s = scheduler([(Self.a, ["m"])], slots: 2, options: .init(retries: 3, backoffBase: .seconds(1)))
        _ = s.handle(.queued([request("x.json", "m", at: 0), request("y.json", "m", at: 1)]), now: t(1))
        _ = s.handle(.attemptFailed(token: .job(1), AttemptFailure(.retryable, attempts: 1)), now: t(2))
        let paused = s.handle(.attemptFailed(token: .job(2), AttemptFailure(.diskFull, attempts: 0)), now: t(2.5))
        #expect(paused == [.log(.paused(reason: "the spool's disk is full")), .probeDisk(after: .seconds(1)), .putBack(token: .job(1)), .putBack(token: .job(2))])
    }

    @Test func aJobFailingWhilePausedGoesBackInsteadOfWaiting() {
        // Two slots: y's attempt was under way when x's failure paused the worker.
        var s = scheduler([(Self.a, ["m"])], slots: 2, options: .init(retries: 3, backoffBase: .seconds(1)))
        _ = s.handle(.queued([request("x.json", "m", at: 0), request("y.json", "m", at: 1)]), now: t(1))
        _ = s.handle(.attemptFailed(token: .job(1), AttemptFailure(.unreachable, attempts: 4)), now: t(2))
        let later = s.handle(.attemptFailed(token: .job(2), AttemptFailure(.unreachable, attempts: 1)), now: t(3))
        #expect(later == [.putBack(token: .job(2))], "no retry held while paused")
    }
}
