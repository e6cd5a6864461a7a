//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// OpenAI's `FileObject` (every field of openai-python's `types/file_object.py`).
public struct FileObject: Sendable, Equatable {
    public var id: String
    public var bytes: Int64
    /// Unix seconds.
    public var createdAt: Int64
    public var filename: String
    /// `batch` for uploads, `batch_output` for a batch's output and errors files.
    public var purpose: String

    public var json: JSONValue {
        [
            "id": .string(id), "object": "file", "bytes": .int(bytes), "created_at": .int(createdAt),
            "filename": .string(filename), "purpose": .string(purpose),
            // Deprecated in OpenAI's API, still in the type: a stored file is "processed".
            "status": "processed", "status_details": nil, "expires_at": nil,
        ]
    }
}

/// OpenAI's `FileDeleted`.
public struct FileDeleted: Sendable, Equatable {
    public var id: String
    public var deleted: Bool

    public var json: JSONValue { ["id": .string(id), "object": "file", "deleted": .bool(deleted)] }
}

/// OpenAI's `Model` (`GET /v1/models`): a model a worker's host has loaded.
public struct ModelObject: Sendable, Equatable {
    public var id: String
    public var created: Int64
    /// The Ollama host's base URL.
    public var ownedBy: String

    public var json: JSONValue {
        ["id": .string(id), "object": "model", "created": .int(created), "owned_by": .string(ownedBy), "shutdown_date": nil]
    }
}
