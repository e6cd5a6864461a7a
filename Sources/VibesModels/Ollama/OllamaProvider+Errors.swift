//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

extension OllamaProvider {
    /// Maps an error status and its body (up to 64 KiB) to a ``ModelError``.
    static func statusError(_ responseStatus: HTTPResponseStatus, body: ByteBuffer, baseURL: String, model: String?) -> ModelError {
        let status = Int(responseStatus.code)
        let text = body.getString(at: body.readerIndex, length: body.readableBytes) ?? ""
        let ollamaError = try? JSONDecoder().decode(OllamaWire.ErrorReply.self, from: body)
        if status == 404 {
            // Match the status, not the text: Ollama's wording changed in 0.2.2 and 0.12.
            guard let ollamaError else {
                return .notAnOllamaAPI(baseURL: baseURL, status: status, body: text)
            }
            return .modelNotInstalled(model: model ?? "?", detail: ollamaError.error)
        }
        let message = ollamaError?.error ?? (text.isEmpty ? responseStatus.reasonPhrase : ModelError.clip(text))
        return .serverError(status: status, message: message, midStream: false)
    }

    /// Maps a transport error to a ``ModelError``.
    func classify(_ error: any Error, headReceived: Bool, textBytes: Int) -> any Error {
        if error is ModelError || error is CancellationError { return error }
        if let error = error as? HTTPClientError, error == .cancelled { return CancellationError() }
        if let error = error as? HTTPClientError, error == .deadlineExceeded {
            return ModelError.timeout(.firstByte, seconds: configuration.firstByteTimeout.seconds)
        }
        let cause = Self.describe(error)
        if !headReceived && Self.isConnectFailure(error) {
            return ModelError.notRunning(baseURL: configuration.baseURL, cause: cause)
        }
        return ModelError.streamInterrupted(bytesReceived: textBytes, cause: cause)
    }

    /// A transport error as a person reads it: NIO's own text for a failed system call is
    /// "connection reset (error set): Connection refused) (errno: 111)".
    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError {
            return "\(String(cString: strerror(error.errnoCode))) (errno \(error.errnoCode))"
        }
        return String(describing: error)
    }

    /// Whether `error` means nothing could be connected to (as opposed to a broken exchange).
    static func isConnectFailure(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError {
            return error == .connectTimeout
        }
        if error is NIOConnectionError { return true }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        if let error = error as? IOError {
            return [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT, EADDRNOTAVAIL].contains(error.errnoCode)
        }
        let text = String(describing: error)
        return text.contains("connectionRefused") || text.contains("Connection refused")
            || text.contains("connect timeout") || text.contains("NIOConnectionError")
    }
}

extension ModelError {
    /// Whether this is about reaching the server at all (not about a model or a reply).
    public var isConnectionProblem: Bool {
        if case .notRunning = self { return true }
        return false
    }
}
