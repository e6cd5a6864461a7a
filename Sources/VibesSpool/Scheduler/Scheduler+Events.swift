//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// How each event changes the scheduler's state (the slots are filled afterwards, in one place).
extension Scheduler {
    mutating func queued(_ requests: [QueuedRequest], _ actions: inout [SchedulerAction]) {
        for request in requests {
            if let known = names[request.name], jobs[known]?.state == .waiting { continue }
            if let cool = cooling[request.name], cool.until > now {
                if !delayed.contains(where: { $0.name == request.name }) { delayed.append(request) }
                continue
            }
            jobsQueued += 1
            let token = WorkID.job(jobsQueued)
            names[request.name] = token
            let model = request.model.map(ModelKey.normalized)
            jobs[token] = Job(
                name: request.name, model: model, loadKey: request.loadKey, priority: request.priority, queuedAt: request.queuedAt, embed: request.embed)
            if !request.id.isEmpty {
                jobs[token]!.id = request.id
                ids[request.id] = token
            }
            if model == nil {
                // Not a valid request: it fails at its claim, which needs no Ollama.
                guard !stopping else { continue }
                jobs[token]!.state = .running(host: nil)
                actions.append(.start(token: token, name: request.name, host: nil))
            } else {
                queue.insert(token: token, priority: request.priority, loadKey: request.loadKey, queuedAt: request.queuedAt)
            }
        }
    }

    /// Batch lines: held already (no claim), queued as they come, so that a job dropped after a
    /// batch's lines were read runs before the ones read later.
    mutating func queuedLines(_ lines: [QueuedLine], _ actions: inout [SchedulerAction]) {
        for line in lines {
            let request = line.request
            let model = request.model.map(ModelKey.normalized)
            var job = Job(
                name: request.name, model: model, loadKey: request.loadKey, priority: request.priority, queuedAt: request.queuedAt, embed: request.embed)
            job.claimed = true
            if model == nil {
                guard !stopping else { continue }
                job.state = .running(host: nil)
                jobs[line.token] = job
                actions.append(.start(token: line.token, name: nil, host: nil))
            } else {
                jobs[line.token] = job
                queue.insert(token: line.token, priority: request.priority, loadKey: request.loadKey, queuedAt: request.queuedAt)
            }
        }
    }

    mutating func end(_ token: WorkID) {
        retrying[token] = nil
        guard let job = jobs.removeValue(forKey: token) else { return }
        if names[job.name] == token { names[job.name] = nil }
        if !job.id.isEmpty && ids[job.id] == token { ids[job.id] = nil }
        if case .running(let host?) = job.state { release(token, from: host) }
        for index in hosts.indices where hosts[index].trial == token { hosts[index].trial = nil }
    }

    mutating func hostAnswered(_ host: Int, installed: [String]?, loaded: [String], _ actions: inout [SchedulerAction]) {
        let wasUp = hosts[host].state == .up
        hosts[host].state = .up
        hosts[host].installed = installed.map { Set($0.map(ModelKey.normalized)) }
        hosts[host].loaded = Set(loaded.map(ModelKey.normalized))
        hosts[host].refreshing = false
        hosts[host].failedProbes = 0
        hosts[host].reported = false
        if !wasUp { actions.append(.log(.hostUp(host: host))) }
        if unreachableSince != nil {
            unreachableSince = nil
            actions.append(.log(.resumed))
        }
        roundAnswered(host, &actions)
    }

    mutating func hostUnreachable(_ host: Int, _ actions: inout [SchedulerAction]) {
        hosts[host].refreshing = false
        if hosts[host].state == .down {
            // A probe failed: probe again, later.
            hosts[host].failedProbes += 1
            actions.append(.probe(host: host, after: options.backoff(hosts[host].failedProbes + 1)))
        } else {
            markDown(host, &actions)
        }
        roundAnswered(host, &actions)
    }

    mutating func markDown(_ host: Int, _ actions: inout [SchedulerAction]) {
        guard hosts[host].state != .down else { return }
        hosts[host].state = .down
        hosts[host].failedProbes = 0
        actions.append(.log(.hostDown(host: host)))
        actions.append(.probe(host: host, after: options.backoff(1)))
    }

    /// What follows a failed attempt; paused then (by this failure or before), the worker
    /// keeps nothing it is not running.
    mutating func attemptFailed(_ token: WorkID, _ failure: AttemptFailure, _ actions: inout [SchedulerAction]) {
        decideAfterFailure(token, failure, &actions)
        if paused { releaseHeld(lines: false, &actions) }
    }

    private mutating func decideAfterFailure(_ token: WorkID, _ failure: AttemptFailure, _ actions: inout [SchedulerAction]) {
        guard var job = jobs[token] else { return }
        var host: Int?
        switch job.state {
        case .running(let on): host = on
        case .committing where failure.kind == .diskFull: host = nil  // the commit found the disk full
        default: return
        }
        if let host { release(token, from: host) }
        job.claimed = true
        if failure.kind == .diskFull {
            requeue(token, &job)
            if diskFull == nil {
                diskFull = (now, 0)
                diskProbes += 1
                actions.append(.log(.paused(reason: "the spool's disk is full")))
                actions.append(.probeDisk(after: options.backoff(diskProbes)))
            }
            return
        }
        // A refused connection, or a reply cut off: the host pauses (probed back at once).
        if let host, failure.hostFailed { markDown(host, &actions) }
        if let host, failure.kind == .modelMissing, let model = job.model {
            hosts[host].installed?.remove(model)
            if !hosts[host].refreshing {
                hosts[host].refreshing = true
                actions.append(.refreshModels(host: host))
            }
        }
        if let host, failure.hostFailed || failure.kind == .modelMissing, let model = job.model,
            hosts.indices.contains(where: { $0 != host && hosts[$0].state == .up && hosts[$0].installed?.contains(model) == true })
        {
            // Another host has the model: at once, without a backoff and without failing.
            if hosts[host].trial == token { hosts[host].trial = nil }
            requeue(token, &job)
            actions.append(.log(.moved(token: token, from: host)))
            return
        }
        if paused && failure.isRetryable {
            // Already paused: not retried here, nor failed a second time; it goes back.
            job.state = .committing
            jobs[token] = job
            actions.append(.putBack(token: token))
            return
        }
        let delay = options.backoff(job.retries + 1)
        if failure.isRetryable && failure.attempts <= options.retries && (failure.deadline.map { now + delay < $0 } ?? true) {
            job.retries += 1
            job.state = .retrying(at: now + delay)
            retrying[token] = now + delay
            jobs[token] = job
            actions.append(.log(.retrying(token: token, at: now + delay)))
            return
        }
        let reason: FailReason
        switch failure.kind {
        case .unreachable:
            reason = .unreachable(hosts: hosts.map(\.url))
            for index in hosts.indices where hosts[index].state == .down {
                hosts[index].reported = true
                if hosts[index].trial == token { hosts[index].trial = nil }
            }
            if hosts.allSatisfy({ $0.state == .down }) && unreachableSince == nil {
                unreachableSince = now
                actions.append(.log(.paused(reason: "Ollama not running at \(hosts.map(\.url).joined(separator: ", "))")))
            }
        case .modelMissing:
            reason = .modelNotInstalled(hostsAsked: hosts.filter { $0.installed != nil }.map(\.url))
        case .broken, .retryable, .final, .diskFull:
            reason = .attemptError
        }
        job.state = .committing
        jobs[token] = job
        actions.append(.fail(token: token, name: nil, reason))
    }

    mutating func requeue(_ token: WorkID, _ job: inout Job) {
        job.state = .waiting
        jobs[token] = job
        queue.insert(token: token, priority: job.priority, loadKey: job.loadKey, queuedAt: job.queuedAt)
    }

    mutating func diskProbed(_ ok: Bool, _ actions: inout [SchedulerAction]) {
        guard let paused = diskFull else { return }
        if ok {
            diskFull = nil
            actions.append(.log(.resumed))
        } else {
            diskFull = (paused.since, paused.probes + 1)
            diskProbes += 1
            actions.append(.probeDisk(after: options.backoff(diskProbes)))
        }
    }

    /// A cancel request: a job waiting (in `incoming/`, or claimed between attempts) or
    /// retrying fails at once (claimed first if need be); a running one has its attempt
    /// cancelled; one already ending is left to end.
    mutating func cancel(_ request: CancelRequest, _ actions: inout [SchedulerAction]) {
        guard let token = ids[request.id], var job = jobs[token] else { return }
        switch job.state {
        case .waiting, .retrying:
            retrying[token] = nil
            job.state = .committing
            jobs[token] = job
            actions.append(.fail(token: token, name: job.claimed ? nil : job.name, .cancelled(request)))
        case .running:
            actions.append(.cancelAttempt(token: token, request))
        case .committing:
            break
        }
    }

    mutating func shutdown(_ actions: inout [SchedulerAction]) {
        guard !stopping else { return }
        stopping = true
        releaseHeld(lines: true, &actions)
    }
}
