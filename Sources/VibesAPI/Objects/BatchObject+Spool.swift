//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import VibesSpool

/// How a batch's record and its place in the spool make OpenAI's batch object: a decision on
/// plain values, no file system.
extension BatchObject {
    package init(record: APIBatchRecord, state: SpoolBatchState) {
        guard case .batch(let hex) = APIID.parseBatch(record.id) else { preconditionFailure("a stored batch id is valid") }
        id = record.id
        endpoint = record.endpoint
        inputFileID = record.inputFileID
        completionWindow = record.completionWindow
        createdAt = record.createdAt
        expiresAt = record.expiresAt
        metadata = record.metadata
        model = record.model
        cancellingAt = record.cancellingAt
        status = .validating
        let cancelAsked = record.cancelReason != nil
        switch state {
        case .queued:
            status = cancelAsked ? .cancelling : .validating
        case .running(nil):
            status = cancelAsked ? .cancelling : .validating
        case .running(let progress?):
            take(progress)
            if cancelAsked {
                status = .cancelling
            } else if progress.status == "validating" {
                status = .validating
            } else {
                // Every line settled but not yet committed into done/: OpenAI's "finalizing".
                status = progress.total > 0 && progress.completed + progress.failed >= progress.total ? .finalizing : .inProgress
            }
        case .finished(let progress):
            take(progress)
            switch progress.status {
            case "cancelled":
                status = .cancelled
                cancelledAt = progress.completedAt.map(Self.seconds)
            case "expired":
                status = .expired
                expiredAt = progress.completedAt.map(Self.seconds)
            default:
                status = .completed
                finalizingAt = progress.completedAt.map(Self.seconds)
                completedAt = finalizingAt
            }
        case .failedWhole(let message, let at):
            status = .failed
            failedAt = at
            errors = Self.lineErrors(message)
        case .missing:
            status = .failed
            errors = [LineError(code: "batch_missing", message: "The batch's files are no longer in the spool (removed by `vibes-spool prune`?).", line: nil)]
        }
        if completed > 0 { outputFileID = APIID.output(batchHex: hex).string }
        if failed > 0 { errorFileID = APIID.errors(batchHex: hex).string }
    }

    private mutating func take(_ progress: BatchCounts) {
        total = progress.total
        completed = progress.completed
        failed = progress.failed
        inputTokens = progress.promptTokens
        outputTokens = progress.completionTokens
        inProgressAt = progress.inProgressAt.map(Self.seconds)
    }

    static func seconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }

    /// `errors.data` from the worker's message for a file that failed as a whole: one entry
    /// per `line N: what` it names, or one without a line (a limit, an empty file).
    static func lineErrors(_ message: String) -> [LineError] {
        var errors: [LineError] = []
        var rest = Substring(message)
        while let range = rest.range(of: "line ") {
            let after = rest[range.upperBound...]
            let digits = after.prefix { $0.isNumber }
            guard !digits.isEmpty, after.dropFirst(digits.count).hasPrefix(": ") else {
                rest = after
                continue
            }
            let text = after.dropFirst(digits.count + 2)
            let end = text.range(of: "; ")?.lowerBound ?? text.range(of: ". Nothing was run.")?.lowerBound ?? text.endIndex
            errors.append(LineError(code: "invalid_request", message: String(text[..<end]), line: Int(digits)))
            rest = text[end...]
        }
        return errors.isEmpty ? [LineError(code: "invalid_request", message: message, line: nil)] : errors
    }
}
