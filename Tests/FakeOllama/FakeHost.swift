//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Synchronization

/// One Ollama host with its own models, for tests with several hosts: `/api/tags` and
/// `/api/ps` tell the truth, a chat for a model not loaded first "loads" it (counted, and
/// evicting the least recently used when `room` models are loaded), and chats may be held at a
/// gate. Answers `reply to PROMPT from NAME`. `/api/embed` answers one vector per input
/// (`[length, 0.5, -0.25]`) and a `prompt_eval_count` of the inputs' total length; it records
/// each request's inputs (``embeds``), refuses a whole request with 400 when one input is
/// `badInput` (as Ollama does for an input too long), and may hold embeds at the gate too.
public final class FakeHost: Sendable {
    public struct Chat: Sendable, Equatable {
        public var model: String
        public var prompt: String
        public var loaded: Bool
    }

    public let name: String
    private let installed: [String]
    private let room: Int
    private let loadCost: Duration?
    private let replyDelay: Duration?
    private let state = Mutex<(loaded: [String], chats: [Chat], embeds: [[String]])>(([], [], []))
    private let badInput: String?
    private let holdChats: Bool
    private let holdEmbeds: Bool
    /// Held chats wait here until it opens (`nil`: never held).
    public let gate: Gate?

    public init(
        name: String, models: [String], room: Int = 8, loadCost: Duration? = nil, replyDelay: Duration? = nil, holdChats: Bool = false,
        holdEmbeds: Bool = false, badInput: String? = nil
    ) {
        self.name = name
        self.badInput = badInput
        self.holdChats = holdChats
        self.holdEmbeds = holdEmbeds
        self.replyDelay = replyDelay
        self.installed = models.map(Self.normalized)
        self.room = room
        self.loadCost = loadCost
        self.gate = holdChats || holdEmbeds ? Gate() : nil
    }

    static func normalized(_ model: String) -> String { model.contains(":") ? model : model + ":latest" }

    /// Chats answered or under way, in the order they came.
    public var chats: [Chat] { state.withLock { $0.chats } }
    /// The inputs of each `/api/embed` request, in the order they came.
    public var embeds: [[String]] { state.withLock { $0.embeds } }
    /// How many chats had to load their model.
    public var loads: Int { chats.filter(\.loaded).count }

    public var handler: FakeOllama.Handler {
        { request in await self.answer(request) }
    }

    private func answer(_ request: FakeRequest) async -> FakeResponse {
        switch (request.method, request.path) {
        case ("GET", "/api/version"):
            return .json(200, #"{"version":"0.12.6"}"#)
        case ("GET", "/api/tags"):
            let entries = installed.map { #"{"name":"\#($0)","model":"\#($0)","size":1000,"digest":"d"}"# }
            return .json(200, #"{"models":[\#(entries.joined(separator: ","))]}"#)
        case ("GET", "/api/ps"):
            let entries = state.withLock { $0.loaded }.map { #"{"name":"\#($0)","model":"\#($0)","size":1000}"# }
            return .json(200, #"{"models":[\#(entries.joined(separator: ","))]}"#)
        case ("POST", "/api/chat"):
            let model = Self.normalized(request.model ?? "")
            guard installed.contains(model) else { return .error(404, "model '\(request.model ?? "")' not found") }
            let mustLoad = state.withLock { state in
                let mustLoad = !state.loaded.contains(model)
                state.loaded.removeAll { $0 == model }
                state.loaded.append(model)
                if state.loaded.count > room { state.loaded.removeFirst() }
                state.chats.append(Chat(model: model, prompt: request.lastMessage ?? "", loaded: mustLoad))
                return mustLoad
            }
            if mustLoad, let loadCost { try? await Task.sleep(for: loadCost) }
            if holdChats, let gate { await gate.wait() }
            if let replyDelay { try? await Task.sleep(for: replyDelay) }
            if request.json?["stream"] as? Bool == false {
                return .chatReply(model: model, content: "reply to \(request.lastMessage ?? "") from \(name)")
            }
            return .chatStream(model: model, pieces: ["reply to \(request.lastMessage ?? "") ", "from \(name)"])
        case ("POST", "/api/embed"):
            let model = Self.normalized(request.model ?? "")
            guard installed.contains(model) else { return .error(404, "model '\(request.model ?? "")' not found") }
            let inputs = (request.json?["input"] as? [String]) ?? [(request.json?["input"] as? String) ?? ""]
            state.withLock { $0.embeds.append(inputs) }
            if holdEmbeds, let gate { await gate.wait() }
            if let replyDelay { try? await Task.sleep(for: replyDelay) }
            if let badInput, inputs.contains(badInput) { return .error(400, "the input length exceeds the context length") }
            let vectors = inputs.map { "[\(Double($0.count)),0.5,-0.25]" }
            let tokens = inputs.reduce(0) { $0 + $1.count }
            return .json(200, #"{"model":"\#(model)","embeddings":[\#(vectors.joined(separator: ","))],"total_duration":1000,"load_duration":10,"prompt_eval_count":\#(tokens)}"#)
        default:
            return .json(404, "404 page not found", contentType: "text/plain")
        }
    }
}
