//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

extension JobRunner {
    /// One embedding request, under the job's deadline: to the provider, or (a member of a
    /// group) to the group's ``EmbedMeeting``.
    func embedding(_ request: EmbedRequest, deadline: ContinuousClock.Instant?, timeout: Duration?) async throws -> EmbedResponse {
        let (provider, embedder) = (self.provider, self.embedder)
        return try await withJobDeadline(deadline, timeout: timeout) {
            if let embedder { return try await embedder(request) }
            return try await provider.embed(request)
        }
    }
}
