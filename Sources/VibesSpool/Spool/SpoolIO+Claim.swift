//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import VibesModels

/// A request claimed and read: what it turned out to be, and so what its claimer does next.
enum ClaimedRequest: Sendable {
    /// Valid, and renamed to its id (made unique): it runs.
    case ready(ClaimedJob, JobRequest)
    /// Over the size limit: not read; it fails.
    case tooBig(ClaimedJob)
    /// Read, not a valid request: it fails.
    case invalid(ClaimedJob, [UInt8], InvalidRequest)
    /// A cancel request names it (read and renamed, when valid): it fails as cancelled.
    case cancelled(ClaimedJob, JobRequest?, [UInt8], CancelRequest)
    /// The spool failed (`error`) after the claim: it goes back to `incoming/`.
    case spoolError(ClaimedJob, String)
}

extension SpoolDirectory {
    /// Claims `incoming/NAME`, reads and parses it, renames it to its id, and looks for a
    /// cancel request naming it (the id it asked for): the one claim of the worker and of
    /// `vibes-spool cancel`. Blocking file I/O.
    func claimAndRead(
        _ name: String, workerID: String, limit: Int, now: Double = Date().timeIntervalSince1970
    ) throws -> ClaimOutcome<ClaimedRequest> {
        try claim(name, workerID: workerID).map { readClaimed($0, limit: limit, now: now) }
    }

    /// Reads and parses a claimed request, renames it to its id, and looks for a cancel request.
    private func readClaimed(_ job: ClaimedJob, limit: Int, now: Double) -> ClaimedRequest {
        do {
            guard job.size <= limit else {
                if let cancel = liveCancel(job.id, job, now) { return .cancelled(job, nil, [], cancel) }
                return .tooBig(job)
            }
            let bytes = try FileSystem.readAll(job.fd, limit: limit + 1, path: "\(active)/\(job.id).json")
            let request: JobRequest
            do {
                request = try JobRequest.parse(bytes)
            } catch let invalid as InvalidRequest {
                if let cancel = liveCancel(job.id, job, now) { return .cancelled(job, nil, bytes, cancel) }
                return .invalid(job, bytes, invalid)
            }
            let asked = request.id ?? job.id
            var renamed = job
            try rename(&renamed, to: asked)
            if let cancel = liveCancel(asked, renamed, now) { return .cancelled(renamed, request, bytes, cancel) }
            return .ready(renamed, request)
        } catch {
            return .spoolError(job, "\(error)")
        }
    }

    /// A cancel request for `id` that applies to `job` (see ``CancelRequest/applies(queuedAt:now:)``).
    private func liveCancel(_ id: String, _ job: ClaimedJob, _ now: Double) -> CancelRequest? {
        guard let cancel = cancelRequest(for: id), cancel.applies(queuedAt: job.queuedAt.timeIntervalSince1970, now: now) else { return nil }
        return cancel
    }
}

extension SpoolIO {
    /// ``SpoolDirectory/claimAndRead(_:workerID:limit:now:)``: what every job does before its
    /// first attempt, metadata operations and a read of a small file.
    func claimAndRead(_ name: String, workerID: String, limit: Int) async throws -> ClaimOutcome<ClaimedRequest> {
        let spool = self.spool
        return try await runMetadata { try spool.claimAndRead(name, workerID: workerID, limit: limit) }
    }
}
