//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import VibesModels

/// Why a job or batch is cancelled: asked for (an empty `cancel/ID`), or its completion window
/// ran out (`{"reason": "expired"}`, which `serve` drops).
package enum CancelReason: String, Sendable, Equatable {
    case cancelled
    case expired

    /// What a cancel file's content asks for: `{"reason": "expired"}` is an expiry; anything
    /// else (empty, whitespace, other JSON, not JSON) is a plain cancel.
    static func parse(_ bytes: [UInt8]) -> CancelReason {
        guard bytes.contains(where: { $0 > 0x20 }), let value = try? JSONValue.parse(utf8: bytes),
            value["reason"]?.stringValue == "expired"
        else { return .cancelled }
        return .expired
    }

    /// The file's content that asks for this reason.
    var fileContent: String { self == .expired ? "{\"reason\": \"expired\"}\n" : "" }
}

/// One cancel request, as read from `cancel/ID`: a plain value the worker and the command
/// decide on.
package struct CancelRequest: Sendable, Equatable {
    /// The job or batch id it names (a name that is not valid UTF-8 reads as the id such a file
    /// name would give a request: each stray byte as `\xHH`).
    package var id: String
    package var reason: CancelReason
    /// The file's modification time (seconds since 1970): when it was asked.
    package var askedAt: Double
    /// Its name in `cancel/` (``FileName/escaped``), to remove it once acted on.
    package var file: String

    /// How long a cancel naming nothing queued or running waits for its job to appear.
    package static let lifetime: Double = 3600

    package init(id: String, reason: CancelReason = .cancelled, askedAt: Double, file: String? = nil) {
        self.id = id
        self.file = file ?? id
        self.reason = reason
        self.askedAt = askedAt
    }

    /// Still to be honoured at `now`: younger than ``lifetime`` (a clock set back counts as young).
    func isLive(now: Double) -> Bool { now - askedAt < Self.lifetime }

    /// Whether it cancels a job queued at `queuedAt` (seconds since 1970) and claimed `now`:
    /// the job was already queued when the cancel was asked, or the cancel is still live. A job
    /// that appears more than an hour after a cancel naming nothing is not cancelled by it.
    func applies(queuedAt: Double, now: Double) -> Bool { askedAt >= queuedAt || isLive(now: now) }

    /// The error envelope's content for a cancelled job: `Cancelled at TIME (cancel/ID).`
    func failure(at now: Date) -> JobFailure {
        JobFailure(kind: .cancelled, message: "Cancelled at \(RFC3339.format(now)) (cancel/\(id)).", retryable: false)
    }

    /// The errors-file content for a batch line that did not finish.
    func lineFailure(at now: Date) -> JobFailure {
        switch reason {
        case .cancelled:
            return JobFailure(kind: .batchCancelled, message: "The batch was cancelled at \(RFC3339.format(now)) (cancel/\(id)) before this line finished.")
        case .expired:
            return JobFailure(kind: .batchExpired, message: "The batch expired at \(RFC3339.format(now)) (cancel/\(id)) before this line finished.")
        }
    }
}
