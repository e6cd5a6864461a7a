//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// A request started with a completion handler (``ModelProvider/startChat(_:completion:)``,
/// ``ModelProvider/startEmbed(_:completion:)``): what ends it early. Cancelling ends the request
/// (for Ollama: closes its connection) and its completion gets a `CancellationError`; after the
/// completion ran, it does nothing.
public struct ModelCall: Sendable {
    public let cancel: @Sendable () -> Void

    public init(cancel: @escaping @Sendable () -> Void) {
        self.cancel = cancel
    }
}

extension ModelProvider {
    /// Runs ``chat(_:)`` in a task of its own (preferring ``taskExecutor``), and hands its result
    /// to `completion`; cancelling the call cancels the task.
    public func startChat(_ request: ChatRequest, completion: @escaping @Sendable (Result<ChatResponse, any Error>) -> Void) -> ModelCall {
        ModelCall.inTask(preferring: taskExecutor, completion) { try await chat(request) }
    }

    /// As ``startChat(_:completion:)``, for ``embed(_:)``.
    public func startEmbed(_ request: EmbedRequest, completion: @escaping @Sendable (Result<EmbedResponse, any Error>) -> Void) -> ModelCall {
        ModelCall.inTask(preferring: taskExecutor, completion) { try await embed(request) }
    }
}

extension ModelCall {
    /// `operation` in a task of its own, its result to `completion`; cancelling cancels the task.
    static func inTask<T: Sendable>(
        preferring executor: (any TaskExecutor)?, _ completion: @escaping @Sendable (Result<T, any Error>) -> Void,
        _ operation: @escaping @Sendable () async throws -> T
    ) -> ModelCall {
        let task = Task(executorPreference: executor) {
            do {
                completion(.success(try await operation()))
            } catch {
                completion(.failure(error))
            }
        }
        return ModelCall(cancel: task.cancel)
    }
}
