//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import VibesModels

extension SpoolDirectory {
    /// How a claim's first steps ended.
    enum ClaimRead: Sendable {
        /// Gone (another worker took it).
        case lost
        /// Not a request (a folder, a device…): failed at its claim.
        case rejected(id: String, reason: String)
        /// Claimed, over the size limit: not read.
        case tooBig(ClaimedJob)
        /// Claimed and read, not a valid request.
        case invalid(ClaimedJob, [UInt8], InvalidRequest)
        /// Claimed, read, valid, and renamed to its id (made unique).
        case ready(ClaimedJob, JobRequest)
        /// Claimed, read and renamed, and a cancel request names it: it fails as cancelled.
        case cancelled(ClaimedJob, JobRequest?, [UInt8], CancelRequest)
        /// Claimed, then the spool failed (`error`): it goes back to `incoming/`.
        case spoolError(ClaimedJob, String)
    }

    /// Claims `incoming/NAME`, reads and parses it, renames it to its id, and looks for a
    /// cancel request naming it (the id it asked for): the one claim of the worker and of
    /// `vibes-spool cancel`. Blocking file I/O.
    func claimAndRead(_ name: String, workerID: String, limit: Int, now: Double = Date().timeIntervalSince1970) throws -> ClaimRead {
        let job: ClaimedJob
        switch try claim(name, workerID: workerID) {
        case .lost: return .lost
        case .rejected(let id, let reason): return .rejected(id: id, reason: reason)
        case .claimed(let claimed): job = claimed
        }
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
    typealias ClaimRead = SpoolDirectory.ClaimRead

    /// ``SpoolDirectory/claimAndRead(_:workerID:limit:now:)``: what every job does before its
    /// first attempt, metadata operations and a read of a small file.
    func claimAndRead(_ name: String, workerID: String, limit: Int) async throws -> ClaimRead {
        let spool = self.spool
        return try await runMetadata { try spool.claimAndRead(name, workerID: workerID, limit: limit) }
    }
}
