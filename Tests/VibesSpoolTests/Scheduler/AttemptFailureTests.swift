//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
import VibesModels
@testable import VibesSpool

/// Each model error is one kind of failure, which the scheduler's tables start from.
@Suite struct AttemptFailureTests {
    @Test(arguments: [
        (ModelError.notRunning(baseURL: "http://h", cause: "refused"), AttemptFailure.Kind.unreachable),
        (.streamInterrupted(bytesReceived: 3, cause: "reset"), .broken),
        (.modelNotInstalled(model: "m", detail: nil), .modelMissing),
        (.serverError(status: 503, message: "busy", midStream: false), .retryable),
        (.serverError(status: 200, message: "oops", midStream: true), .retryable),
        (.serverError(status: 400, message: "bad", midStream: false), .final),
        (.notAnOllamaAPI(baseURL: "http://h", status: 404, body: "404 page not found"), .final),
        (.timeout(.deadline, seconds: 1), .final),
        (.invalidResponse("?"), .final),
    ])
    func aModelErrorIsOneKind(error: ModelError, kind: AttemptFailure.Kind) {
        let failure = AttemptFailure(error, attempts: 2, deadline: nil)
        #expect(failure.kind == kind)
        #expect(failure.attempts == 2)
        // Retried exactly when the error says trying again may succeed.
        #expect(failure.isRetryable == error.isRetryable)
    }
}
