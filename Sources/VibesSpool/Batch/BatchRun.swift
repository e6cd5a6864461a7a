//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Synchronization
import VibesModels

/// When a running batch's output and errors files are fsynced: after `lines` new lines or once
/// `interval` has passed since the last fsync with a line waiting (checked at each record and
/// each ``BatchRun/tick()``), and always before the commit. A `kill -9` loses nothing (every
/// line is one `write(2)`); a power loss loses at most the lines of that window, which run again.
package struct BatchSyncPolicy: Sendable, Hashable {
    package var interval: Duration
    package var lines: Int

    package init(interval: Duration = .seconds(1), lines: Int = 256) {
        self.interval = interval
        self.lines = lines
    }
}

/// A batch being run: owns its four files in `active/` and its lock.
///
/// Lines are read from the input on demand (``nextLines(max:)``), so memory does not grow with
/// the batch; settled lines are appended whole to the output or errors file, a group of them
/// with one `write(2)` per file (``record(_:)``); ``tick()`` (at least once a second) replaces the progress
/// file; ``commit()`` moves the files into `done/`. Opening a batch that was running before a
/// crash reads the custom_ids already settled and skips their lines.
package final class BatchRun: Sendable {
    package let id: String
    let spool: SpoolDirectory
    let claim: BatchClaim
    let files: BatchFiles
    let outputFD: Int32
    let errorsFD: Int32
    let sync: BatchSyncPolicy

    struct State {
        var reader: LineReader
        /// The custom_ids settled before this run (read back from the output and errors files).
        var settled: Set<String>
        /// Lines recorded in this run, by line number: a bit each, so that memory does not grow
        /// with the batch (custom_ids are unique in a valid file, and lines come in file order).
        var recorded: [UInt64] = []
        /// Lines handed out by `nextLines` and not recorded yet.
        var outstanding = 0
        var exhausted = false
        var progress: BatchProgress
        var unsynced = 0
        var lastSync: ContinuousClock.Instant
        /// Open on the current progress file, holding its `flock`, so that job recovery, which
        /// takes unlocked `active/*.json` files for orphaned requests, leaves it alone.
        var progressFD: Int32
        var closed = false
    }
    let state: Mutex<State>

    /// How opening a claimed batch ended.
    package enum Opened: Sendable {
        case running(BatchRun)
        /// The file failed as a whole (validation): it is in `failed/` with its error envelope.
        case failed(id: String, failure: JobFailure)
    }

    private init(claim: BatchClaim, spool: SpoolDirectory, outputFD: Int32, errorsFD: Int32, sync: BatchSyncPolicy, state: State) {
        self.id = claim.id
        self.spool = spool
        self.claim = claim
        self.files = BatchFiles(folder: spool.active, id: claim.id)
        self.outputFD = outputFD
        self.errorsFD = errorsFD
        self.sync = sync
        self.state = Mutex(state)
    }

    deinit {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            Glibc.close(outputFD)
            Glibc.close(errorsFD)
            Glibc.close(claim.fd)
            Glibc.close(state.progressFD)
        }
    }

    /// Validates a claimed (or resumed) batch and opens it for running. Blocking file I/O:
    /// reads the whole input once (streaming).
    package static func open(
        _ claim: BatchClaim, spool: SpoolDirectory, workerID: String, limits: BatchLimits = .init(),
        sync: BatchSyncPolicy = .init(), now: Date = Date()
    ) throws -> Opened {
        let files = BatchFiles(folder: spool.active, id: claim.id)
        var progress = BatchProgress(id: claim.id, createdAt: claim.queuedAt, workerID: workerID)
        if claim.resumed, let previous = try? FileSystem.readFile(files.progress) { progress.adopt(previous: previous) }
        var progressFD = claim.progressFD
        func replaceProgress() throws {
            let fd = try writeProgress(progress, to: files)
            if progressFD >= 0 { Glibc.close(progressFD) }
            progressFD = fd
        }
        do {
            try replaceProgress()
        } catch {
            if progressFD >= 0 { Glibc.close(progressFD) }
            throw error
        }
        defer { if progressFD >= 0 { Glibc.close(progressFD) } }

        let total: Int
        switch try BatchValidator.validate(fd: claim.fd, path: files.input, limits: limits) {
        case .failure(let invalid):
            let failure = JobFailure(kind: .invalidRequest, message: "Invalid request: \(invalid.message)")
            try spool.failBatch(claim, failure: failure, workerID: workerID)
            return .failed(id: claim.id, failure: failure)
        case .success(let count):
            total = count
        }

        let output = try openAppending(files.output)
        let errors: Int32
        do { errors = try openAppending(files.errors) } catch { Glibc.close(output); throw error }
        do {
            let done = try resume(output, path: files.output)
            let failed = try resume(errors, path: files.errors)
            try FileSystem.fsyncDirectory(spool.active)
            // A cancel recorded before a crash goes on (the worker resumes the cancel, not the batch).
            progress.status = progress.cancel == nil ? .inProgress : .cancelling
            progress.total = total
            progress.completed = done.lines
            progress.failed = failed.lines
            progress.promptTokens = done.promptTokens + failed.promptTokens
            progress.completionTokens = done.completionTokens + failed.completionTokens
            progress.inProgressAt = progress.inProgressAt ?? now
            try replaceProgress()
            let state = State(
                reader: LineReader(fd: claim.fd, path: files.input, maxLineBytes: limits.maxLineBytes),
                settled: done.customIDs.union(failed.customIDs), progress: progress, lastSync: .now, progressFD: progressFD)
            progressFD = -1
            return .running(BatchRun(claim: claim, spool: spool, outputFD: output, errorsFD: errors, sync: sync, state: state))
        } catch {
            Glibc.close(output)
            Glibc.close(errors)
            throw error
        }
    }

    /// The next lines to run, at most `max`, in file order, skipping those already settled
    /// (before a crash). Empty once the input is read to its end. Blocking file I/O.
    package func nextLines(max: Int) throws -> [BatchLine] {
        try state.withLock { state in
            guard !state.closed else { throw SpoolError("read (the batch is closed)", files.input, errno: EBADF) }
            var lines: [BatchLine] = []
            while lines.count < max {
                guard let next = try state.reader.next() else {
                    state.exhausted = true
                    break
                }
                guard case .line(let number, let bytes, _) = next else {
                    throw SpoolError("read (line \(next) changed since validation)", files.input, errno: EIO)
                }
                let line: BatchLine
                do {
                    line = try BatchLine.parse(bytes, number: number)
                } catch {
                    throw SpoolError("read (line \(number) changed since validation: \(error))", files.input, errno: EIO)
                }
                if state.settled.contains(line.customID) { continue }
                lines.append(line)
            }
            state.outstanding += lines.count
            return lines
        }
    }

    /// Replaces the progress file, and fsyncs lines older than the sync window. Call it at least
    /// once a second while the batch runs (the worker does it twice a second). Blocking file I/O.
    package func tick() throws {
        try state.withLock { state in
            guard !state.closed else { return }
            if state.unsynced > 0 && ContinuousClock.now - state.lastSync >= sync.interval { try syncFiles(&state) }
            try replaceProgress(&state)
        }
    }

    /// Whether every line has been read and recorded: time to ``commit()``.
    package var isFinished: Bool { state.withLock { $0.exhausted && $0.outstanding == 0 } }

    /// The counts so far.
    package var progress: BatchProgress { state.withLock { $0.progress } }

    /// Stops without committing (shutdown): fsyncs, writes the progress and releases the lock.
    /// The batch stays in `active/` and resumes at the next ``SpoolDirectory/orphanBatches()``;
    /// lines handed out and not recorded run again then.
    package func close() throws {
        try state.withLock { state in
            guard !state.closed else { return }
            defer { closeFiles(&state) }
            try syncFiles(&state)
            try replaceProgress(&state)
        }
    }

    func syncFiles(_ state: inout State) throws {
        try FileSystem.fsyncFD(outputFD, path: files.output)
        try FileSystem.fsyncFD(errorsFD, path: files.errors)
        state.unsynced = 0
        state.lastSync = .now
    }

    func closeFiles(_ state: inout State) {
        state.closed = true
        Glibc.close(outputFD)
        Glibc.close(errorsFD)
        Glibc.close(claim.fd)
        Glibc.close(state.progressFD)
    }

    func replaceProgress(_ state: inout State) throws {
        let fd = try Self.writeProgress(state.progress, to: files)
        Glibc.close(state.progressFD)
        state.progressFD = fd
    }
}
