//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import VibesModels

extension JobRunner {
    /// Streams the reply into the partial file under the job's deadline. The text is written
    /// where it arrives (the HTTP client's event loop), one `write(2)` per piece of the reply.
    /// The request goes out in a child task while the partial file is created (or, on a retry,
    /// emptied): should the first text come first, it creates the file itself.
    func stream(
        _ request: JobRequest, into partial: PartialFile, deadline: ContinuousClock.Instant?, startedAt: Date
    ) async throws -> ReplySummary {
        let (provider, io) = (self.provider, self.io)
        let body: @Sendable () async throws -> ReplySummary = {
            async let streamed = provider.chat(request.chat, streamingTextInto: partial)
            try await io.runMetadata { try partial.open() }
            let reply = try await streamed
            return ReplySummary(
                model: request.chat.model, thinking: reply.message.thinking ?? "", toolCalls: reply.message.toolCalls,
                stopReason: reply.stopReason, usage: reply.usage, timings: reply.timings, startedAt: startedAt)
        }
        return try await withJobDeadline(deadline, timeout: request.timeout, body)
    }
}
