//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Synchronization
import VibesModels

/// Where the members of a group the scheduler started as one request (``SchedulerAction/startGroup(_:host:)``)
/// meet: each member runs its own attempt as it would alone (claim, attempt count, commit or
/// failure, retries), and its embedding call (``embed(_:seat:)``) waits here; a member that
/// makes no call (its claim was lost, its file changed) leaves its seat (``leave(_:)``). When
/// every seat is taken or left, ``run()`` sends one `/api/embed` request with all the inputs
/// (``EmbedGroup``) and hands each member its own vectors, or its error.
///
/// A request refused as a whole (a 400 or 500: one input too long, or empty) is sent again in
/// halves, and so on, until the bad input is alone and fails alone; the others get their
/// vectors. Any other failure (no connection, a cut reply, a timeout) is every member's, and
/// each retries on its own.
final class EmbedMeeting: Sendable {
    private struct Seat {
        var request: EmbedRequest
        var continuation: CheckedContinuation<EmbedResponse, any Error>
    }

    private struct State {
        var seats: [Int: Seat] = [:]
        /// Seats taken or left, each counted once.
        var settled: Set<Int> = []
        /// `run()` waiting for the last seat.
        var waiting: CheckedContinuation<Void, Never>?
        /// The request went out (or the meeting was cancelled): a late call fails at once.
        var closed = false
    }

    let count: Int
    /// The members' ``EmbedShape/key``: a member whose request has another does not come.
    let key: String
    private let provider: any ModelProvider
    private let state = Mutex(State())

    init(seats: Int, key: String, provider: any ModelProvider) {
        self.count = seats
        self.key = key
        self.provider = provider
    }

    /// A member's embedding call: returns when the group's reply is in.
    func embed(_ request: EmbedRequest, seat: Int) async throws -> EmbedResponse {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let (late, ready) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                    guard !state.closed, !state.settled.contains(seat) else { return (true, nil) }
                    state.seats[seat] = Seat(request: request, continuation: continuation)
                    state.settled.insert(seat)
                    return (false, Self.complete(&state, count: count))
                }
                if late { continuation.resume(throwing: CancellationError()) }
                ready?.resume()
            }
        } onCancel: {
            // Its own deadline, before the request went out: this member leaves with the error
            // and the others go on. Once it is out, the reply (or the worker's own cancellation
            // of `run()`) ends the call.
            state.withLock { $0.closed ? nil : $0.seats.removeValue(forKey: seat) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// A member that makes no call (or has made it): its seat does not hold the request back.
    func leave(_ seat: Int) {
        let ready = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.settled.insert(seat).inserted else { return nil }
            return Self.complete(&state, count: count)
        }
        ready?.resume()
    }

    private static func complete(_ state: inout State, count: Int) -> CheckedContinuation<Void, Never>? {
        guard state.settled.count == count else { return nil }
        defer { state.waiting = nil }
        return state.waiting
    }

    /// Waits for every seat, then sends the request and hands out the replies. Cancelled (the
    /// worker's grace is over): every member gets a `CancellationError`.
    func run() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.settled.count == count { return true }
                state.waiting = continuation
                return false
            }
            if ready { continuation.resume() }
        }
        let seats = state.withLock { state -> [Seat] in
            state.closed = true
            return state.seats.keys.sorted().map { state.seats[$0]! }
        }
        await send(seats)
    }

    private func send(_ seats: [Seat]) async {
        guard !seats.isEmpty else { return }
        let group = EmbedGroup(seats.map(\.request))
        do {
            try Task.checkCancellation()
            let responses = try group.split(try await provider.embed(group.request))
            for (seat, response) in zip(seats, responses) { seat.continuation.resume(returning: response) }
        } catch let error as ModelError where seats.count > 1 && Self.splits(error) {
            let half = seats.count / 2
            await send(Array(seats[..<half]))
            await send(Array(seats[half...]))
        } catch {
            for seat in seats { seat.continuation.resume(throwing: error) }
        }
    }

    /// A refusal that one input can cause: Ollama answers 400 (too long with `truncate: false`,
    /// a bad value) or 500 (an input its runner could not embed) for the whole request.
    static func splits(_ error: ModelError) -> Bool {
        if case .serverError(let status, _, false) = error { return status == 400 || status == 500 }
        return false
    }
}
