//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation

/// What the fake answers: a status, headers, and the body as steps.
///
/// Without `contentLength` the body goes out chunked (`Transfer-Encoding: chunked`), one HTTP
/// chunk per ``Step/send(_:)``, each flushed at once.
public struct FakeResponse: Sendable {
    public enum Step: Sendable {
        /// Write these exact bytes as one chunk and flush.
        case send([UInt8])
        case sleep(Duration)
        /// Wait until the test says go (for example: until the client has seen what was sent).
        case wait(@Sendable () async -> Void)
        /// Close the connection here, without finishing the response.
        case drop
    }

    public var status: Int
    public var headers: [(String, String)]
    public var steps: [Step]
    public var contentLength: Int?

    public init(status: Int = 200, headers: [(String, String)] = [], steps: [Step] = [], contentLength: Int? = nil) {
        self.status = status
        self.headers = headers
        self.steps = steps
        self.contentLength = contentLength
    }

    /// The connection closed without any reply (not even a status line).
    public static let noReply = FakeResponse(status: 0)

    /// A whole JSON (or any text) body with a `Content-Length`.
    public static func json(_ status: Int = 200, _ text: String, contentType: String = "application/json; charset=utf-8") -> FakeResponse {
        let bytes = Array(text.utf8)
        return FakeResponse(
            status: status, headers: [("Content-Type", contentType)], steps: [.send(bytes)], contentLength: bytes.count)
    }

    /// Ollama's error body: `{"error":"message"}`.
    public static func error(_ status: Int, _ message: String) -> FakeResponse {
        json(status, #"{"error":\#(quoted(message))}"#)
    }

    /// A chunked body from raw pieces, each written (and flushed) separately, `delay` apart.
    public static func chunks(_ pieces: [[UInt8]], delay: Duration? = nil, status: Int = 200) -> FakeResponse {
        var steps: [Step] = []
        for (index, piece) in pieces.enumerated() {
            if index > 0, let delay { steps.append(.sleep(delay)) }
            steps.append(.send(piece))
        }
        return FakeResponse(status: status, headers: [("Content-Type", "application/x-ndjson")], steps: steps)
    }

    /// A chunked body from raw pieces that ends with the connection dropped, once `dropWhen`
    /// returns. Bytes written but not yet read when a connection closes may be lost on either
    /// side, so a test that counts what arrived waits until the client has seen it all.
    public static func chunksThenDrop(_ pieces: [[UInt8]], dropWhen: @escaping @Sendable () async -> Void) -> FakeResponse {
        var response = chunks(pieces)
        response.steps += [.wait(dropWhen), .drop]
        return response
    }

    /// A streamed chat cut short: thinking lines, then content lines, each its own HTTP chunk
    /// written back to back, then the connection closed at once (FIN, no chunk terminator): the
    /// close races the last lines to the client.
    public static func chatThenClose(model: String = "llama3.2", thinking: [String] = [], pieces: [String]) -> FakeResponse {
        var lines = thinking.map { chatLine(model: model, content: "", thinking: $0) }
        lines += pieces.map { chatLine(model: model, content: $0) }
        var response = chunks(lines.map { Array(($0 + "\n").utf8) })
        response.steps.append(.drop)
        return response
    }

    /// A realistic streamed chat: one line per piece, then the final `done` line.
    public static func chatStream(
        model: String = "llama3.2", pieces: [String], delay: Duration? = nil, thinking: [String] = [],
        doneReason: String = "stop", promptTokens: Int = 26
    ) -> FakeResponse {
        var lines = thinking.map { chatLine(model: model, content: "", thinking: $0) }
        lines += pieces.map { chatLine(model: model, content: $0) }
        lines.append(finalLine(model: model, doneReason: doneReason, promptTokens: promptTokens, evalCount: pieces.count))
        return chunks(lines.map { Array(($0 + "\n").utf8) }, delay: delay)
    }

    /// A whole (not streamed) chat reply.
    public static func chatReply(model: String = "llama3.2", content: String, thinking: String? = nil) -> FakeResponse {
        var message = #"{"role":"assistant","content":\#(quoted(content))"#
        if let thinking { message += #","thinking":\#(quoted(thinking))"# }
        message += "}"
        return json(
            200,
            #"{"model":\#(quoted(model)),"created_at":"2025-01-02T03:04:05.123456789Z","message":\#(message),"done":true,"done_reason":"stop","total_duration":5000000,"load_duration":1000000,"prompt_eval_count":26,"prompt_eval_duration":2000000,"eval_count":3,"eval_duration":2000000}"#)
    }

    /// One streamed line of a chat, as Ollama writes it.
    public static func chatLine(model: String = "llama3.2", content: String, thinking: String? = nil) -> String {
        var message = #"{"role":"assistant","content":\#(quoted(content))"#
        if let thinking { message += #","thinking":\#(quoted(thinking))"# }
        message += "}"
        return #"{"model":\#(quoted(model)),"created_at":"2025-01-02T03:04:05.5Z","message":\#(message),"done":false}"#
    }

    /// The final line of a streamed chat, with metrics.
    public static func finalLine(model: String = "llama3.2", doneReason: String = "stop", promptTokens: Int = 26, evalCount: Int = 1) -> String {
        #"{"model":\#(quoted(model)),"created_at":"2025-01-02T03:04:05.987654321+02:00","message":{"role":"assistant","content":""},"done":true,"done_reason":"\#(doneReason)","total_duration":12000000,"load_duration":3000000,"prompt_eval_count":\#(promptTokens),"prompt_eval_duration":4000000,"eval_count":\#(evalCount),"eval_duration":5000000}"#
    }

    static func quoted(_ text: String) -> String {
        let data = try! JSONEncoder().encode(text)
        return String(decoding: data, as: UTF8.self)
    }
}

extension FakeOllama {
    /// A handler that answers like a real Ollama with the given models installed: `/api/version`,
    /// `/api/tags`, `/api/show`, 404 for unknown models and paths, and `chat` for `/api/chat`.
    public static func ollamaLike(
        models: [String] = ["llama3.2:latest"], contextLength: Int = 131072,
        chat: @escaping @Sendable (FakeRequest) async -> FakeResponse
    ) -> Handler {
        { request in
            switch (request.method, request.path) {
            case ("GET", "/api/version"):
                return .json(200, #"{"version":"0.12.6"}"#)
            case ("GET", "/api/tags"):
                let entries = models.map {
                    #"{"name":"\#($0)","model":"\#($0)","modified_at":"2025-05-01T10:20:30.123-07:00","size":2019393189,"digest":"a80c4f17acd5","details":{"format":"gguf","family":"llama","parameter_size":"3.2B","quantization_level":"Q4_K_M"}}"#
                }
                return .json(200, #"{"models":[\#(entries.joined(separator: ","))]}"#)
            case ("POST", "/api/show"):
                guard let model = request.model, isInstalled(model, in: models) else {
                    return .error(404, "model '\(request.model ?? "")' not found")
                }
                return .json(
                    200,
                    #"{"modelfile":"FROM x","parameters":"stop \"<|eot_id|>\"","template":"","details":{"family":"llama"},"model_info":{"general.architecture":"llama","general.parameter_count":3212749888,"llama.context_length":\#(contextLength),"llama.embedding_length":3072},"capabilities":["completion","tools"],"modified_at":"2025-05-01T10:20:30.123-07:00"}"#)
            case ("POST", "/api/chat"):
                guard let model = request.model, isInstalled(model, in: models) else {
                    return .error(404, "model '\(request.model ?? "")' not found")
                }
                return await chat(request)
            default:
                return .json(404, "404 page not found", contentType: "text/plain")
            }
        }
    }

    /// Ollama resolves `name` to `name:latest`.
    static func isInstalled(_ model: String, in models: [String]) -> Bool {
        models.contains(model) || models.contains(model + ":latest")
    }
}
