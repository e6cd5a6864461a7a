//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc
import Hummingbird
import NIOPosix
import VibesModels
import VibesSpool

/// `/v1/batches`: create, retrieve, list, cancel; and `/v1/models`.
extension APIService {
    func addBatchRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/batches") { request, context in
            let body = try await request.body.collect(upTo: 1 << 20)
            let bytes = Array(body.readableBytesView)
            // Reading the input file's lines and copying it into the spool block: off the
            // async threads.
            return try await NIOThreadPool.singleton.runIfActive { try self.createBatch(body: bytes) }.json.response()
        }
        router.get("/v1/batches") { request, _ in try self.listBatches(query: request.uri.queryParameters).response() }
        router.get("/v1/batches/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let batch = try self.batch(id: id) else { throw APIError.noSuch("Batch", id: id, param: "batch_id") }
            return batch.json.response()
        }
        router.post("/v1/batches/:id/cancel") { _, context in
            let id = try context.parameters.require("id")
            guard let batch = try self.cancel(id: id) else { throw APIError.noSuch("Batch", id: id, param: "batch_id") }
            return batch.json.response()
        }
        router.get("/v1/models") { _, _ in try self.models().response() }
    }

    func createBatch(body: [UInt8]) throws -> BatchObject {
        let request = try BatchCreateRequest(body: body)
        guard case .upload(let fileHex)? = APIID.parseFile(request.inputFileID), let file = store.fileRecord(hex: fileHex) else {
            throw APIError.noSuch("File", id: request.inputFileID, param: "input_file_id")
        }
        guard file.lines <= settings.maxLines else {
            throw APIError.invalid("The input file has \(file.lines) lines; a batch has at most \(settings.maxLines).", param: "input_file_id", code: "too_many_lines")
        }
        let input = store.content(upload: fileHex)
        let model = try Self.checkURLs(path: input, endpoint: request.endpoint)
        let now = now()
        let id = APIID.batch(hex: newHex()).string
        let record = APIBatchRecord(
            id: id, inputFileID: request.inputFileID, endpoint: request.endpoint, completionWindow: request.completionWindow,
            metadata: request.metadata, createdAt: now, expiresAt: now + request.windowSeconds, model: model, spoolID: id)
        let created = try store.createBatch(record, input: input)
        return BatchObject(record: created, state: settings.spool.batchState(id: created.spoolID))
    }

    /// Every line's `url` must be the batch's endpoint (400 naming the first line that is not).
    /// Lines that are not requests at all are left to the worker, which fails the file as a
    /// whole with each line named. Returns the first line's `body.model`.
    static func checkURLs(path: String, endpoint: String) throws -> String? {
        guard let fd = try FileSystem.open(path, O_RDONLY) else { throw APIError.server("The input file's content is missing.") }
        defer { close(fd) }
        var reader = LineReader(fd: fd, path: path)
        var model: String?
        while let line = try reader.next() {
            guard case .line(let number, let bytes, _) = line, let value = try? JSONValue.parse(utf8: bytes) else { continue }
            if number == 1 { model = value["body"]?["model"]?.stringValue }
            if let url = value["url"]?.stringValue, url != endpoint {
                throw APIError.invalid(
                    "Line \(number) of the input file has the url '\(url)', but the batch's endpoint is '\(endpoint)': every line's url must be the endpoint.",
                    param: "input_file_id", code: "mismatched_url")
            }
        }
        return model
    }

    func listBatches(query: Parameters) throws -> JSONValue {
        let limit = try Self.limit(query, default: 20, max: 100)
        let page = ListPage.window(try store.batchIDs(), after: query.get("after"), limit: limit)
        let batches = try page.ids.compactMap { try batch(id: $0) }
        return ListPage(data: batches.map(\.json), ids: batches.map(\.id), hasMore: page.hasMore).json
    }

    /// The models the workers' hosts have loaded (from their state files).
    func models() throws -> JSONValue {
        let status = try SpoolStatus.read(settings.spool)
        var seen: Set<String> = []
        var models: [ModelObject] = []
        for host in status.hosts {
            for name in host.loaded where seen.insert(name).inserted {
                models.append(ModelObject(id: name, created: now(), ownedBy: host.url))
            }
        }
        return ["object": "list", "data": .array(models.map(\.json))]
    }
}
