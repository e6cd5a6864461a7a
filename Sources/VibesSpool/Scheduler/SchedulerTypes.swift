//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// A request file seen in `incoming/` and read (not claimed): what the scheduler needs to place it.
struct QueuedRequest: Sendable, Equatable {
    /// Its file name in `incoming/`.
    var name: String
    /// The `model` field; `nil` when the file is not a valid request (it fails at its claim,
    /// which needs no Ollama).
    var model: String?
    /// ``ModelKey/load(model:options:)``.
    var loadKey: String
    var priority: Int
    /// Its modification time, as an instant of the monotonic clock (see ``WallClock``).
    var queuedAt: ContinuousClock.Instant
    /// The job id it asks for (its `id` field, else its file name's), which a cancel names;
    /// empty for a batch line.
    var id: String

    init(name: String, model: String?, loadKey: String? = nil, priority: Int = 0, queuedAt: ContinuousClock.Instant, id: String = "") {
        self.name = name
        self.id = id
        self.model = model
        self.loadKey = loadKey ?? model.map(ModelKey.normalized) ?? ""
        self.priority = priority
        self.queuedAt = queuedAt
    }
}

/// A batch line for the queue, with the token the worker gave it.
struct QueuedLine: Sendable, Equatable {
    var token: Int
    var request: QueuedRequest
}

/// How one attempt of a job ended badly; the scheduler decides what comes next.
struct AttemptFailure: Sendable, Equatable {
    /// The host could not be reached (connection refused, reset before the reply, connect timeout).
    var unreachable = false
    /// The host answered 404 for the model.
    var modelMissing = false
    /// The connection broke mid-reply (the host may have died).
    var broken = false
    /// Trying again may succeed (a broken stream, 500, 503, an `{"error"}` line).
    var retryable = false
    /// Attempts started so far, counting earlier claims'.
    var attempts: Int
    /// The job's own deadline.
    var deadline: ContinuousClock.Instant?
    /// The spool's disk is full: the attempt does not count, the job waits for space.
    var diskFull = false
}

/// Why the scheduler fails a job itself (the driver writes the error envelope).
enum FailReason: Sendable, Equatable {
    /// The attempt's own error, as it is.
    case attemptError
    /// No host that has the model answers.
    case unreachable(hosts: [String])
    /// No host has the model.
    case modelNotInstalled(hostsAsked: [String])
    /// A cancel request names the job.
    case cancelled(CancelRequest)
}

enum SchedulerEvent: Sendable, Equatable {
    /// Requests found in `incoming/` (known ones are ignored).
    case queued([QueuedRequest])
    /// A batch is open: its lines come as ``lines(_:)``; `--once` waits for ``batchClosed(_:)``.
    case batchOpened(String)
    case batchClosed(String)
    /// Lines of an open batch, as jobs already held (the worker chose their tokens: negative).
    case lines([QueuedLine])
    /// A claim found the file gone (another worker took it) or it was not a request.
    case claimEnded(token: Int)
    /// A host answered with its model lists: `/api/tags` (`nil`: it answered, but not with a
    /// list it could read: any model may be there) and `/api/ps`.
    case hostModels(host: Int, installed: [String]?, loaded: [String])
    /// A refresh or probe of a host found nothing answering.
    case hostUnreachable(host: Int)
    /// `GET /api/version` answered.
    case hostAnswered(host: Int)
    /// The job no longer needs its Ollama slot (its reply is in; it commits now).
    case generationEnded(token: Int)
    /// The attempt failed; the job is still claimed.
    case attemptFailed(token: Int, AttemptFailure)
    /// A job was put back into `incoming/` as `name` after a spool error: it waits a while
    /// (growing each time) before it is claimed again.
    case heldBack(name: String)
    /// The job is finished (`done/`, `failed/`) or was put back into `incoming/`.
    case jobEnded(token: Int, outcome: JobOutcome)
    /// A disk probe: room again, or still full.
    case diskProbed(ok: Bool)
    /// A timer asked for with ``SchedulerAction/wake(at:)`` fired, or the periodic refresh.
    case tick
    case refreshDue
    case shutdown
    /// A cancel request names job `id`: a job waiting or retrying fails at once; a running
    /// one has its attempt cancelled.
    case cancel(CancelRequest)
}

enum JobOutcome: Sendable, Equatable {
    case done
    case failed(unreachable: Bool)
    case putBack
}

enum SchedulerAction: Sendable, Equatable {
    /// Claim (unless already claimed) and run one attempt on `host`; `nil`: the job needs no
    /// host (it is not a valid request and fails at its claim).
    case start(token: Int, name: String?, host: Int?)
    /// Write the job's error envelope (claiming it first when `name` is given).
    case fail(token: Int, name: String?, FailReason)
    /// Put a claimed job back into `incoming/` (shutdown).
    case putBack(token: Int)
    /// Cancel the running attempt of a job (a cancel request names it); the attempt's end
    /// commits the job as cancelled.
    case cancelAttempt(token: Int, CancelRequest)
    /// Read `/api/tags` and `/api/ps` of a host.
    case refreshModels(host: Int)
    /// Probe a host (`GET /api/version`) after a delay.
    case probe(host: Int, after: Duration)
    /// Check for free disk space after a delay.
    case probeDisk(after: Duration)
    /// Send a ``SchedulerEvent/tick`` at this instant.
    case wake(at: ContinuousClock.Instant)
    case log(SchedulerNotice)
    /// Nothing runs and nothing will: the worker may stop (`--once`, or shutdown done).
    case exit
}

/// What the driver logs and publishes.
enum SchedulerNotice: Sendable, Equatable {
    case hostDown(host: Int)
    case hostUp(host: Int)
    case paused(reason: String)
    case resumed
    case retrying(token: Int, at: ContinuousClock.Instant)
    /// The job's attempt failed on `from`; it goes at once to another host with its model.
    case moved(token: Int, from: Int)
}
