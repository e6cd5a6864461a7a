//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// What a paused worker keeps: nothing it is not running. A pause (every host down after an
/// `ollama_not_running` failure, or the disk full) stops claiming; the jobs this worker holds
/// between attempts, waiting for a slot or out a retry's backoff, go back into `incoming/`
/// (their attempt counts kept) so that workers elsewhere, whose Ollama answers, run them.
extension Scheduler {
    /// Claiming stopped: every host down after a job failed for it, or the spool's disk full.
    var paused: Bool { unreachableSince != nil || diskFull != nil }

    /// Puts back every claimed job that is not running or committing. Batch lines only with
    /// `lines`: a pause leaves them to their batch, which this worker keeps
    /// open; a shutdown puts them back too (they run again when the batch resumes).
    mutating func releaseHeld(lines: Bool, _ actions: inout [SchedulerAction]) {
        for (token, job) in jobs.sorted(by: { $0.key < $1.key }) where job.claimed && (lines || !token.isLine) {
            switch job.state {
            case .waiting, .retrying:
                retrying[token] = nil
                jobs[token]!.state = .committing
                actions.append(.putBack(token: token))
            case .running, .committing: break
            }
        }
    }
}
