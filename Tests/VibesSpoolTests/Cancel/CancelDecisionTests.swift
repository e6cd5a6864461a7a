//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import Testing
@testable import VibesSpool

/// The cancel decisions as plain values: the file's content, its hour, what it names, what the
/// command reports, and the scheduler's part.
@Suite struct CancelDecisionTests {
    @Test func aCancelFilesContentSaysCancelledOrExpired() {
        #expect(CancelReason.parse([]) == .cancelled)
        #expect(CancelReason.parse(Array(" \n".utf8)) == .cancelled)
        #expect(CancelReason.parse(Array(#"{"reason": "expired"}"#.utf8)) == .expired)
        #expect(CancelReason.parse(Array(#"{"reason":"expired"}  "#.utf8)) == .expired)
        #expect(CancelReason.parse(Array(#"{"reason": "other"}"#.utf8)) == .cancelled)
        #expect(CancelReason.parse(Array("expired".utf8)) == .cancelled)
        #expect(CancelReason.parse([0xff, 0xfe]) == .cancelled)
    }

    @Test func theEnvelopesMessageSaysWhenAndThatItWasAskedFor() {
        let failure = CancelRequest(id: "job-1", askedAt: 0).failure(at: Date(timeIntervalSince1970: 0))
        #expect(failure.kind == .cancelled)
        #expect(failure.message == "Cancelled at 1970-01-01T00:00:00.000Z (cancel/job-1).")
        #expect(failure.retryable == false)
        #expect(CancelRequest(id: "b", reason: .expired, askedAt: 0).lineFailure(at: Date()).kind == .batchExpired)
        #expect(CancelRequest(id: "b", askedAt: 0).lineFailure(at: Date()).kind == .batchCancelled)
    }

    @Test func aCancelIsLiveForAnHourAndAppliesToJobsQueuedBeforeIt() {
        let request = CancelRequest(id: "x", askedAt: 1000)
        #expect(request.isLive(now: 1000 + 3599))
        #expect(!request.isLive(now: 1000 + 3600))
        #expect(request.isLive(now: 10), "a clock set back counts as young")
        #expect(request.applies(queuedAt: 900, now: 1_000_000), "queued before the cancel: cancelled, however late")
        #expect(request.applies(queuedAt: 2000, now: 2500), "dropped within the hour")
        #expect(!request.applies(queuedAt: 5000, now: 5000), "dropped after the hour")
    }

    @Test func theWorkerDecidesFromWhatTheCancelNames() {
        let request = CancelRequest(id: "x", askedAt: 1000)
        #expect(CancelDecision.decide(request, target: .batch(queuedAt: 900), now: 1001) == .cancelBatch)
        #expect(CancelDecision.decide(request, target: .job(queuedAt: 900), now: 1001) == .cancelJob)
        #expect(CancelDecision.decide(request, target: .job(queuedAt: 9000), now: 9001) == .expire)
        #expect(CancelDecision.decide(request, target: .finished(record: "done/x.result.json"), now: 1001) == .alreadyFinished(record: "done/x.result.json"))
        #expect(CancelDecision.decide(request, target: .nothing, now: 1001) == .wait)
        #expect(CancelDecision.decide(request, target: .nothing, now: 4601) == .expire)
    }

    @Test func theCommandReportsOneOfThreeOutcomes() {
        #expect(CancelReport.decide(record: "failed/x.error.json", byThisCancel: true, place: nil) == .cancelled)
        #expect(CancelReport.decide(record: "done/x.result.json", byThisCancel: false, place: nil) == .alreadyFinished(record: "done/x.result.json"))
        #expect(CancelReport.decide(record: nil, byThisCancel: false, place: nil) == .noSuchJob)
        #expect(CancelReport.decide(record: nil, byThisCancel: false, place: "active/") == .notYetActedOn(where: "active/"))
        #expect(CancelReport.cancelled.text("x") == "x: cancelled")
        #expect(CancelReport.alreadyFinished(record: "done/x.result.json").text("x") == "x: already finished (done/x.result.json)")
        #expect(CancelReport.noSuchJob.text("x").hasPrefix("x: no such job"))
        #expect(CancelReport.cancelled.succeeded && !CancelReport.noSuchJob.succeeded)
    }

    @Test func theSchedulerFailsAWaitingJobCancelsARunningOneAndIgnoresTheRest() {
        let base = ContinuousClock.now
        func t(_ seconds: Double) -> ContinuousClock.Instant { base + .seconds(seconds) }
        var s = Scheduler(hosts: [("http://a", 1)], options: .init(), now: t(0))
        _ = s.start(now: t(0))
        _ = s.handle(.hostModels(host: 0, installed: ["m"], loaded: []), now: t(0))
        let started = s.handle(.queued([QueuedRequest(name: "a.json", model: "m", queuedAt: t(1), id: "a")]), now: t(1))
        #expect(started == [.start(token: .job(1), name: "a.json", host: 0)])
        #expect(s.handle(.queued([QueuedRequest(name: "b.json", model: "m", queuedAt: t(2), id: "bee")]), now: t(2)).isEmpty)
        let cancelB = CancelRequest(id: "bee", askedAt: 3)
        #expect(s.handle(.cancel(cancelB), now: t(3)) == [.fail(token: .job(2), name: "b.json", .cancelled(cancelB))], "waiting: claimed and failed")
        #expect(s.handle(.cancel(cancelB), now: t(3)).isEmpty, "once")
        let cancelA = CancelRequest(id: "a", askedAt: 3)
        #expect(s.handle(.cancel(cancelA), now: t(3)) == [.cancelAttempt(token: .job(1), cancelA)], "running: its attempt is cancelled")
        #expect(s.handle(.cancel(CancelRequest(id: "nobody", askedAt: 3)), now: t(3)).isEmpty)
        // Retrying: failed at once, without a claim (it is held).
        _ = s.handle(.attemptFailed(token: .job(1), AttemptFailure(.retryable, attempts: 1)), now: t(4))
        #expect(s.retrying[.job(1)] != nil)
        #expect(s.handle(.cancel(cancelA), now: t(4)) == [.fail(token: .job(1), name: nil, .cancelled(cancelA))])
        #expect(s.retrying[.job(1)] == nil)
        _ = s.handle(.jobEnded(token: .job(1), outcome: .failed(unreachable: false)), now: t(5))
        #expect(s.ids["a"] == nil, "forgotten with the job")
    }
}
