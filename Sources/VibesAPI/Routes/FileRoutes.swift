//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Hummingbird
import NIOCore
import VibesModels

/// `/v1/files`: upload (multipart, streamed to disk), list, retrieve, content, delete.
extension APIService {
    func addFileRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/files") { request, _ in try await self.upload(request).json.response() }
        router.get("/v1/files") { request, _ in try self.listFiles(query: request.uri.queryParameters).response() }
        router.get("/v1/files/:id") { _, context in try self.fileObject(id: context.parameters.require("id")).json.response() }
        router.delete("/v1/files/:id") { _, context in try self.deleteFile(id: context.parameters.require("id")).json.response() }
        router.get("/v1/files/:id/content") { _, context in
            let path = try self.contentPath(id: context.parameters.require("id"))
            let body = try await FileIO().loadFile(path: path, context: context)
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
        }
    }

    func upload(_ request: Request) async throws -> FileObject {
        guard let type = request.headers[.contentType], let boundary = multipartBoundary(contentType: type) else {
            throw APIError.invalid("Expected a multipart/form-data body with the fields 'file' and 'purpose'.", code: "invalid_content_type")
        }
        // The form's own bytes (boundaries, headers, purpose) come on top of the file's.
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > settings.maxUploadBytes + 64 << 10 {
            throw APIError.tooLarge(limit: settings.maxUploadBytes)
        }
        guard beginUpload() else { throw APIError.busy("Too many uploads at once (at most \(settings.maxConcurrentUploads)); try again shortly.") }
        defer { endUpload() }
        let sink = try UploadSink(store: store, hex: newHex(), limit: settings.maxUploadBytes)
        let form = MultipartForm(boundary: boundary, sink: sink)
        for try await buffer in request.body { try form.read(buffer) }
        try form.finish()
        return try sink.commit(filename: String((form.filename ?? "upload.jsonl").prefix(255)), purpose: "batch", createdAt: now()).object
    }

    func listFiles(query: Parameters) throws -> JSONValue {
        let limit = try Self.limit(query, default: 10_000, max: 10_000)
        if let purpose = query.get("purpose"), purpose != "batch" { return ListPage(data: [], ids: [], hasMore: false).json }
        var ids = try store.fileIDs()
        if query.get("order") == "asc" { ids.reverse() }
        let page = query.get("order") == "asc"
            ? Self.ascendingWindow(ids, after: query.get("after"), limit: limit)
            : ListPage.window(ids, after: query.get("after"), limit: limit)
        let records = page.ids.compactMap { id in APIID.parseFile(id).flatMap { if case .upload(let hex) = $0 { store.fileRecord(hex: hex) } else { nil } } }
        return ListPage(data: records.map(\.object.json), ids: records.map(\.id), hasMore: page.hasMore).json
    }

    static func ascendingWindow(_ ids: [String], after: String?, limit: Int) -> (ids: ArraySlice<String>, hasMore: Bool) {
        let start = after.map { cursor in ids.firstIndex { $0 > cursor } ?? ids.endIndex } ?? ids.startIndex
        let end = min(ids.endIndex, start + limit)
        return (ids[start..<end], end < ids.endIndex)
    }

    /// `limit` from a query: 1 to `max`.
    static func limit(_ query: Parameters, default value: Int, max: Int) throws(APIError) -> Int {
        guard let text = query.get("limit") else { return value }
        guard let limit = Int(text), (1...max).contains(limit) else {
            throw .invalid("Invalid value for 'limit': '\(text)'. Expected an integer from 1 to \(max).", param: "limit", code: "invalid_value")
        }
        return limit
    }

    /// An uploaded file, or a batch's output or errors file.
    func fileObject(id: String) throws -> FileObject {
        switch APIID.parseFile(id) {
        case .upload(let hex)?:
            if let record = store.fileRecord(hex: hex) { return record.object }
        case .output(let hex)?, .errors(let hex)?:
            let isErrors = APIID.parseFile(id) == .errors(batchHex: hex)
            if let record = store.batchRecord(id: APIID.batch(hex: hex).string),
                let path = store.batchResultPath(spoolID: record.spoolID, errors: isErrors),
                let info = store.fileInfo(path)
            {
                return FileObject(id: id, bytes: info.size, createdAt: info.modified, filename: "\(record.id)_\(isErrors ? "error" : "output").jsonl", purpose: "batch_output")
            }
        default: break
        }
        throw APIError.noSuch("File", id: id, param: "file_id")
    }

    func contentPath(id: String) throws -> String {
        _ = try fileObject(id: id)
        switch APIID.parseFile(id) {
        case .upload(let hex)?: return store.content(upload: hex)
        case .output(let hex)?, .errors(let hex)?:
            let record = store.batchRecord(id: APIID.batch(hex: hex).string)
            if let record, let path = store.batchResultPath(spoolID: record.spoolID, errors: APIID.parseFile(id) == .errors(batchHex: hex)) { return path }
        default: break
        }
        throw APIError.noSuch("File", id: id, param: "file_id")
    }

    func deleteFile(id: String) throws -> FileDeleted {
        switch APIID.parseFile(id) {
        case .upload(let hex)?:
            guard try store.deleteFile(hex: hex) else { break }
            return FileDeleted(id: id, deleted: true)
        case .output?, .errors?:
            _ = try fileObject(id: id)
            throw APIError.invalid("A batch's output and errors files live in the spool's done/ folder; remove them with `vibes-spool prune`.", param: "file_id")
        default: break
        }
        throw APIError.noSuch("File", id: id, param: "file_id")
    }
}
