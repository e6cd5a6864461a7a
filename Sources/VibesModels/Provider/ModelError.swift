//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Which time limit ran out.
public enum TimeoutLimit: Sendable, Hashable, CustomStringConvertible {
    /// Connecting to the server.
    case connect
    /// Waiting for the first byte of the reply (a cold model load counts here).
    case firstByte
    /// Waiting for the next chunk of a reply that had started.
    case idle
    /// The caller's deadline for the whole request (a job's `timeout`).
    case deadline

    public var description: String {
        switch self {
        case .connect: "connect timeout"
        case .firstByte: "first-byte timeout"
        case .idle: "idle timeout between chunks"
        case .deadline: "job deadline"
        }
    }
}

/// What went wrong talking to a model provider. Its `description` says what to do about it.
public enum ModelError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing answers at the base URL (connection refused, host unreachable, connect timeout).
    case notRunning(baseURL: String, cause: String)
    /// The server answered 404 for the model.
    case modelNotInstalled(model: String, detail: String?)
    /// The server answered 404 with something that is not Ollama's JSON error: not an Ollama API.
    case notAnOllamaAPI(baseURL: String, status: Int, body: String)
    /// Any other error status, or an `{"error": …}` line in a stream (then `status` is 200).
    case serverError(status: Int, message: String, midStream: Bool)
    /// The connection broke, or the stream ended without its final line.
    case streamInterrupted(bytesReceived: Int, cause: String)
    /// A time limit ran out.
    case timeout(TimeoutLimit, seconds: Double)
    /// The server sent something we cannot read.
    case invalidResponse(String)

    /// Whether trying again later may succeed.
    public var isRetryable: Bool {
        switch self {
        case .notRunning, .streamInterrupted: true
        case .serverError(let status, _, let midStream): midStream || Self.retryableStatuses.contains(status)
        case .modelNotInstalled, .notAnOllamaAPI, .timeout, .invalidResponse: false
        }
    }

    /// Statuses that mean "busy or loading, try again": Ollama answers 503 when its queue is full
    /// and 500 when a model fails to load; 502/504 come from proxies in front of it.
    static let retryableStatuses: Set<Int> = [429, 500, 502, 503, 504]

    /// The HTTP status behind the error, when there was one.
    public var httpStatus: Int? {
        switch self {
        case .modelNotInstalled: 404
        case .notAnOllamaAPI(_, let status, _): status
        case .serverError(let status, _, _): status
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .notRunning(let baseURL, _):
            "Ollama not running at \(baseURL). Start it with `ollama serve`."
        case .modelNotInstalled(let model, _):
            "Model '\(model)' is not installed. Run `ollama pull \(model)`."
        case .notAnOllamaAPI(let baseURL, let status, let body):
            "\(baseURL) is not an Ollama API: it answered HTTP \(status) (\(Self.clip(body))). "
                + "Check --ollama-url or OLLAMA_HOST."
        case .serverError(let status, let message, let midStream):
            midStream
                ? "Ollama reported an error during the reply (HTTP \(status)): \(message)"
                : "Ollama answered HTTP \(status): \(message)"
        case .streamInterrupted(let bytes, let cause):
            "The connection to Ollama broke mid-reply after \(bytes) bytes of reply text (\(cause))."
        case .timeout(let limit, let seconds):
            "Timed out: \(limit) of \(Self.format(seconds: seconds)) exceeded."
        case .invalidResponse(let detail):
            "Ollama sent a response that could not be read: \(detail)"
        }
    }

    static func clip(_ text: String, to limit: Int = 200) -> String {
        let trimmed = text.trimmingWhitespace()
        return trimmed.count <= limit ? trimmed : String(trimmed.prefix(limit)) + "…"
    }

    static func format(seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }
}
