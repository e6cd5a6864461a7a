//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// What a scheduler needs to know of an Ollama host: is it up, which models does it have, and
/// which has it loaded.
extension OllamaProvider {
    public func probe() async throws {
        _ = try await version()
    }

    public func installedModels() async throws -> [String] {
        let tags: OllamaWire.TagsReply = try await getJSON("/api/tags")
        return (tags.models ?? []).compactMap { $0.name ?? $0.model }
    }

    public func loadedModels() async throws -> [LoadedModel] {
        let reply: OllamaWire.PsReply = try await getJSON("/api/ps")
        return (reply.models ?? []).compactMap { entry in
            (entry.name ?? entry.model).map { LoadedModel(name: $0, contextLength: entry.contextLength) }
        }
    }
}

extension OllamaWire {
    /// `GET /api/ps`: the models in memory.
    struct PsReply: Decodable {
        struct Model: Decodable {
            var name: String?
            var model: String?
            var contextLength: Int?

            enum CodingKeys: String, CodingKey {
                case name, model
                case contextLength = "context_length"
            }
        }
        var models: [Model]?
    }
}
