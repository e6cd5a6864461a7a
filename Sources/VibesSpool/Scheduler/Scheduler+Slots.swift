//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Filling free slots: which waiting job a host takes, trials on hosts that are down, and jobs
/// whose model no host has.
extension Scheduler {
    mutating func fillSlots(_ actions: inout [SchedulerAction]) {
        var progress = true
        while progress {
            progress = false
            // One job per host per round, so hosts share the queue's head.
            for host in hosts.indices where hosts[host].free > 0 {
                guard let token = pick(for: host) else { continue }
                let companions = self.companions(of: token)
                if companions.isEmpty {
                    start(token, on: host, &actions)
                } else {
                    startGroup([token] + companions, on: host, &actions)
                }
                progress = true
            }
        }
        // One trial per model at a time, whichever host it is on: one user-visible failure.
        // (Nothing to build while every host is up: the common case, asked on every event.)
        guard hosts.contains(where: { $0.state == .down }) else { return }
        var tried = Set(hosts.compactMap { $0.trial.flatMap { jobs[$0]?.model } })
        for host in hosts.indices where hosts[host].state == .down && hosts[host].generating.isEmpty && !hosts[host].reported {
            if let token = hosts[host].trial {
                if jobs[token]?.state == .waiting { start(token, on: host, &actions) }
            } else if let token = pickBlocked(for: host, excluding: tried) {
                if let model = jobs[token]?.model { tried.insert(model) }
                hosts[host].trial = token
                start(token, on: host, &actions)
            }
        }
    }

    /// The contract's order: the highest priority with a job this host can run; in it, the oldest
    /// job whose model (and reload options) the host has loaded, unless the oldest job has
    /// waited past max-wait (or the order is FIFO): then the oldest.
    mutating func pick(for host: Int) -> WorkID? {
        let installed = hosts[host].installed
        let jobs = self.jobs
        for priority in queue.priorities {
            let heads = queue.heads(
                priority: priority, where: { installed?.contains(ModelKey.model(ofLoad: $0)) ?? true },
                isWaiting: { jobs[$0]?.state == .waiting })
            guard let oldest = heads.min(by: { ($0.item.queuedAt, $0.item.token) < ($1.item.queuedAt, $1.item.token) }) else { continue }
            var chosen = oldest
            if options.order == .model && oldest.item.queuedAt + options.maxWait > now {
                let loaded = heads.filter { hosts[host].loaded.contains($0.loadKey) }
                if let warm = loaded.min(by: { ($0.item.queuedAt, $0.item.token) < ($1.item.queuedAt, $1.item.token) }) { chosen = warm }
            }
            queue.pop(priority: priority, loadKey: chosen.loadKey)
            return chosen.item.token
        }
        return nil
    }

    /// For a host that is down: the oldest job whose model no host that is up has, and which
    /// this host has (or may have: it never answered). None while a host has not answered yet:
    /// it may have the model, and a trial's failure would name it as not running.
    mutating func pickBlocked(for host: Int, excluding tried: Set<String>) -> WorkID? {
        // A host that is up but cannot list its models may have any of them.
        guard !hosts.contains(where: { $0.state == .unknown || ($0.state == .up && $0.installed == nil) }) else { return nil }
        let available = Set(hosts.filter { $0.state == .up }.flatMap { $0.installed ?? [] })
        let installed = hosts[host].installed
        let jobs = self.jobs
        for priority in queue.priorities {
            let heads = queue.heads(
                priority: priority,
                where: { key in
                    let model = ModelKey.model(ofLoad: key)
                    return !available.contains(model) && !tried.contains(model) && (installed?.contains(model) ?? true)
                },
                isWaiting: { jobs[$0]?.state == .waiting })
            if let oldest = heads.min(by: { ($0.item.queuedAt, $0.item.token) < ($1.item.queuedAt, $1.item.token) }) {
                queue.pop(priority: priority, loadKey: oldest.loadKey)
                return oldest.item.token
            }
        }
        return nil
    }

    mutating func start(_ token: WorkID, on host: Int, _ actions: inout [SchedulerAction]) {
        guard let job = jobs[token] else { return }
        jobs[token]!.state = .running(host: host)
        hosts[host].generating.insert(token)
        // What the host has loaded now: the models of the jobs it runs (the last one it took).
        hosts[host].loaded = Set(hosts[host].generating.compactMap { self.jobs[$0]?.loadKey })
        actions.append(.start(token: token, name: job.claimed ? nil : job.name, host: host))
    }

    // MARK: Models on no host

    /// Jobs whose model no host lists: ask every host that is up once more, then fail them.
    mutating func checkMissing(_ actions: inout [SchedulerAction]) {
        if let round = missingRound {
            guard round.isEmpty else { return }
            missingRound = nil
            failMissing(&actions)
            return
        }
        // A host that never answered may have it: its trial decides.
        guard !hosts.contains(where: { $0.installed == nil }), hasMissing else { return }
        let up = hosts.indices.filter { hosts[$0].state == .up }
        guard !up.isEmpty else {
            failMissing(&actions)
            return
        }
        missingRound = Set(up)
        for host in up where !hosts[host].refreshing {
            hosts[host].refreshing = true
            actions.append(.refreshModels(host: host))
        }
    }

    mutating func roundAnswered(_ host: Int, _ actions: inout [SchedulerAction]) {
        missingRound?.remove(host)
    }

    private var knownModels: Set<String> { Set(hosts.flatMap { $0.installed ?? [] }) }

    /// Asked on every event: no set is built (a batch's line is an event or two).
    private var hasMissing: Bool {
        queue.containsKey { key in
            let model = ModelKey.model(ofLoad: key)
            return !hosts.contains(where: { $0.installed?.contains(model) == true })
                && queue.tokens(where: { $0 == key }).contains { jobs[$0]?.state == .waiting }
        }
    }

    private mutating func failMissing(_ actions: inout [SchedulerAction]) {
        let known = knownModels
        let asked = hosts.filter { $0.installed != nil }.map(\.url)
        let tokens = queue.tokens(where: { !known.contains(ModelKey.model(ofLoad: $0)) })
        for token in tokens.sorted() where jobs[token]?.state == .waiting {
            jobs[token]!.state = .committing
            let name = jobs[token]!.claimed ? nil : jobs[token]!.name
            actions.append(.fail(token: token, name: name, .modelNotInstalled(hostsAsked: asked)))
        }
    }
}
