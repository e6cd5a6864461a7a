//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

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

/// Writes an envelope to a file with ``JSONWriter``, keys in the contract's order; the reply
/// text is copied from the partial file, escaped on the way, without holding it in memory.
/// Writes out every 60 KiB.
struct EnvelopeWriter {
    let fd: Int32
    let path: String
    private var json = JSONWriter()

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        json.bytes.reserveCapacity(64 << 10)
    }

    mutating func member(_ name: String, _ value: JSONValue) throws {
        json.member(name, value)
        if json.bytes.count >= 60 << 10 { try flush() }
    }

    /// A member whose value is an object, its members written by `body` in order.
    mutating func object(_ name: String, _ body: (inout EnvelopeWriter) throws -> Void) throws {
        json.beginObject(name)
        try body(&self)
        json.endObject()
    }

    /// A member whose value is an array of objects, one written by `element` for each of `items`.
    mutating func array<Item>(_ name: String, _ items: [Item], _ element: (inout EnvelopeWriter, Item) throws -> Void) throws {
        json.beginArray(name)
        for item in items {
            json.beginObject()
            try element(&self, item)
            json.endObject()
        }
        json.endArray()
    }

    /// A member whose value is a JSON string holding the bytes of `source` (UTF-8, written by us).
    mutating func member(_ name: String, textOf source: Int32, sourcePath: String) throws {
        json.key(name)
        json.bytes.append(UInt8(ascii: "\""))
        try FileSystem.readChunks(source, from: 0, path: sourcePath) { chunk in
            JSONValue.escape(chunk, into: &json.bytes)
            if json.bytes.count >= 60 << 10 { try flush() }
        }
        json.bytes.append(UInt8(ascii: "\""))
        json.endValue()
    }

    /// The members every envelope starts with: `{"id":…,"status":…,"model":…`.
    mutating func begin(id: String, status: String, model: String?) throws {
        json.beginObject()
        try member("id", .string(id))
        try member("status", .string(status))
        try member("model", JSONValue(model))
    }

    /// The members every envelope ends with: the Ollama of the last attempt (`null` if none ran
    /// it), the worker, the metadata; closes the object and writes out what is buffered.
    mutating func finish(workerID: String, host: String?, metadata: JSONValue?) throws {
        try member("host", JSONValue(host))
        try member("worker", .string(workerID))
        try member("metadata", metadata ?? .null)
        json.endObject()
        json.bytes.append(UInt8(ascii: "\n"))
        try flush()
    }

    mutating func flush() throws {
        guard !json.bytes.isEmpty else { return }
        try FileSystem.writeAll(fd, json.bytes, path: path)
        json.bytes.removeAll(keepingCapacity: true)
    }
}
