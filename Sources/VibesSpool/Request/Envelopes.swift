//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import VibesModels

/// The kinds of failure in the contract's error table.
package enum JobErrorKind: String, Sendable, Codable {
    case invalidRequest = "invalid_request"
    case ollamaNotRunning = "ollama_not_running"
    case modelNotInstalled = "model_not_installed"
    case ollamaError = "ollama_error"
    case streamInterrupted = "stream_interrupted"
    case timeout
    /// A cancel request (`cancel/ID`) stopped the job.
    case cancelled
    /// A batch line that had not finished when its batch was cancelled (errors file only).
    case batchCancelled = "batch_cancelled"
    /// The same, for a batch cancelled because its completion window ran out.
    case batchExpired = "batch_expired"
}

/// Why a job failed, as the error envelope tells it.
package struct JobFailure: Error, Sendable {
    package var kind: JobErrorKind
    package var message: String
    package var retryable: Bool
    package var httpStatus: Int?
    package var detail: String?

    package init(kind: JobErrorKind, message: String, retryable: Bool = false, httpStatus: Int? = nil, detail: String? = nil) {
        self.kind = kind
        self.message = message
        self.retryable = retryable
        self.httpStatus = httpStatus
        self.detail = detail
    }

    init(_ error: ModelError) {
        let kind: JobErrorKind
        var detail: String?
        switch error {
        case .notRunning(_, let cause): kind = .ollamaNotRunning; detail = cause
        case .modelNotInstalled(_, let text): kind = .modelNotInstalled; detail = text
        case .notAnOllamaAPI(_, _, let body): kind = .ollamaError; detail = body
        case .serverError(_, let message, _): kind = .ollamaError; detail = message
        case .streamInterrupted(_, let cause): kind = .streamInterrupted; detail = cause
        case .timeout: kind = .timeout
        case .invalidResponse(let text): kind = .ollamaError; detail = text
        }
        self.init(kind: kind, message: error.description, retryable: error.isRetryable, httpStatus: error.httpStatus, detail: detail)
    }

    init(_ invalid: InvalidRequest) {
        self.init(kind: .invalidRequest, message: "Invalid request: \(invalid.message)", retryable: false)
    }
}

/// Writes envelopes as JSON without holding the reply in memory: the reply text is copied from
/// the partial file, escaped on the way.
struct EnvelopeWriter {
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()
    let fd: Int32
    let path: String
    private var buffer: [UInt8] = []

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        buffer.reserveCapacity(64 << 10)
    }

    mutating func raw(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 60 << 10 { try flush() }
    }

    mutating func value<T: Encodable>(_ value: T) throws {
        buffer.append(contentsOf: try encoder.encode(value))
        if buffer.count >= 60 << 10 { try flush() }
    }

    /// A JSON string whose contents are the bytes of `source` (valid UTF-8, written by us).
    mutating func string(fromFile source: Int32, sourcePath: String) throws {
        buffer.append(UInt8(ascii: "\""))
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(source, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SpoolError("read", sourcePath)
            }
            if count == 0 { break }
            offset += off_t(count)
            chunk.withUnsafeBufferPointer { JSONValue.escape(UnsafeBufferPointer(rebasing: $0[0..<count]), into: &buffer) }
            if buffer.count >= 60 << 10 { try flush() }
        }
        buffer.append(UInt8(ascii: "\""))
    }

    /// The fields every envelope starts with: `{"id":…,"status":…,"model":…`.
    mutating func begin(id: String, status: String, model: String?) throws {
        try raw("{\"id\":")
        try value(id)
        try raw(",\"status\":\"\(status)\",\"model\":")
        try value(model)
    }

    /// The fields every envelope ends with, `"worker"` and `"metadata"`; closes the object and
    /// writes out what is buffered.
    /// The tail of every envelope: the Ollama of the last attempt (`null` if none ran it), the
    /// worker, the metadata.
    mutating func finish(workerID: String, host: String?, metadata: JSONValue?) throws {
        try raw("\"host\":")
        try value(host)
        try raw(",\"worker\":")
        try value(workerID)
        try raw(",\"metadata\":")
        try value(metadata ?? .null)
        try raw("}\n")
        try flush()
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try FileSystem.writeAll(fd, buffer, path: path)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// A JSON number: integral values without a fraction.
func jsonNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
}

/// A JSON integer or `null`.
func jsonNumber(_ value: Int?) -> String {
    value.map(String.init) ?? "null"
}

/// JSON for tool calls in Ollama's shape.
struct ToolCallJSON: Encodable {
    struct Function: Encodable {
        var name: String
        var arguments: JSONValue
    }
    var function: Function
    init(_ call: ToolCall) { function = Function(name: call.name, arguments: call.arguments) }
}
