//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// Settled batch lines, appended in groups: a line's result waits here while the batch's
/// previous group is being written, and goes with the next one (one trip to the blocking pool,
/// where the lines are encoded, and one `write(2)` per file for the group). A settled line
/// frees its slot at once (the batch's next line runs while it is written), but counts among
/// the batch's unwritten lines until it is written: at most twice the window, so a crash still
/// runs again only lines that were running or waiting to be written.
extension WorkerLoop {
    /// How appending a line ended.
    enum Recorded: Sendable {
        /// Written (or settled before): the line ended as its result says.
        case ended(JobOutcome)
        /// The disk is full: not written; the line waits for room and runs again.
        case diskFull
        /// Not written (the file failed): it runs again when the batch resumes.
        case notWritten
    }

    struct RecordedLine: Sendable {
        let token: WorkID
        let recorded: Recorded
    }

    /// A line's result is in (`generated`: from an attempt, whose slot it frees now).
    func lineSettled(_ token: WorkID, _ record: BatchRecord, generated: Bool, _ group: inout DiscardingTaskGroup) {
        guard let held = state.lines[token], state.batches[held.batch] != nil, !held.settled else { return }
        state.lines[token]!.settled = true
        state.batches[held.batch]!.awaitingWrite += held.weight
        state.batches[held.batch]!.pending.append(PendingRecord(token: token, record: record, model: held.model ?? ""))
        flushRecords(held.batch, &group)
        // The next lines first, then the slot: a slot that a group frees finds a group waiting.
        settle(held.batch, &group)
        if generated { perform(state.scheduler.handle(.generationEnded(token: token), now: Self.now()), &group) }
    }

    /// Writes what waits, unless a group of this batch is being written (then after it).
    func flushRecords(_ id: String, _ group: inout DiscardingTaskGroup) {
        guard var batch = state.batches[id], !batch.writing, !batch.pending.isEmpty else { return }
        let pending = batch.pending
        batch.pending = []
        batch.writing = true
        state.batches[id] = batch
        Self.write(id, pending, run: batch.run, io: io, worker: worker, &group)
    }

    private static func write(
        _ id: String, _ pending: [PendingRecord], run: BatchRun, io: SpoolIO, worker: SpoolWorker, _ group: inout DiscardingTaskGroup
    ) {
        group.addTask {
            let recorded: [Recorded]
            do {
                _ = try await io.run { try run.record(pending.map(\.record)) }
                recorded = pending.map { pending in
                    guard let usage = pending.record.usage else { return .ended(.failed(unreachable: false)) }
                    worker.metrics?.tokens(prompt: usage.promptTokens ?? 0, completion: usage.completionTokens ?? 0, model: pending.model)
                    return .ended(.done)
                }
            } catch where SpoolError.isDiskFull(error) {
                recorded = pending.map { _ in .diskFull }
            } catch {
                let numbers = pending.map { "\($0.record.number)" }.joined(separator: ", ")
                worker.logger.error("cannot record line(s) \(numbers) (\(error)); they run again when the batch resumes", metadata: ["batch": "\(id)"])
                recorded = pending.map { _ in .notWritten }
            }
            worker.send(.linesRecorded(batch: id, zip(pending, recorded).map { RecordedLine(token: $0.token, recorded: $1) }))
        }
    }

    /// A group is written: each line ends (or waits for room), the batch's next lines go to the
    /// scheduler together, and the next group is written.
    func linesRecorded(_ id: String, _ recorded: [RecordedLine], _ group: inout DiscardingTaskGroup) {
        state.batches[id]?.writing = false
        for line in recorded {
            switch line.recorded {
            case .ended(let outcome):
                lineEnded(line.token, outcome, &group, settling: false)
            case .notWritten:
                lineEnded(line.token, .putBack, &group, settling: false)
            case .diskFull:
                guard let held = state.lines[line.token] else { continue }
                state.lines[line.token]!.settled = false
                state.batches[id]?.awaitingWrite -= held.weight
                perform(state.scheduler.handle(.attemptFailed(token: line.token, AttemptFailure(.diskFull, attempts: held.attempts)), now: Self.now()), &group)
            }
        }
        flushRecords(id, &group)
        if state.batches[id] != nil { settle(id, &group) }
    }

    /// At the end: what waits to be written, written (the lines need not run again).
    func writePending() async {
        for batch in state.batches.values where !batch.pending.isEmpty {
            let (run, records) = (batch.run, batch.pending.map(\.record))
            _ = try? await io.run { try run.record(records) }
        }
    }
}

/// A settled line waiting for its group's write.
struct PendingRecord: Sendable {
    let token: WorkID
    let record: BatchRecord
    /// For the token metrics.
    let model: String
}
