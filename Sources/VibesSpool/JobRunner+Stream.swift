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
    /// Streams the reply into the partial file, one write per chunk, under the job's deadline.
    /// The request goes out first; the partial file is created (or emptied, on a retry) while
    /// Ollama works on it.
    func stream(
        _ request: JobRequest, into partial: PartialFile, deadline: ContinuousClock.Instant?, startedAt: Date
    ) async throws -> ReplySummary {
        let provider = self.provider
        let body: @Sendable () async throws -> ReplySummary = {
            var summary = ReplySummary(model: request.chat.model, thinking: "", toolCalls: [], startedAt: startedAt)
            var chunks = provider.chatStream(request.chat).makeAsyncIterator()
            try partial.open()
            while let chunk = try await chunks.next() {
                if !chunk.textDelta.isEmpty { try partial.append(chunk.textDelta) }
                summary.thinking += chunk.thinkingDelta
                summary.toolCalls += chunk.toolCalls
                if chunk.done {
                    summary.stopReason = chunk.stopReason
                    summary.usage = chunk.usage
                    summary.timings = chunk.timings
                }
            }
            return summary
        }
        guard let deadline, let timeout = request.timeout else { return try await body() }
        return try await withThrowingTaskGroup(of: ReplySummary?.self) { group in
            group.addTask { try await body() }
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
