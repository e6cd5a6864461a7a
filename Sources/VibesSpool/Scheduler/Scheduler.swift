//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Decides which job runs where and when, and nothing else: a value that takes events and
/// returns actions. It does no I/O, reads no clock (time comes in with each event, as an instant
/// of the monotonic clock: a step of the wall clock moves no retry) and starts no task; the worker (``SpoolWorker``) turns its actions into effects.
///
/// A job is *waiting* (in `incoming/`, or claimed and due for another attempt), *running* (on
/// a host's slot), *committing* (its reply is in, or it fails: no slot held) or *retrying*
/// (claimed, waiting out a backoff: no slot held). A host is *unknown* (its first model list
/// not in yet), *up* or *down* (probed with backoff; it may run one job as a trial when no up
/// host has that job's model).
struct Scheduler {
    struct Options: Sendable, Equatable {
        var order: JobOrder = .model
        var maxWait: Duration = .seconds(120)
        var retries = 3
        var backoffBase: Duration = .seconds(1)
        var backoffCap: Duration = .seconds(60)
        var once = false
        /// Most inputs in one `/api/embed` request (`--embed-group`); 1: each job or line alone.
        var embedGroup = WorkerDefaults.embedGroup
        /// Most input bytes (UTF-8) in one such request.
        var embedGroupBytes = WorkerDefaults.embedGroupBytes

        /// The delay before retry (or probe) number `n` (1-based): base, 2×base, … capped.
        func backoff(_ n: Int) -> Duration {
            min(backoffBase * (1 << min(max(n - 1, 0), 20)), backoffCap)
        }
    }

    struct Host: Equatable {
        enum State: Equatable { case unknown, up, down }
        var url: String
        var slots: Int
        var state = State.unknown
        /// Installed models (normalized names); `nil` until the host has answered once.
        var installed: Set<String>?
        /// Load keys believed loaded: `/api/ps`, then the jobs started since.
        var loaded: Set<String> = []
        /// Jobs holding a slot (a group's members share one).
        var generating: Set<WorkID> = []
        /// Of those, the ones riding on another member's request: not a slot each.
        var shared = 0
        var failedProbes = 0
        var refreshing = false
        /// A job tried on this host while it is down (the probe that a user sees fail).
        var trial: WorkID?
        /// This outage has had its `ollama_not_running` failure: no more trials until it is up.
        var reported = false

        var free: Int { state == .up ? max(0, slots - (generating.count - shared)) : 0 }
    }

    struct Job: Equatable {
        enum State: Equatable { case waiting, running(host: Int?), committing, retrying(at: ContinuousClock.Instant) }
        /// Its name in `incoming/`, until it ends.
        var name: String
        /// The id a cancel names it by (empty for batch lines).
        var id = ""
        /// Normalized model; `nil` for a file that is not a valid request.
        var model: String?
        var loadKey: String
        var priority: Int
        var queuedAt: ContinuousClock.Instant
        var embed: EmbedShape?
        var state = State.waiting
        /// Claimed by this worker (it came back for another attempt).
        var claimed = false
        var retries = 0
    }

    let options: Options
    var hosts: [Host]
    var jobs: [WorkID: Job] = [:]
    var names: [String: WorkID] = [:]
    /// Jobs by the id a cancel names (see ``QueuedRequest/id``).
    var ids: [String: WorkID] = [:]
    var queue = JobQueue()
    /// Jobs queued so far: the last ``WorkID/job(_:)`` number given.
    var jobsQueued = 0
    var stopping = false
    /// Every host down after an `ollama_not_running` failure: nothing is claimed.
    var unreachableSince: ContinuousClock.Instant?
    /// The spool's disk is full: nothing is claimed; failed disk probes so far.
    var diskFull: (since: ContinuousClock.Instant, probes: Int)?
    /// Disk probes since a job last ended: a disk that fills again right after a resume is
    /// probed later and later, not in a loop.
    var diskProbes = 0
    /// Names put back after a spool error: not claimed again before `until`.
    var cooling: [String: (until: ContinuousClock.Instant, strikes: Int)] = [:]
    /// Requests seen while their name cools down.
    var delayed: [QueuedRequest] = []
    /// Batches whose lines are still coming.
    var openBatches: Set<String> = []
    /// Jobs waiting out a backoff, and when it ends: kept apart so that time events cost the
    /// number of retries, not the number of jobs.
    var retrying: [WorkID: ContinuousClock.Instant] = [:]
    /// The members of each group started as one request still holding its slot, by group
    /// (its first member's token), and each member's group.
    var groups: [WorkID: Set<WorkID>] = [:]
    var groupOf: [WorkID: WorkID] = [:]
    /// Hosts asked for their model lists because some waiting model is on none.
    var missingRound: Set<Int>?
    var wakeAt: ContinuousClock.Instant?
    var exited = false
    private(set) var now: ContinuousClock.Instant

    /// `now`: when it starts (each event brings the time it is handled at).
    init(hosts: [(url: String, slots: Int)], options: Options, now: ContinuousClock.Instant) {
        self.now = now
        self.hosts = hosts.map { Host(url: $0.url, slots: max(1, $0.slots)) }
        self.options = options
    }

    /// Jobs waiting for a slot (not running, committing or retrying).
    var waiting: Int { jobs.values.reduce(0) { $1.state == .waiting ? $0 + 1 : $0 } }

    /// What to do first: read every host's model lists.
    mutating func start(now: ContinuousClock.Instant) -> [SchedulerAction] {
        self.now = now
        return hosts.indices.map { index in
            hosts[index].refreshing = true
            return .refreshModels(host: index)
        }
    }

    mutating func handle(_ event: SchedulerEvent, now: ContinuousClock.Instant) -> [SchedulerAction] {
        self.now = now
        var actions: [SchedulerAction] = []
        switch event {
        case .queued(let requests): queued(requests, &actions)
        case .batchOpened(let id): openBatches.insert(id)
        case .batchClosed(let id): openBatches.remove(id)
        case .lines(let lines): queuedLines(lines, &actions)
        case .claimEnded(let token): end(token)
        case .hostModels(let host, let installed, let loaded): hostAnswered(host, installed: installed, loaded: loaded, &actions)
        case .hostUnreachable(let host): hostUnreachable(host, &actions)
        case .hostAnswered(let host):
            hosts[host].refreshing = true
            actions.append(.refreshModels(host: host))
        case .generationEnded(let token):
            guard let job = jobs[token], case .running(let host) = job.state else { break }
            jobs[token]!.state = .committing
            if let host {
                release(token, from: host)
                if hosts[host].state == .down && !hosts[host].refreshing {
                    // A job ran on a host believed down: it is back.
                    hosts[host].refreshing = true
                    actions.append(.refreshModels(host: host))
                }
            }
        case .attemptFailed(let token, let failure): attemptFailed(token, failure, &actions)
        case .heldBack(let name):
            let strikes = (cooling[name]?.strikes ?? 0) + 1
            cooling[name] = (now + options.backoff(strikes), strikes)
        case .jobEnded(let token, let outcome):
            if outcome != .putBack {
                diskProbes = 0
                if let name = jobs[token]?.name { cooling[name] = nil }
            }
            end(token)
        case .diskProbed(let ok): diskProbed(ok, &actions)
        case .tick: wakeAt = wakeAt.flatMap { $0 > now ? $0 : nil }
        case .refreshDue:
            for index in hosts.indices where hosts[index].state == .up && !hosts[index].refreshing {
                hosts[index].refreshing = true
                actions.append(.refreshModels(host: index))
            }
        case .shutdown: shutdown(&actions)
        case .cancel(let request): cancel(request, &actions)
        }
        schedule(&actions)
        return actions
    }

    // MARK: Scheduling

    private mutating func schedule(_ actions: inout [SchedulerAction]) {
        wakeForRetries(&actions)
        if !stopping && diskFull == nil {
            checkMissing(&actions)
            fillSlots(&actions)
        }
        if !exited && shouldExit {
            exited = true
            actions.append(.exit)
        }
    }

    /// Nothing runs, nothing waits for a timer or an answer, and nothing can start.
    private var shouldExit: Bool {
        guard stopping || options.once else { return false }
        if hosts.contains(where: { $0.state == .unknown || $0.refreshing }) && !stopping { return false }
        if diskFull != nil && !stopping { return false }
        if !openBatches.isEmpty && !stopping { return false }
        // The quick answers first: a full scan is left for when the queue has drained.
        if !retrying.isEmpty || hosts.contains(where: { !$0.generating.isEmpty }) { return false }
        return !jobs.values.contains { job in
            switch job.state {
            case .running, .committing, .retrying: true
            case .waiting: job.claimed
            }
        }
    }

    /// Moves retries that are due back into the queue; asks for a tick at the next one.
    private mutating func wakeForRetries(_ actions: inout [SchedulerAction]) {
        var next: ContinuousClock.Instant?
        for (token, at) in retrying {
            if at <= now {
                retrying[token] = nil
                guard var job = jobs[token], case .retrying = job.state else { continue }
                requeue(token, &job)
            } else {
                next = min(next ?? at, at)
            }
        }
        if !delayed.isEmpty {
            let due = delayed.filter { cooling[$0.name].map { $0.until <= now } ?? true }
            delayed.removeAll { cooling[$0.name].map { $0.until <= now } ?? true }
            queued(due, &actions)
            for request in delayed {
                let at = cooling[request.name]!.until
                next = min(next ?? at, at)
            }
        }
        if let next, wakeAt.map({ next < $0 }) ?? true {
            wakeAt = next
            actions.append(.wake(at: next))
        }
    }
}

public enum JobOrder: String, Sendable, Equatable, CaseIterable {
    /// Priority, then oldest first, preferring jobs whose model is loaded (bounded by max-wait).
    case model
    /// Priority, then oldest first.
    case fifo
}
