//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// An uploaded file's record, `api/files/file-HEX.json` (its content is `file-HEX.jsonl`
/// beside it; the record is written last, so a file without one was never acknowledged).
package struct APIFileRecord: Codable, Sendable, Equatable {
    package var id: String
    package var filename: String
    package var bytes: Int64
    /// Unix seconds.
    package var createdAt: Int64
    package var purpose: String
    /// Request lines: newlines, plus one for a last line without its newline.
    package var lines: Int

    enum CodingKeys: String, CodingKey { case id, filename, bytes, purpose, lines, createdAt = "created_at" }

    package var object: FileObject {
        FileObject(id: id, bytes: bytes, createdAt: createdAt, filename: filename, purpose: purpose)
    }
}

/// A batch's record, `api/batches/batch_HEX.json`: what the spool does not know (the API's
/// fields and the cancel asked for). Its state is read from the spool each time.
package struct APIBatchRecord: Codable, Sendable, Equatable {
    package var id: String
    package var inputFileID: String
    package var endpoint: String
    package var completionWindow: String
    package var metadata: [String: String]?
    /// Unix seconds.
    package var createdAt: Int64
    package var expiresAt: Int64
    /// The first line's `body.model`, if it has one.
    package var model: String?
    /// The batch's id in the spool (`incoming/ID.jsonl`, `done/ID.batch.json`…).
    package var spoolID: String
    /// When a cancel was asked for, and why: `user` or `expired`.
    package var cancellingAt: Int64?
    package var cancelReason: String?

    enum CodingKeys: String, CodingKey {
        case id, endpoint, metadata, model
        case inputFileID = "input_file_id", completionWindow = "completion_window", createdAt = "created_at"
        case expiresAt = "expires_at", spoolID = "spool_id", cancellingAt = "cancelling_at", cancelReason = "cancel_reason"
    }
}
