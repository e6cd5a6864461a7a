//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// OpenAI's `Batch` (every field of openai-python's `types/batch.py`, times in Unix seconds).
package struct BatchObject: Sendable, Equatable {
    package enum Status: String, Sendable {
        case validating, failed, finalizing, completed, expired, cancelling, cancelled
        case inProgress = "in_progress"

        /// Whether the batch will not change any more.
        package var isFinal: Bool { [.failed, .completed, .expired, .cancelled].contains(self) }
    }

    /// One entry of `errors.data` (OpenAI's `BatchError`).
    package struct LineError: Sendable, Equatable {
        package var code: String
        package var message: String
        package var line: Int?
    }

    package var id: String
    package var status: Status
    package var endpoint: String
    package var inputFileID: String
    package var completionWindow: String
    package var createdAt: Int64
    package var expiresAt: Int64?
    package var inProgressAt: Int64?
    package var finalizingAt: Int64?
    package var completedAt: Int64?
    package var failedAt: Int64?
    package var expiredAt: Int64?
    package var cancellingAt: Int64?
    package var cancelledAt: Int64?
    package var outputFileID: String?
    package var errorFileID: String?
    package var errors: [LineError]?
    package var total = 0
    package var completed = 0
    package var failed = 0
    package var inputTokens = 0
    package var outputTokens = 0
    package var metadata: [String: String]?
    package var model: String?

    package var json: JSONValue {
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
