//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import MultipartKit
import NIOCore

/// Reads `POST /v1/files`'s multipart body as it arrives (MultipartKit's streaming parser): the
/// `file` part goes to an ``UploadSink`` chunk by chunk, the small fields (`purpose`) are kept.
final class MultipartForm {
    private let parser: MultipartParser
    private let sink: UploadSink
    /// The small fields, by name (at most 4 KiB each).
    private(set) var fields: [String: String] = [:]
    /// The file part's `filename`, once it has ended whole.
    private(set) var filename: String?
    private(set) var fileParts = 0
    private var disposition: FormDisposition?
    private var value: [UInt8] = []
    private var failure: (any Error)?
    /// Whether a part has begun that has not ended.
    private var inPart = false

    init(boundary: String, sink: UploadSink) {
        self.parser = MultipartParser(boundary: boundary)
        self.sink = sink
        parser.onHeader = { [unowned self] name, value in
            inPart = true
            if name.lowercased() == "content-disposition" { disposition = FormDisposition(value) }
        }
        parser.onBody = { [unowned self] buffer in
            inPart = true
            guard failure == nil else { return }
            if disposition?.name == "file" && fileParts == 0 {
                do { try sink.write(buffer) } catch { failure = error }
            } else if value.count + buffer.readableBytes <= 4096 {
                value += buffer.readableBytesView
            } else {
                failure = APIError.invalid("The form field '\(disposition?.name ?? "")' is too long.", param: disposition?.name)
            }
        }
        parser.onPartComplete = { [unowned self] in
            if let disposition {
                if disposition.name == "file" {
                    fileParts += 1
                    if fileParts == 1 { filename = disposition.filename ?? "upload.jsonl" }
                } else {
                    fields[disposition.name] = String(decoding: value, as: UTF8.self)
                }
            }
            disposition = nil
            value = []
            inPart = false
        }
    }

    /// Feeds the next piece of the body.
    func read(_ buffer: ByteBuffer) throws {
        do {
            try parser.execute(buffer)
        } catch {
            throw APIError.invalid("The request body is not valid multipart/form-data.", code: "invalid_multipart")
        }
        if let failure { throw failure }
    }

    /// Checks the form once the body has ended.
    func finish() throws(APIError) {
        if inPart { throw .invalid("The multipart body ended in the middle of a part.", code: "invalid_multipart") }
        guard fileParts > 0 else { throw .invalid("Missing required parameter: 'file'.", param: "file", code: "missing_required_parameter") }
        guard fileParts == 1 else { throw .invalid("Only one 'file' may be uploaded at a time.", param: "file") }
        guard let purpose = fields["purpose"] else {
            throw .invalid("Missing required parameter: 'purpose'.", param: "purpose", code: "missing_required_parameter")
        }
        guard purpose == "batch" else {
            throw .invalid("Invalid value for 'purpose': '\(purpose)'. This server stores files for the Batch API only: 'batch'.", param: "purpose", code: "invalid_value")
        }
    }
}
