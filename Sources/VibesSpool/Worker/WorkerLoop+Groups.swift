//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// A group of embedding work the scheduler started as one request: each member (a batch line,
/// or an embedding job to claim) runs its own attempt, as it would alone, with its embedding
/// call going to the group's ``EmbedMeeting``, whose own task sends the one request when every
/// member has come (or left). So each member keeps its own result, attempts, retries and
/// errors; only the request is shared.
extension WorkerLoop {
    func startGroup(_ members: [GroupMember], host: Int, _ group: inout DiscardingTaskGroup) {
        let key = state.scheduler.jobs[members[0].token]?.embed?.key ?? ""
        let meeting = EmbedMeeting(seats: members.count, key: key, provider: runners[host].provider)
        group.addTask { await meeting.run() }
        let worker = self.worker
        for seat in members.indices {
            let member = members[seat]
            guard member.token.isLine else {
                let context = member.name == nil ? state.contexts.removeValue(forKey: member.token) : nil
                let signal = CancelSignal()
                state.signals[member.token] = signal
                Self.spawn(
                    .member(token: member.token, name: member.name, context: context, host: host, meeting: meeting, seat: seat, signal: signal),
                    runners, io, worker, &group)
                continue
            }
            guard let held = state.lines[member.token], Self.isEmbedding(held.work) else {
                meeting.leave(seat)
                continue
            }
            // Its attempt calls the meeting at once (an embedding line makes no other call).
            startAttempt(member.token, held, host: host, embedder: { try await meeting.embed($0, seat: seat) }, &group)
        }
    }

    private static func isEmbedding(_ work: BatchWork) -> Bool {
        if case .embed = work { return true }
        return false
    }

    /// A job's attempt in a group: claimed (unless held), then run as alone, its embedding call
    /// going to the meeting. A file that changed since it was read (no longer embedding work
    /// of the group's model and settings) leaves the meeting and runs alone.
    static func member(
        token: WorkID, name: String?, context: JobContext?, host: Int, runner: JobRunner, meeting: EmbedMeeting, seat: Int, signal: CancelSignal,
        worker: SpoolWorker
    ) async {
        guard let context = await claimed(token: token, name: name, context: context, runner: runner, worker: worker) else { return }
        var runner = runner
        if let embed = context.request.embed, EmbedShape(embed).key == meeting.key {
            runner.embedder = { try await meeting.embed($0, seat: seat) }
        } else {
            meeting.leave(seat)
        }
        await attempt(token: token, context: context, host: host, signal: signal, runner: runner, worker: worker)
    }
}
