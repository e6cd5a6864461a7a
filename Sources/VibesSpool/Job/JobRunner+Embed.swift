//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

extension JobRunner {
    /// One embedding request, under the job's deadline.
    func embedding(_ request: EmbedRequest, deadline: ContinuousClock.Instant?, timeout: Duration?) async throws -> EmbedResponse {
        let provider = self.provider
        return try await withJobDeadline(deadline, timeout: timeout) { try await provider.embed(request) }
    }
}
