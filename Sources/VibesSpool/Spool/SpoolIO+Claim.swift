//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

extension SpoolIO {
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
        /// Claimed, then the spool failed (`error`): it goes back to `incoming/`.
        case spoolError(ClaimedJob, String)
    }

    /// Claims `incoming/NAME`, reads and parses it, and renames it to its id: one trip to the
    /// pool for what every job does before its first attempt (each trip is two thread wake-ups).
    func claimAndRead(_ name: String, workerID: String, limit: Int) async throws -> ClaimRead {
        let spool = self.spool
        return try await run {
            let job: ClaimedJob
            switch try spool.claim(name, workerID: workerID) {
            case .lost: return .lost
            case .rejected(let id, let reason): return .rejected(id: id, reason: reason)
            case .claimed(let claimed): job = claimed
            }
            do {
                guard job.size <= limit else { return .tooBig(job) }
                let bytes = try FileSystem.readAll(job.fd, limit: limit + 1, path: "\(spool.active)/\(job.id).json")
                let request: JobRequest
                do {
                    request = try JobRequest.parse(bytes)
                } catch let invalid as InvalidRequest {
                    return .invalid(job, bytes, invalid)
                }
                var renamed = job
                try spool.rename(&renamed, to: request.id ?? job.id)
                return .ready(renamed, request)
            } catch {
                return .spoolError(job, "\(error)")
            }
        }
    }
}
