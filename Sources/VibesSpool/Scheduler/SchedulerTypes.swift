//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

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
    /// For embedding work: what may share an `/api/embed` request with it.
    var embed: EmbedShape?

    init(
        name: String, model: String?, loadKey: String? = nil, priority: Int = 0, queuedAt: ContinuousClock.Instant, id: String = "",
        embed: EmbedShape? = nil
    ) {
        self.name = name
        self.id = id
        self.model = model
        self.loadKey = loadKey ?? model.map(ModelKey.normalized) ?? ""
        self.priority = priority
        self.queuedAt = queuedAt
        self.embed = embed
    }
}

/// An embedding job or line as the scheduler groups it: work with equal keys (model and
/// settings, ``EmbedGroup/key(_:)``) may go to Ollama as one request, up to a count of inputs
/// and of bytes.
struct EmbedShape: Sendable, Equatable {
    var key: String
    var inputs: Int
    var bytes: Int

    init(key: String, inputs: Int, bytes: Int) {
        self.key = key
        self.inputs = inputs
        self.bytes = bytes
    }

    /// The shape of an embedding request (`llama3.2` and `llama3.2:latest` are one model).
    init(_ request: EmbedRequest) {
        var named = request
        named.model = ModelKey.normalized(request.model)
        self.init(key: EmbedGroup.key(named), inputs: request.input.count, bytes: request.input.reduce(0) { $0 + $1.utf8.count })
    }
}

/// A member of a group started as one request: its token, and its name when it is still to
/// be claimed.
struct GroupMember: Sendable, Equatable {
    var token: WorkID
    var name: String?
}

/// A batch line for the queue, with the token the worker gave it.
struct QueuedLine: Sendable, Equatable {
    var token: WorkID
    var request: QueuedRequest
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
    /// Lines of an open batch, as jobs already held (the worker numbers them).
    case lines([QueuedLine])
    /// A claim found the file gone (another worker took it) or it was not a request.
    case claimEnded(token: WorkID)
    /// A host answered with its model lists: `/api/tags` (`nil`: it answered, but not with a
    /// list it could read: any model may be there) and `/api/ps`.
    case hostModels(host: Int, installed: [String]?, loaded: [String])
    /// A refresh or probe of a host found nothing answering.
    case hostUnreachable(host: Int)
    /// `GET /api/version` answered.
    case hostAnswered(host: Int)
    /// The job no longer needs its Ollama slot (its reply is in; it commits now).
    case generationEnded(token: WorkID)
    /// The attempt failed; the job is still claimed.
    case attemptFailed(token: WorkID, AttemptFailure)
    /// A job was put back into `incoming/` as `name` after a spool error: it waits a while
    /// (growing each time) before it is claimed again.
    case heldBack(name: String)
    /// The job is finished (`done/`, `failed/`) or was put back into `incoming/`.
    case jobEnded(token: WorkID, outcome: JobOutcome)
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
    case start(token: WorkID, name: String?, host: Int?)
    /// Claim (those with a name) and run embedding work as one request on `host`, in this
    /// order: the group holds one slot until its last member's vectors are in (or it failed).
    case startGroup([GroupMember], host: Int)
    /// Write the job's error envelope (claiming it first when `name` is given).
    case fail(token: WorkID, name: String?, FailReason)
    /// Put a claimed job back into `incoming/` (shutdown).
    case putBack(token: WorkID)
    /// Cancel the running attempt of a job (a cancel request names it); the attempt's end
    /// commits the job as cancelled.
    case cancelAttempt(token: WorkID, CancelRequest)
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
    case retrying(token: WorkID, at: ContinuousClock.Instant)
    /// The job's attempt failed on `from`; it goes at once to another host with its model.
    case moved(token: WorkID, from: Int)
}
