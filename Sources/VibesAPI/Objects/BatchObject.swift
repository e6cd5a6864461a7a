//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// OpenAI's `Batch` (every field of openai-python's `types/batch.py`, times in Unix seconds).
public struct BatchObject: Sendable, Equatable {
    public enum Status: String, Sendable {
        case validating, failed, finalizing, completed, expired, cancelling, cancelled
        case inProgress = "in_progress"

        /// Whether the batch will not change any more.
        public var isFinal: Bool { [.failed, .completed, .expired, .cancelled].contains(self) }
    }

    /// One entry of `errors.data` (OpenAI's `BatchError`).
    public struct LineError: Sendable, Equatable {
        public var code: String
        public var message: String
        public var line: Int?
    }

    public var id: String
    public var status: Status
    public var endpoint: String
    public var inputFileID: String
    public var completionWindow: String
    public var createdAt: Int64
    public var expiresAt: Int64?
    public var inProgressAt: Int64?
    public var finalizingAt: Int64?
    public var completedAt: Int64?
    public var failedAt: Int64?
    public var expiredAt: Int64?
    public var cancellingAt: Int64?
    public var cancelledAt: Int64?
    public var outputFileID: String?
    public var errorFileID: String?
    public var errors: [LineError]?
    public var total = 0
    public var completed = 0
    public var failed = 0
    public var inputTokens = 0
    public var outputTokens = 0
    public var metadata: [String: String]?
    public var model: String?

    public var json: JSONValue {
        func time(_ value: Int64?) -> JSONValue { value.map(JSONValue.int) ?? .null }
        func string(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        let errorList: JSONValue = errors.map { list in
            ["object": "list", "data": .array(list.map { error in
                ["code": .string(error.code), "message": .string(error.message),
                 "line": error.line.map { .int(Int64($0)) } ?? .null, "param": nil]
            })]
        } ?? .null
        return [
            "id": .string(id), "object": "batch", "endpoint": .string(endpoint), "status": .string(status.rawValue),
            "input_file_id": .string(inputFileID), "completion_window": .string(completionWindow),
            "created_at": .int(createdAt), "expires_at": time(expiresAt), "in_progress_at": time(inProgressAt),
            "finalizing_at": time(finalizingAt), "completed_at": time(completedAt), "failed_at": time(failedAt),
            "expired_at": time(expiredAt), "cancelling_at": time(cancellingAt), "cancelled_at": time(cancelledAt),
            "output_file_id": string(outputFileID), "error_file_id": string(errorFileID), "errors": errorList,
            "request_counts": ["total": .int(Int64(total)), "completed": .int(Int64(completed)), "failed": .int(Int64(failed))],
            "usage": [
                "input_tokens": .int(Int64(inputTokens)), "input_tokens_details": ["cached_tokens": 0],
                "output_tokens": .int(Int64(outputTokens)), "output_tokens_details": ["reasoning_tokens": 0],
                "total_tokens": .int(Int64(inputTokens + outputTokens)),
            ],
            "metadata": metadata.map { .object($0.mapValues(JSONValue.string)) } ?? .null,
            "model": string(model),
        ]
    }
}
