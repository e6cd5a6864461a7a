//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

extension JobRunner {
    /// One embedding request, under the job's deadline.
    func embedding(_ request: EmbedRequest, deadline: ContinuousClock.Instant?, timeout: Duration?) async throws -> EmbedResponse {
        let provider = self.provider
        guard let deadline, let timeout else { return try await provider.embed(request) }
        return try await withThrowingTaskGroup(of: EmbedResponse?.self) { group in
            group.addTask { try await provider.embed(request) }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                throw ModelError.timeout(.deadline, seconds: timeout.seconds)
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }
}
