//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import VibesModels

/// Batch files: claimed and validated whole, then read a few lines at a time into the
/// scheduler, where each line is a job already held (a ``WorkID/line(_:)``). At most `window` lines of
/// a batch wait or run at once, so a job dropped after a batch started runs before the batch's
/// later lines (they are queued, oldest first, when they are read). Embedding lines count as
/// the share of a slot they take (a group of `--embed-group` inputs holds one), so a slot that
/// frees finds a whole group waiting.
extension WorkerLoop {
    /// An open batch.
    struct OpenBatch {
        let run: BatchRun
        /// What the scheduler knows it by (the name it was claimed under), for `--once`.
        let key: String
        /// Lines read ahead, not yet given to the scheduler (from `next`).
        var buffer: [ReadLine] = []
        var next = 0
        /// Lines given to the scheduler and not yet written (waiting, running, retrying, or
        /// settled and waiting for their group's write), by their ``LineState/weight``.
        var inFlight = 0
        /// Of those, the settled ones waiting for their write: they no longer hold a slot.
        var awaitingWrite = 0
        var reading = false
        var exhausted = false
        var committing = false
        /// Settled lines waiting to be written, and whether a group is being written.
        var pending: [PendingRecord] = []
        var writing = false
        /// A cancel request for it, seen (no line starts), and whether it is on disk yet.
        var cancel: CancelRequest?
        var cancelRecorded = false
        /// Its lines' attempts run under it: fired once the cancel is on disk.
        let signal = CancelSignal()
    }

    /// A line as read: its body translated once, and what the scheduler needs of it.
    struct ReadLine: Sendable {
        let line: BatchLine
        let work: BatchWork
        var request: QueuedRequest
    }

    /// A line between its attempts.
    struct LineState {
        let batch: String
        let line: BatchLine
        let work: BatchWork
        let model: String?
        var attempts = 0
        var lastError: ModelError?
        /// Settled, waiting for its group's write.
        var settled = false
        /// Its share of the window: `--embed-group` for a chat (a slot each), its inputs for an
        /// embedding (up to `--embed-group` of them share a slot).
        var weight = 1
    }

    /// Lines of one batch waiting or running at once, by weight: the slots of every host, each
    /// worth `--embed-group` (one chat line, or a group of embedding inputs). As many again may be
    /// settled and waiting for their write, so the next lines run while a group is written.
    var window: Int { max(1, configuration.effectiveHosts.reduce(0) { $0 + $1.concurrency }) * embedGroup }
    var embedGroup: Int { max(1, configuration.embedGroup) }
    /// Lines read from the input at a time (in memory, not in the queue).
    static let readAhead = 256

    /// Claims and opens a batch file in `incoming/` (or one left in `active/` by a crash). The
    /// scheduler knows of it from now (so that `--once` waits), by `key`, until it is closed.
    func openBatch(name: String?, resumed: BatchClaim?, _ group: inout DiscardingTaskGroup) {
        let key = "batch:" + (name ?? resumed?.id ?? "")
        guard !state.scheduler.openBatches.contains(key) else { return }
        perform(state.scheduler.handle(.batchOpened(key), now: Self.now()), &group)
        Self.open(key: key, name: name, resumed: resumed, io: io, worker: worker, &group)
    }

    private static func open(key: String, name: String?, resumed: BatchClaim?, io: SpoolIO, worker: SpoolWorker, _ group: inout DiscardingTaskGroup) {
        let (logger, configuration) = (worker.logger, worker.configuration)
        group.addTask {
            do {
                let claim: BatchClaim
                if let resumed {
                    claim = resumed
                } else {
                    switch try await io.run({ try io.spool.claimBatch(name!, workerID: configuration.workerID) }) {
                    case .lost:
                        worker.send(.batchClosed(key: key))
                        return
                    case .rejected(let id, let reason):
                        logger.error("failed (invalid_request): \(reason)", metadata: ["batch": "\(id)"])
                        worker.record { $0.failed += 1 }
                        worker.send(.batchClosed(key: key))
                        return
                    case .claimed(let claimed): claim = claimed
                    }
                }
                let limits = BatchLimits(
                    maxLines: configuration.maxBatchLines, maxBytes: Int64(configuration.maxBatchBytes), maxLineBytes: configuration.maxRequestBytes)
                switch try await io.run({ try BatchRun.open(claim, spool: io.spool, workerID: configuration.workerID, limits: limits) }) {
                case .failed(let id, let failure):
                    logger.error("failed (\(failure.kind.rawValue)): \(failure.message)", metadata: ["batch": "\(id)"])
                    worker.record { $0.failed += 1 }
                case .running(let run):
                    await io.recordCancelAtOpen(run, queuedAt: claim.queuedAt)
                    logger.info("batch \(claim.resumed ? "resumed" : "started"): \(run.progress.total) line(s)", metadata: ["batch": "\(run.id)"])
                    worker.send(.batchOpened(run, key: key))
                    return
                }
            } catch {
                logger.error("cannot open batch \(name ?? resumed?.id ?? ""): \(error)")
            }
            worker.send(.batchClosed(key: key))
        }
    }

    func batchOpened(_ run: BatchRun, key: String, _ group: inout DiscardingTaskGroup) {
        state.batches[run.id] = OpenBatch(run: run, key: key)
        if let cancel = run.cancel {
            openedCancelled(run.id, cancel)
            settle(run.id, &group)
            return
        }
        readLines(run.id, &group)
    }

    /// Reads the next lines of a batch ahead (a few hundred), off the loop, when what is read is
    /// about to run out.
    func readLines(_ id: String, _ group: inout DiscardingTaskGroup) {
        guard var batch = state.batches[id], !batch.reading, !batch.exhausted, !state.scheduler.stopping, batch.cancel == nil,
            batch.buffer.count - batch.next < window
        else { return }
        batch.reading = true
        state.batches[id] = batch
        Self.read(id, run: batch.run, wanted: max(Self.readAhead, 2 * window), io: io, worker: worker, &group)
    }

    private static func read(_ id: String, run: BatchRun, wanted: Int, io: SpoolIO, worker: SpoolWorker, _ group: inout DiscardingTaskGroup) {
        group.addTask {
            do {
                // Read and translated on the blocking pool: the worker's loop only queues them.
                let read = try await io.run { try Self.translated(run.nextLines(max: wanted), batch: id) }
                worker.send(.batchLines(id: id, read, exhausted: read.isEmpty))
            } catch {
                worker.logger.error("cannot read the batch's input (\(error)); it stays in active/ and resumes at the next start", metadata: ["batch": "\(id)"])
                worker.send(.batchLines(id: id, [], exhausted: true))
            }
        }
    }

    /// Lines as the scheduler takes them: each body translated once, with its model's load key.
    private static func translated(_ read: [BatchLine], batch id: String) -> [ReadLine] {
        let now = Self.now()
        return read.map { line -> ReadLine in
            let work = line.work
            let model: (name: String, loadKey: String)?
            var embed: EmbedShape?
            switch work {
            case .chat(let chat): model = (chat.model, ModelKey.load(model: chat.model, options: chat.ollama.options))
            case .embed(let request):
                model = (request.model, ModelKey.load(model: request.model, options: request.options))
                embed = EmbedShape(request)
            case .invalid: model = nil
            }
            let request = QueuedRequest(name: "\(id)#\(line.number)", model: model?.name, loadKey: model?.loadKey, queuedAt: now, embed: embed)
            return ReadLine(line: line, work: work, request: request)
        }
    }

    func batchLines(_ id: String, _ read: [ReadLine], exhausted: Bool, _ group: inout DiscardingTaskGroup) {
        guard state.batches[id] != nil else { return }
        state.batches[id]!.reading = false
        state.batches[id]!.exhausted = state.batches[id]!.exhausted || exhausted
        state.batches[id]!.buffer.removeFirst(state.batches[id]!.next)
        state.batches[id]!.next = 0
        state.batches[id]!.buffer += read
        settle(id, &group)
    }

    /// Gives the scheduler read lines up to the batch's window, each aged from now.
    private func feed(_ id: String, _ group: inout DiscardingTaskGroup) {
        guard var batch = state.batches[id], !state.scheduler.stopping, batch.cancel == nil else { return }
        var queued: [QueuedLine] = []
        let now = Self.now()
        while batch.inFlight - batch.awaitingWrite < window, batch.inFlight < 2 * window, batch.next < batch.buffer.count {
            var read = batch.buffer[batch.next]
            batch.next += 1
            batch.inFlight += 1
            read.request.queuedAt = now
            state.linesQueued += 1
            let token = WorkID.line(state.linesQueued)
            let weight = read.request.embed.map { min(max(1, $0.inputs), embedGroup) } ?? embedGroup
            batch.inFlight += weight - 1
            state.lines[token] = LineState(batch: id, line: read.line, work: read.work, model: read.request.model, weight: weight)
            queued.append(QueuedLine(token: token, request: read.request))
        }
        state.batches[id] = batch
        if !queued.isEmpty { perform(state.scheduler.handle(.lines(queued), now: now), &group) }
    }

    /// A line ended (recorded, or dropped at shutdown): read more, or commit when all are in.
    /// `settling` false: the caller settles the batch once, after a group of lines.
    func lineEnded(_ token: WorkID, _ outcome: JobOutcome, _ group: inout DiscardingTaskGroup, settling: Bool = true) {
        perform(state.scheduler.handle(.jobEnded(token: token, outcome: outcome), now: Self.now()), &group)
        guard let held = state.lines.removeValue(forKey: token), state.batches[held.batch] != nil else { return }
        state.batches[held.batch]!.inFlight -= held.weight
        if held.settled { state.batches[held.batch]!.awaitingWrite -= held.weight }
        if settling { settle(held.batch, &group) }
    }

    func settle(_ id: String, _ group: inout DiscardingTaskGroup) {
        if state.batches[id]?.cancel != nil { return settleCancelled(id, &group) }
        feed(id, &group)
        readLines(id, &group)
        guard let batch = state.batches[id], batch.exhausted, batch.next == batch.buffer.count else { return }
        guard batch.inFlight == 0, !batch.committing, !state.scheduler.stopping, batch.run.isFinished else { return }
        state.batches[id]!.committing = true
        Self.commit(id, key: batch.key, run: batch.run, io: io, worker: worker, &group)
    }

    private static func commit(_ id: String, key: String, run: BatchRun, io: SpoolIO, worker: SpoolWorker, _ group: inout DiscardingTaskGroup) {
        group.addTask {
            do {
                let progress = try await io.run { try run.commit(now: Date()) }
                worker.logger.info("batch done: \(progress.completed) completed, \(progress.failed) failed", metadata: ["batch": "\(id)"])
                worker.record { $0.done += 1 }
            } catch {
                worker.logger.error("cannot commit the batch (\(error)); it stays in active/ and resumes at the next start", metadata: ["batch": "\(id)"])
            }
            worker.send(.batchClosed(key: key, id: id))
        }
    }

    func batchClosed(key: String, id: String?, _ group: inout DiscardingTaskGroup) {
        if let id { state.batches[id] = nil }
        perform(state.scheduler.handle(.batchClosed(key), now: Self.now()), &group)
    }

    /// Replaces each open batch's progress file (at least once a second) and syncs its lines.
    func tickBatches(_ group: inout DiscardingTaskGroup) {
        for batch in state.batches.values where !batch.committing {
            Self.tick(batch.run, io: io, worker: worker, &group)
        }
    }

    private static func tick(_ run: BatchRun, io: SpoolIO, worker: SpoolWorker, _ group: inout DiscardingTaskGroup) {
        group.addTask {
            do {
                try await io.run { try run.tick() }
            } catch {
                worker.logger.error("batch progress: \(error)", metadata: ["batch": "\(run.id)"])
            }
        }
    }

    /// At the end: open batches stay in `active/` (their output so far synced), for the next start.
    func closeBatches() async {
        await writePending()
        for batch in state.batches.values {
            try? await io.run { try batch.run.close() }
        }
        state.batches = [:]
    }
}
