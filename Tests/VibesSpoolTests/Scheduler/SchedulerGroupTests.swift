//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
@testable import VibesSpool

/// Embedding work grouped into one request: events in, actions out.
@Suite struct SchedulerGroupTests {
    static let a = "http://a:11434"
    static let base = ContinuousClock.now

    /// The instant `seconds` after the base.
    func t(_ seconds: Double) -> ContinuousClock.Instant { Self.base + .seconds(seconds) }

    func scheduler(slots: Int = 1, group: Int = 16, bytes: Int = 1 << 20, options: Scheduler.Options = .init()) -> Scheduler {
        var options = options
        options.embedGroup = group
        options.embedGroupBytes = bytes
        var scheduler = Scheduler(hosts: [(Self.a, slots)], options: options, now: t(0))
        _ = scheduler.start(now: t(0))
        _ = scheduler.handle(.hostModels(host: 0, installed: ["e", "c"], loaded: []), now: t(0))
        return scheduler
    }

    /// An embedding job of model `e` with settings `key`.
    func embed(_ name: String, at time: Double, key: String = "k", inputs: Int = 1, bytes: Int = 10, priority: Int = 0) -> QueuedRequest {
        QueuedRequest(name: name, model: "e", priority: priority, queuedAt: t(time), embed: EmbedShape(key: key, inputs: inputs, bytes: bytes))
    }

    /// What was started, by names: a group as several names, a single job as one.
    func started(_ actions: [SchedulerAction]) -> [[String]] {
        actions.compactMap { action in
            switch action {
            case .start(_, let name?, _): [name]
            case .startGroup(let members, _): members.map { $0.name ?? "?" }
            default: nil
            }
        }
    }

    func tokens(_ actions: [SchedulerAction]) -> [WorkID] {
        actions.flatMap { action -> [WorkID] in
            switch action {
            case .start(let token, _, _): [token]
            case .startGroup(let members, _): members.map(\.token)
            default: []
            }
        }
    }

    /// Ends every started token's generation and job; returns what started next.
    func finish(_ tokens: [WorkID], _ s: inout Scheduler) -> [SchedulerAction] {
        var next: [SchedulerAction] = []
        for token in tokens {
            next += s.handle(.generationEnded(token: token), now: t(5))
            next += s.handle(.jobEnded(token: token, outcome: .done), now: t(5))
        }
        return next
    }

    @Test func workOfOneModelAndSettingsGoesAsOneGroupOldestFirst() {
        var s = scheduler()
        let chat = QueuedRequest(name: "chat.json", model: "e", queuedAt: t(4))
        let first = s.handle(
            .queued([embed("e1.json", at: 1), embed("d2.json", at: 2, key: "other"), embed("e3.json", at: 3), chat, embed("e5.json", at: 5)]), now: t(6))
        #expect(started(first) == [["e1.json", "e3.json", "e5.json"]], "one request: the same key only; the others wait")
        let second = finish(tokens(first), &s)
        #expect(started(second) == [["d2.json"]], "alone: nothing else has its settings")
        #expect(started(finish(tokens(second), &s)) == [["chat.json"]])
    }

    @Test func aGroupStopsAtTheInputAndByteLimitsInOrder() {
        var s = scheduler(group: 4)
        let first = s.handle(.queued([embed("a.json", at: 1), embed("b.json", at: 2, inputs: 2), embed("c.json", at: 3, inputs: 2), embed("d.json", at: 4)]), now: t(5))
        #expect(started(first) == [["a.json", "b.json"]], "c does not fit (5 inputs); d does not jump it")
        #expect(started(finish(tokens(first), &s)) == [["c.json", "d.json"]])

        var small = scheduler(bytes: 25)
        let bytes = small.handle(.queued([embed("a.json", at: 1), embed("b.json", at: 2), embed("c.json", at: 3)]), now: t(5))
        #expect(started(bytes) == [["a.json", "b.json"]], "30 bytes would pass the limit of 25")
    }

    @Test func aJobOverTheLimitGoesAlone() {
        var s = scheduler(group: 4)
        let first = s.handle(.queued([embed("big.json", at: 1, inputs: 9), embed("b.json", at: 2)]), now: t(5))
        #expect(started(first) == [["big.json"]])
        #expect(started(finish(tokens(first), &s)) == [["b.json"]])
    }

    @Test func aGroupTakesOnlyItsPriority() {
        var s = scheduler()
        let first = s.handle(.queued([embed("low1.json", at: 1), embed("high.json", at: 2, priority: 5), embed("low2.json", at: 3)]), now: t(5))
        #expect(started(first) == [["high.json"]], "the higher priority first, alone")
        #expect(started(finish(tokens(first), &s)) == [["low1.json", "low2.json"]])
    }

    @Test func offWithGroupOfOne() {
        var s = scheduler(slots: 2, group: 1)
        let first = s.handle(.queued([embed("a.json", at: 1), embed("b.json", at: 2), embed("c.json", at: 3)]), now: t(5))
        #expect(started(first) == [["a.json"], ["b.json"]])
        #expect(!first.contains { if case .startGroup = $0 { true } else { false } })
    }

    /// A group holds one slot, until its last member leaves it.
    @Test func aGroupHoldsOneSlotUntilItsLastMemberLeaves() {
        var s = scheduler(slots: 2, group: 3)
        let first = s.handle(.queued((1...7).map { embed("j\($0).json", at: Double($0)) }), now: t(8))
        #expect(started(first) == [["j1.json", "j2.json", "j3.json"], ["j4.json", "j5.json", "j6.json"]])
        #expect(s.hosts[0].free == 0)
        let group = tokens(first).prefix(3)
        // Two members done, one failed and retrying: the slot frees with the last.
        #expect(started(s.handle(.generationEnded(token: group[0]), now: t(9))).isEmpty)
        #expect(started(s.handle(.generationEnded(token: group[1]), now: t(9))).isEmpty)
        let retried = s.handle(.attemptFailed(token: group[2], AttemptFailure(.retryable, attempts: 1)), now: t(9))
        #expect(started(retried) == [["j7.json"]], "the slot is free: j7 runs; the failed member waits out its backoff alone")
        #expect(retried.contains(.log(.retrying(token: group[2], at: t(10)))))
    }

    /// A host that dies cuts the group: each member is moved (or retried) on its own.
    @Test func aGroupCutByAHostDyingGoesOnPerMember() {
        var s = Scheduler(hosts: [(Self.a, 1), ("http://b:11434", 1)], options: .init(), now: t(0))
        _ = s.start(now: t(0))
        _ = s.handle(.hostModels(host: 0, installed: ["e"], loaded: []), now: t(0))
        let first = s.handle(.queued([embed("a.json", at: 1), embed("b.json", at: 2)]), now: t(3))
        #expect(started(first) == [["a.json", "b.json"]])
        let members = tokens(first)
        _ = s.handle(.hostModels(host: 1, installed: ["e"], loaded: []), now: t(3))
        let cut = s.handle(.attemptFailed(token: members[0], AttemptFailure(.broken, attempts: 1)), now: t(4))
        #expect(cut.contains(.log(.moved(token: members[0], from: 0))))
        #expect(cut.contains(.start(token: members[0], name: nil, host: 1)), "at once on the other host, alone (the other member still holds host a)")
        let second = s.handle(.attemptFailed(token: members[1], AttemptFailure(.broken, attempts: 1)), now: t(4))
        #expect(second.contains(.log(.moved(token: members[1], from: 0))))
        #expect(s.hosts[0].shared == 0 && s.hosts[0].generating.isEmpty)
    }

    /// Model order and max-wait keep working: an old job of another model is not passed over
    /// for a group of the loaded model once it has waited past max-wait.
    @Test func maxWaitStillBoundsTheLoadedModelsGroups() {
        var options = Scheduler.Options()
        options.maxWait = .seconds(10)
        var s = scheduler(options: options)
        let first = s.handle(.queued([embed("e1.json", at: 1)]), now: t(1))
        #expect(started(first) == [["e1.json"]])
        _ = s.handle(.queued([QueuedRequest(name: "chat.json", model: "c", queuedAt: t(2)), embed("e2.json", at: 3), embed("e3.json", at: 4)]), now: t(4))
        // At 5: e is loaded and chat.json has waited 3 s: the group of e first.
        #expect(started(finish(tokens(first), &s)) == [["e2.json", "e3.json"]])
        var late = scheduler(options: options)
        let again = late.handle(.queued([embed("e1.json", at: 1)]), now: t(1))
        _ = late.handle(.queued([QueuedRequest(name: "chat.json", model: "c", queuedAt: t(-20)), embed("e2.json", at: 3)]), now: t(4))
        #expect(started(finish(tokens(again), &late)) == [["chat.json"]], "past max-wait: the oldest first")
    }

    /// Batch lines (held already) and jobs from incoming/ group alike, oldest first; a line
    /// has no name to claim.
    @Test func linesAndJobsShareAGroup() {
        var s = scheduler()
        let busy = s.handle(.queued([QueuedRequest(name: "chat.json", model: "c", queuedAt: t(0))]), now: t(0))
        #expect(started(busy) == [["chat.json"]])
        _ = s.handle(.lines([QueuedLine(token: .line(1), request: embed("b#1", at: 1))]), now: t(1))
        _ = s.handle(.queued([embed("job.json", at: 2)]), now: t(2))
        _ = s.handle(.lines([QueuedLine(token: .line(2), request: embed("b#2", at: 3))]), now: t(3))
        let group = finish(tokens(busy), &s)
        guard case .startGroup(let members, host: 0)? = group.first else {
            Issue.record("no group: \(group)")
            return
        }
        #expect(members.map(\.token).first == .line(1) && members.map(\.token).last == .line(2))
        #expect(members.map(\.name) == [nil, "job.json", nil])
    }
}
