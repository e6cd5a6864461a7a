//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// The scheduler's actions as effects: child tasks that do the I/O and send events back.
extension WorkerLoop {
    func perform(_ actions: [SchedulerAction], _ group: inout DiscardingTaskGroup) {
        for action in actions {
            switch action {
            case .start(let token, _, let host) where token.isLine:
                guard let held = state.lines[token] else { continue }
                startAttempt(token, held, host: host, &group)
            case .fail(let token, _, let reason) where token.isLine:
                guard let held = state.lines[token] else { continue }
                let failure = Self.failure(reason, model: held.model ?? "", lastError: held.lastError)
                lineSettled(token, BatchRecord(held.line, .failed(failure), host: nil), generated: false, &group)
            case .putBack(let token) where token.isLine:
                // A line not recorded runs again when the batch resumes.
                worker.send(.scheduler(.jobEnded(token: token, outcome: .putBack)))
            case .start(let token, let name, let host):
                let context = name == nil ? state.contexts.removeValue(forKey: token) : nil
                let signal = CancelSignal()
                state.signals[token] = signal
                Self.spawn(.start(token: token, name: name, context: context, host: host, signal: signal), runners, io, worker, &group)
            case .cancelAttempt(let token, let request):
                state.signals[token]?.fire(request)
            case .startGroup(let members, let host):
                startGroup(members, host: host, &group)
            case .fail(let token, let name, let reason):
                let context = name == nil ? state.contexts.removeValue(forKey: token) : nil
                Self.spawn(.fail(token: token, name: name, context: context, reason: reason), runners, io, worker, &group)
            case .putBack(let token):
                let context = state.contexts.removeValue(forKey: token)
                Self.spawn(.putBack(token: token, context: context, paused: !state.scheduler.stopping), runners, io, worker, &group)
            case .refreshModels(let host):
                Self.spawn(.refresh(host: host), runners, io, worker, &group)
            case .probe(let host, let delay):
                Self.spawn(.probe(host: host, after: delay), runners, io, worker, &group)
            case .probeDisk(let delay):
                Self.spawn(.probeDisk(after: delay), runners, io, worker, &group)
            case .wake(let at):
                Self.spawn(.wake(after: max(.zero, at - .now)), runners, io, worker, &group)
            case .log(let notice):
                log(notice)
            case .exit:
                state.exited = true
            }
        }
    }

    /// An action with what its task needs, taken out of the loop's state.
    enum Effect: Sendable {
        case start(token: WorkID, name: String?, context: JobContext?, host: Int?, signal: CancelSignal)
        /// A job's attempt as a member of a group: its embedding call goes to `meeting`.
        case member(token: WorkID, name: String?, context: JobContext?, host: Int, meeting: EmbedMeeting, seat: Int, signal: CancelSignal)
        case fail(token: WorkID, name: String?, context: JobContext?, reason: FailReason)
        /// `paused`: put back by a pause (else by a shutdown).
        case putBack(token: WorkID, context: JobContext?, paused: Bool)
        case refresh(host: Int)
        case probe(host: Int, after: Duration)
        case probeDisk(after: Duration)
        case wake(after: Duration)
    }

    static func spawn(_ effect: Effect, _ runners: [JobRunner], _ io: SpoolIO, _ worker: SpoolWorker, _ group: inout DiscardingTaskGroup) {
        group.addTask {
            switch effect {
            case .start(let token, let name, let context, let host, let signal):
                await start(token: token, name: name, context: context, host: host, signal: signal, runner: runners[host ?? 0], worker: worker)
            case .member(let token, let name, let context, let host, let meeting, let seat, let signal):
                defer { meeting.leave(seat) }
                await member(
                    token: token, name: name, context: context, host: host, runner: runners[host], meeting: meeting, seat: seat, signal: signal,
                    worker: worker)
            case .fail(let token, let name, let context, let reason):
                await fail(token: token, name: name, context: context, reason: reason, runner: runners[0], worker: worker)
            case .putBack(let token, let context, let paused):
                var back: String?
                if let context { back = await runners[0].putBack(context, reason: paused ? "paused, so not held" : "stopping") }
                worker.send(.scheduler(.jobEnded(token: token, outcome: .putBack)))
                // Queued here again too (unclaimed, as any file in incoming/): whichever worker
                // can run it first takes it (this one once its pause ends; `--once` has no watcher).
                if paused, let back { worker.send(.files([back])) }
            case .refresh(let host):
                worker.send(.scheduler(await refresh(host, worker.providers[host])))
            case .probe(let host, let delay):
                guard await sleep(delay) else { return }
                do {
                    try await worker.providers[host].probe()
                    worker.send(.scheduler(.hostAnswered(host: host)))
                } catch let error as ModelError where error.isConnectionProblem {
                    worker.send(.scheduler(.hostUnreachable(host: host)))
                } catch {
                    worker.send(.scheduler(.hostAnswered(host: host)))
                }
            case .probeDisk(let delay):
                guard await sleep(delay) else { return }
                worker.send(.scheduler(.diskProbed(ok: await io.hasRoom())))
            case .wake(let delay):
                guard await sleep(delay) else { return }
                worker.send(.scheduler(.tick))
            }
        }
    }

    /// Sleeps `delay`; false when cancelled.
    private static func sleep(_ delay: Duration) async -> Bool {
        (try? await Task.sleep(for: delay)) != nil
    }

    private static func refresh(_ host: Int, _ provider: any ModelProvider) async -> SchedulerEvent {
        do {
            let installed = try await provider.installedModels()
            let loaded = (try? await provider.loadedModels()) ?? []
            return .hostModels(host: host, installed: installed, loaded: loaded.map(\.name))
        } catch let error as ModelError where error.isConnectionProblem {
            return .hostUnreachable(host: host)
        } catch {
            // It answers, but not with a list: any model may be there.
            return .hostModels(host: host, installed: nil, loaded: [])
        }
    }
}
