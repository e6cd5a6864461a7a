//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// OpenAI's `FileObject` (every field of openai-python's `types/file_object.py`).
package struct FileObject: Sendable, Equatable {
    package var id: String
    package var bytes: Int64
    /// Unix seconds.
    package var createdAt: Int64
    package var filename: String
    /// `batch` for uploads, `batch_output` for a batch's output and errors files.
    package var purpose: String

    package var json: JSONValue {
        [
            "id": .string(id), "object": "file", "bytes": .int(bytes), "created_at": .int(createdAt),
            "filename": .string(filename), "purpose": .string(purpose),
            // Deprecated in OpenAI's API, still in the type: a stored file is "processed".
            "status": "processed", "status_details": nil, "expires_at": nil,
        ]
    }
}

/// OpenAI's `FileDeleted`.
package struct FileDeleted: Sendable, Equatable {
    package var id: String
    package var deleted: Bool

    package var json: JSONValue { ["id": .string(id), "object": "file", "deleted": .bool(deleted)] }
}

/// OpenAI's `Model` (`GET /v1/models`): a model a worker's host has loaded.
package struct ModelObject: Sendable, Equatable {
    package var id: String
    package var created: Int64
    /// The Ollama host's base URL.
    package var ownedBy: String

    package var json: JSONValue {
        ["id": .string(id), "object": "model", "created": .int(created), "owned_by": .string(ownedBy), "shutdown_date": nil]
    }
}
