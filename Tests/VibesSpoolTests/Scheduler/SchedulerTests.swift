//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
@testable import VibesSpool

/// The scheduler alone: events in, actions out. No files, no tasks, no clock: instants are a
/// fixed base plus durations.
@Suite struct SchedulerTests {
    static let base = ContinuousClock.now

    /// The instant `seconds` after the base.
    func t(_ seconds: Double) -> ContinuousClock.Instant { Self.base + .seconds(seconds) }

    static let a = "http://a:11434"
    static let b = "http://b:11434"

    /// A scheduler whose hosts have answered with these models (none loaded).
    func scheduler(_ hosts: [(String, [String])], slots: Int = 1, options: Scheduler.Options = .init()) -> Scheduler {
        var scheduler = Scheduler(hosts: hosts.map { ($0.0, slots) }, options: options, now: t(0))
        #expect(scheduler.start(now: t(0)) == hosts.indices.map { .refreshModels(host: $0) })
        for (index, host) in hosts.enumerated() {
            _ = scheduler.handle(.hostModels(host: index, installed: host.1, loaded: []), now: t(0))
        }
        return scheduler
    }

    func request(_ name: String, _ model: String, at time: Double, priority: Int = 0) -> QueuedRequest {
        QueuedRequest(name: name, model: model, priority: priority, queuedAt: t(time))
    }

    /// The jobs started by `actions`, as (name, host).
    func starts(_ actions: [SchedulerAction]) -> [(String?, Int?)] {
        actions.compactMap { if case .start(_, let name, let host) = $0 { (name, host) } else { nil } }
    }

    func token(_ actions: [SchedulerAction], _ wanted: String) -> WorkID? {
        for case .start(let token, let name, _) in actions where name == wanted { return token }
        return nil
    }

    @Test func jobsGoOnlyToAHostThatListsTheirModel() {
        var s = scheduler([(Self.a, ["m1"]), (Self.b, ["m2:latest"])])
        let actions = s.handle(.queued([request("x.json", "m2", at: 1), request("y.json", "m1:latest", at: 2)]), now: t(3))
        #expect(starts(actions).map(\.0) == ["y.json", "x.json"] || starts(actions).map(\.0) == ["x.json", "y.json"])
        #expect(starts(actions).first { $0.0 == "x.json" }?.1 == 1, "m2 (as m2:latest) is on b only")
        #expect(starts(actions).first { $0.0 == "y.json" }?.1 == 0)
    }

    @Test func aModelOnNoHostIsAskedForOnceMoreThenFailsNamingTheHosts() {
        var s = scheduler([(Self.a, ["m1"]), (Self.b, ["m2"])])
        let asked = s.handle(.queued([request("x.json", "nope", at: 1)]), now: t(1))
        #expect(asked == [.refreshModels(host: 0), .refreshModels(host: 1)])
        #expect(s.handle(.hostModels(host: 0, installed: ["m1"], loaded: []), now: t(2)).isEmpty)
        let failed = s.handle(.hostModels(host: 1, installed: ["m2"], loaded: []), now: t(2))
        #expect(failed == [.fail(token: .job(1), name: "x.json", .modelNotInstalled(hostsAsked: [Self.a, Self.b]))])
    }

    @Test func aModelPulledMeanwhileRuns() {
        var s = scheduler([(Self.a, ["m1"])])
        #expect(s.handle(.queued([request("x.json", "new", at: 1)]), now: t(1)) == [.refreshModels(host: 0)])
        #expect(starts(s.handle(.hostModels(host: 0, installed: ["m1", "new"], loaded: []), now: t(2))).map(\.0) == ["x.json"])
    }

    /// Two models alternating on a host with one slot: the loaded model's jobs go first.
    @Test func modelOrderTakesTheLoadedModelFirst() {
        for order in [JobOrder.model, .fifo] {
            var s = scheduler([(Self.a, ["a", "b"])], options: .init(order: order))
            var actions = s.handle(.queued((1...6).map { request("j\($0).json", $0 % 2 == 1 ? "a" : "b", at: Double($0)) }), now: t(10))
            var ran: [String] = []
            while let (token, name) = actions.lazy.compactMap({ action -> (WorkID, String)? in
                if case .start(let token, let name?, _) = action { return (token, name) } else { return nil }
            }).first {
                ran.append(name)
                actions = s.handle(.generationEnded(token: token), now: t(11))
                _ = s.handle(.jobEnded(token: token, outcome: .done), now: t(11))
            }
            if order == .model {
                #expect(ran == ["j1.json", "j3.json", "j5.json", "j2.json", "j4.json", "j6.json"])
            } else {
                #expect(ran == (1...6).map { "j\($0).json" })
            }
        }
    }

    @Test func reloadOptionsCountAsAnotherModel() {
        var s = scheduler([(Self.a, ["a"])])
        _ = s.handle(.hostModels(host: 0, installed: ["a"], loaded: ["a"]), now: t(0))
        _ = s.handle(.queued([QueuedRequest(name: "busy.json", model: "a", queuedAt: t(0))]), now: t(0))
        let big = QueuedRequest(name: "big.json", model: "a", loadKey: ModelKey.load(model: "a", options: ["num_ctx": .int(32768)]), queuedAt: t(1))
        let plain = QueuedRequest(name: "plain.json", model: "a", queuedAt: t(2))
        _ = s.handle(.queued([big, plain]), now: t(3))
        // busy.json holds the slot; when it ends, the job with the loaded options goes first.
        let actions = s.handle(.generationEnded(token: .job(1)), now: t(4))
        #expect(starts(actions).map(\.0) == ["plain.json"])
    }

    @Test func aJobPassedOverPastMaxWaitGoesFirst() {
        var s = scheduler([(Self.a, ["a", "b"])], options: .init(order: .model, maxWait: .seconds(120)))
        _ = s.handle(.hostModels(host: 0, installed: ["a", "b"], loaded: ["a"]), now: t(0))
        _ = s.handle(.queued([request("first.json", "a", at: 0)]), now: t(0))  // runs now
        _ = s.handle(.queued([request("old-b.json", "b", at: 1), request("new-a.json", "a", at: 100)]), now: t(100))
        #expect(starts(s.handle(.generationEnded(token: .job(1)), now: t(110))).map(\.0) == ["new-a.json"], "b has waited 109 s: not yet")
        #expect(starts(s.handle(.generationEnded(token: .job(3)), now: t(122))).map(\.0) == ["old-b.json"], "b has waited 121 s")
    }

    @Test func higherPriorityFirstEvenWhenNewerAndNotLoaded() {
        var s = scheduler([(Self.a, ["a", "b"])])
        _ = s.handle(.hostModels(host: 0, installed: ["a", "b"], loaded: ["a"]), now: t(0))
        _ = s.handle(.queued([request("running.json", "a", at: 0)]), now: t(0))
        _ = s.handle(.queued([request("low.json", "a", at: 1), request("urgent.json", "b", at: 5, priority: 10)]), now: t(5))
        #expect(starts(s.handle(.generationEnded(token: .job(1)), now: t(6))).map(\.0) == ["urgent.json"])
    }

    @Test func aRetryHoldsNoSlotAndComesBackWhenDue() {
        var s = scheduler([(Self.a, ["m"])], options: .init(retries: 3, backoffBase: .seconds(1)))
        let first = s.handle(.queued([request("r.json", "m", at: 0), request("next.json", "m", at: 1)]), now: t(1))
        #expect(starts(first).map(\.0) == ["r.json"])
        let failed = s.handle(.attemptFailed(token: .job(1), AttemptFailure(.retryable, attempts: 1)), now: t(2))
        #expect(failed.contains(.log(.retrying(token: .job(1), at: t(3)))))
        #expect(failed.contains(.wake(at: t(3))))
        #expect(starts(failed).map(\.0) == ["next.json"], "the slot went to the next job at once")
        _ = s.handle(.generationEnded(token: .job(2)), now: t(2.5))
        #expect(s.handle(.tick, now: t(2.9)).isEmpty, "not due yet")
        #expect(starts(s.handle(.tick, now: t(3))).map(\.0) == [nil], "due: the claimed job runs again")
    }

    @Test func aRetryPastTheJobsDeadlineFailsAtOnce() {
        var s = scheduler([(Self.a, ["m"])], options: .init(retries: 3, backoffBase: .seconds(1)))
        _ = s.handle(.queued([request("r.json", "m", at: 0)]), now: t(1))
        let actions = s.handle(.attemptFailed(token: .job(1), AttemptFailure(.retryable, attempts: 1, deadline: t(2.5))), now: t(2))
        #expect(actions == [.fail(token: .job(1), name: nil, .attemptError)])
    }

    @Test func aHostThatStopsAnsweringPausesAloneAndItsJobMovesAtOnce() {
        var s = scheduler([(Self.a, ["m"]), (Self.b, ["m"])], slots: 1)
        let started = s.handle(.queued([request("one.json", "m", at: 0), request("two.json", "m", at: 1)]), now: t(1))
        #expect(starts(started).map(\.1) == [0, 1])
        let failed = s.handle(.attemptFailed(token: .job(1), AttemptFailure(.unreachable, attempts: 1)), now: t(2))
        #expect(failed.contains(.log(.hostDown(host: 0))))
        #expect(failed.contains(.probe(host: 0, after: .seconds(1))))
        #expect(!failed.contains { if case .log(.retrying) = $0 { true } else { false } }, "no backoff")
        #expect(starts(failed).isEmpty, "b is busy")
        #expect(starts(s.handle(.generationEnded(token: .job(2)), now: t(3))) .map(\.1) == [1], "one.json on b, before any backoff")
        // The probe fails again: probed later, with backoff.
        #expect(s.handle(.hostUnreachable(host: 0), now: t(4)) == [.probe(host: 0, after: .seconds(2))])
        #expect(s.handle(.hostAnswered(host: 0), now: t(5)) == [.refreshModels(host: 0)])
        #expect(s.handle(.hostModels(host: 0, installed: ["m"], loaded: []), now: t(5)) == [.log(.hostUp(host: 0))])
    }

    @Test func everyHostDownFailsOneJobNamingThemThenPausesUntilOneAnswers() {
        var s = scheduler([(Self.a, ["m"]), (Self.b, ["m"])], options: .init(retries: 0))
        #expect(starts(s.handle(.queued([request("j1.json", "m", at: 0), request("j2.json", "m", at: 1)]), now: t(1))).map(\.1) == [0, 1])
        let moved = s.handle(.attemptFailed(token: .job(2), AttemptFailure(.unreachable, attempts: 1)), now: t(2))
        #expect(moved.filter { if case .fail = $0 { true } else { false } }.isEmpty, "a still answers: j2 waits for it")
        let failed = s.handle(.attemptFailed(token: .job(1), AttemptFailure(.unreachable, attempts: 1)), now: t(3))
        #expect(failed.contains(.fail(token: .job(1), name: nil, .unreachable(hosts: [Self.a, Self.b]))), "one failure, naming every host")
        #expect(failed.contains(.log(.paused(reason: "Ollama not running at \(Self.a), \(Self.b)"))))
        #expect(starts(failed).isEmpty, "j2 is not tried and failed too")
        #expect(failed.contains(.putBack(token: .job(2))), "paused: j2 goes back, for workers elsewhere")
        _ = s.handle(.jobEnded(token: .job(2), outcome: .putBack), now: t(3))
        #expect(starts(s.handle(.queued([request("j2.json", "m", at: 1)]), now: t(3))).isEmpty, "paused: not claimed")
        #expect(starts(s.handle(.tick, now: t(30))).isEmpty, "paused")
        _ = s.handle(.jobEnded(token: .job(1), outcome: .failed(unreachable: true)), now: t(31))
        let back = s.handle(.hostModels(host: 1, installed: ["m"], loaded: []), now: t(40))
        #expect(back.contains(.log(.resumed)))
        #expect(starts(back).map(\.1) == [1], "j2 on b as soon as b answers")
    }

    /// A host down from the start takes no trial while another has not answered: the job waits
    /// for that answer (the trial could fail it, naming the silent host as not running).
    @Test func aDownHostTakesNoTrialWhileAnotherHasNotAnswered() {
        var s = Scheduler(hosts: [(Self.a, 1), (Self.b, 1)], options: .init(retries: 0), now: t(0))
        _ = s.start(now: t(0))
        _ = s.handle(.hostUnreachable(host: 0), now: t(0))
        #expect(starts(s.handle(.queued([request("j1.json", "m", at: 0)]), now: t(1))).isEmpty, "b may have m")
        #expect(starts(s.handle(.hostModels(host: 1, installed: ["m"], loaded: []), now: t(2))).map(\.1) == [1])
    }

    @Test func aFullDiskPausesClaimingAndTheAttemptDoesNotCount() {
        var s = scheduler([(Self.a, ["m"])], slots: 2)
        _ = s.handle(.queued([request("j1.json", "m", at: 0)]), now: t(0))
        let paused = s.handle(.attemptFailed(token: .job(1), AttemptFailure(.diskFull, attempts: 0)), now: t(1))
        #expect(paused == [.log(.paused(reason: "the spool's disk is full")), .probeDisk(after: .seconds(1)), .putBack(token: .job(1))], "paused: not held")
        _ = s.handle(.jobEnded(token: .job(1), outcome: .putBack), now: t(1))
        #expect(starts(s.handle(.queued([request("j1.json", "m", at: 0), request("j2.json", "m", at: 2)]), now: t(2))).isEmpty)
        #expect(s.handle(.diskProbed(ok: false), now: t(3)) == [.probeDisk(after: .seconds(2))])
        let resumed = s.handle(.diskProbed(ok: true), now: t(5))
        #expect(resumed.first == .log(.resumed))
        #expect(starts(resumed).map(\.0) == ["j1.json", "j2.json"], "the job put back first (the oldest), then the next")
    }

    @Test func shutdownPutsBackHeldJobsAndExitsWhenNothingRuns() {
        var s = scheduler([(Self.a, ["m"])], slots: 1)
        _ = s.handle(.queued([request("r.json", "m", at: 0), request("run.json", "m", at: 1), request("wait.json", "m", at: 2)]), now: t(2))
        _ = s.handle(.attemptFailed(token: .job(1), AttemptFailure(.retryable, attempts: 1)), now: t(3))
        let stop = s.handle(.shutdown, now: t(3.5))
        #expect(stop.contains(.putBack(token: .job(1))))
        #expect(starts(stop).isEmpty)
        #expect(!s.handle(.jobEnded(token: .job(1), outcome: .putBack), now: t(4)).contains(.exit), "run.json still runs")
        _ = s.handle(.generationEnded(token: .job(2)), now: t(4))
        #expect(s.handle(.jobEnded(token: .job(2), outcome: .done), now: t(5)) == [.exit])
    }

    @Test func onceExitsWhenTheQueueIsDoneButWaitsForTheHostsFirstAnswer() {
        var s = Scheduler(hosts: [(Self.a, 1)], options: .init(once: true), now: t(0))
        _ = s.start(now: t(0))
        #expect(s.handle(.queued([]), now: t(0)).isEmpty, "the host's models are not in yet")
        #expect(s.handle(.hostModels(host: 0, installed: ["m"], loaded: []), now: t(0)) == [.log(.hostUp(host: 0)), .exit])
    }

    @Test func aFileThatIsNotARequestIsClaimedWithoutASlot() {
        var s = scheduler([(Self.a, ["m"])])
        _ = s.handle(.queued([request("busy.json", "m", at: 0)]), now: t(0))
        let actions = s.handle(.queued([QueuedRequest(name: "bad.json", model: nil, queuedAt: t(1))]), now: t(1))
        #expect(starts(actions).map(\.0) == ["bad.json"])
        #expect(starts(actions).map(\.1) == [nil])
    }

    @Test func aNamePutBackAfterASpoolErrorWaitsLongerEachTime() {
        var s = scheduler([(Self.a, ["m"])], options: .init(backoffBase: .seconds(1)))
        _ = s.handle(.queued([request("x.json", "m", at: 0)]), now: t(0))
        _ = s.handle(.heldBack(name: "x.json"), now: t(1))
        _ = s.handle(.jobEnded(token: .job(1), outcome: .putBack), now: t(1))
        let again = s.handle(.queued([request("x.json", "m", at: 0)]), now: t(1))
        #expect(starts(again).isEmpty)
        #expect(again.contains(.wake(at: t(2))))
        #expect(starts(s.handle(.tick, now: t(2))).map(\.0) == ["x.json"])
        _ = s.handle(.heldBack(name: "x.json"), now: t(3))
        _ = s.handle(.jobEnded(token: .job(2), outcome: .putBack), now: t(3))
        #expect(s.handle(.queued([request("x.json", "m", at: 0)]), now: t(3)).contains(.wake(at: t(5))), "2 s the second time")
    }

    @Test func aReplyCutOffMovesToAnotherHostAtOnceAndPausesItsHost() {
        var s = scheduler([(Self.a, ["m"]), (Self.b, ["m"])])
        _ = s.handle(.queued([request("j.json", "m", at: 0)]), now: t(0))
        let actions = s.handle(.attemptFailed(token: .job(1), AttemptFailure(.broken, attempts: 1)), now: t(1))
        #expect(actions.contains(.log(.hostDown(host: 0))))
        #expect(actions.contains(.log(.moved(token: .job(1), from: 0))))
        #expect(starts(actions).map(\.1) == [1], "on b, without a backoff")
        // With one host, a cut-off reply waits its backoff (and tries the same host again).
        var one = scheduler([(Self.a, ["m"])])
        _ = one.handle(.queued([request("j.json", "m", at: 0)]), now: t(0))
        let retry = one.handle(.attemptFailed(token: .job(1), AttemptFailure(.broken, attempts: 1)), now: t(1))
        #expect(retry.contains(.wake(at: t(2))))
        #expect(starts(one.handle(.tick, now: t(2))).map(\.1) == [0], "tried again on its host, as the probe")
    }
}
