//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import VibesModels

/// What the worker shows: logs of the scheduler's notices, its state file for `status`, the
/// systemd status line, and the timers that drive them.
extension WorkerLoop {
    func startTimers(_ group: inout DiscardingTaskGroup) {
        let worker = self.worker
        func every(_ period: Duration, _ event: SpoolWorker.Event, into group: inout DiscardingTaskGroup) {
            group.addTask {
                while (try? await Task.sleep(for: period)) != nil {
                    worker.send(event)
                }
            }
        }
        if !configuration.once, let interval = configuration.rescanInterval, interval > .zero {
            every(interval, .rescan(reason: nil), into: &group)
        }
        // Published at least this often, changed or not: a reader on another machine tells a
        // live worker from one that is gone by it (`stale` in `status`).
        every(WorkerStateFile.heartbeat, .heartbeat, into: &group)
        if let watchdog = SystemdNotifier.watchdogInterval(environment: configuration.systemd) {
            // Pinged from the loop itself, so a stuck loop is restarted.
            worker.notifier.send("WATCHDOG=1")
            every(watchdog / 3, .watchdog, into: &group)
        }
    }

    /// Arms the publishing timer when there is something to show: a changed state file or a new
    /// systemd status line (within a second), an open batch's progress (twice a second, so that
    /// its file is replaced at least once a second). A worker with nothing new, idle or streaming
    /// a long reply, is not woken for it.
    func armPublish(_ group: inout DiscardingTaskGroup) {
        guard !state.publishArmed, state.changed || !state.batches.isEmpty || (worker.notifier.isEnabled && statusLine() != state.lastStatus) else { return }
        state.publishArmed = true
        let (worker, delay) = (self.worker, state.batches.isEmpty ? Duration.seconds(1) : .milliseconds(500))
        group.addTask {
            guard (try? await Task.sleep(for: delay)) != nil else { return }
            worker.send(.publish)
        }
    }

    func log(_ notice: SchedulerNotice) {
        state.changed = true
        let hosts = configuration.effectiveHosts
        switch notice {
        case .hostDown(let host):
            worker.metrics?.hostUp(hosts[host].url, false)
            if hosts.count > 1 {
                logger.warning("\(hosts[host].url) does not answer: paused; its jobs go to other hosts with their model; probing it with backoff")
            }
        case .hostUp(let host):
            worker.metrics?.hostUp(hosts[host].url, true)
            if hosts.count > 1 || state.scheduler.hosts[host].failedProbes > 0 { logger.notice("\(hosts[host].url) answers") }
        case .paused(let reason):
            state.pause = (reason, Date())
            worker.metrics?.paused(true)
            let waiting = (try? FileSystem.list(configuration.spool.incoming).filter(SpoolDirectory.isRequestName).count) ?? 0
            if reason.hasPrefix("Ollama") {
                logger.error("pausing: \(reason); \(waiting) job(s) wait in incoming/. Start it with `ollama serve`.")
            } else {
                logger.error("pausing: \(reason); \(waiting) job(s) wait in incoming/; checking for room with backoff")
            }
            try? publish()
        case .resumed:
            worker.metrics?.paused(false)
            if let pause = state.pause { logger.notice("resuming: \(pause.reason) no more (paused since \(RFC3339.format(pause.since)))") }
            state.pause = nil
            try? publish()
        case .moved(let token, let from):
            let error = state.contexts[token]?.lastError ?? state.lines[token]?.lastError
            let what = state.contexts[token].map { "job \($0.job.id)" } ?? state.lines[token].map { "line \($0.line.number) of batch \($0.batch)" } ?? "job"
            logger.warning("\(what): attempt failed on \(hosts[from].url) (\(error.map { "\($0)" } ?? "")); it goes to another host with its model")
        case .retrying(let token, let at):
            guard let context = state.contexts[token] else { return }
            let delay = max(.zero, at - Self.now()).seconds
            logger.warning(
                "attempt \(context.attempts) failed (\(context.lastError.map { "\($0)" } ?? "")); retrying in \(ModelErrorFormat.seconds(delay))",
                metadata: ["job": "\(context.job.id)"])
            // Shown in `status` at once: a retry can be shorter than the publishing period.
            try? publish()
        }
    }

    func statusLine() -> String {
        let summary = worker.summary
        var line = "queued \(state.scheduler.waiting), running \(state.running.count), done \(summary.done), failed \(summary.failed)"
        if let pause = state.pause { line += "; paused: \(pause.reason)" }
        return line
    }

    func updateStatus() {
        guard worker.notifier.isEnabled else { return }
        let line = statusLine()
        guard line != state.lastStatus else { return }
        state.lastStatus = line
        worker.notifier.send("STATUS=\(line)")
    }

    /// Writes this worker's state file (for `status`).
    func publish() throws {
        state.changed = false
        var retrying: [WorkerStateFile.Retrying] = []
        for (token, job) in state.scheduler.jobs {
            guard case .retrying(let at) = job.state, let context = state.contexts[token] else { continue }
            retrying.append(.init(id: context.job.id, attempts: context.attempts, nextAt: RFC3339.format(WallClock.date(of: at))))
        }
        let hosts = state.scheduler.hosts.map { host in
            WorkerStateFile.Host(
                url: host.url, state: host.state == .down ? "paused" : "up", running: host.generating.count, free: host.free,
                loaded: host.loaded.map { ModelKey.model(ofLoad: $0) }.sorted())
        }
        let file = WorkerStateFile(
            host: hostName(), pid: getpid(), startedAt: RFC3339.format(startedAt), updatedAt: RFC3339.format(Date()),
            paused: state.pause.map { .init(reason: $0.reason, since: RFC3339.format($0.since)) },
            running: state.running.values.sorted { $0.id < $1.id }, retrying: retrying.sorted { $0.id < $1.id }, hosts: hosts)
        try file.write(to: configuration.spool)
    }
}

/// Seconds as the logs show them.
enum ModelErrorFormat {
    static func seconds(_ value: Double) -> String {
        value >= 10 ? "\(Int(value.rounded())) s" : "\((value * 1000).rounded() / 1000) s"
    }
}
