//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// OpenAI's embeddings API (`POST /v1/embeddings`) translated to and from the neutral embedding
/// types, to run on Ollama's `/api/embed`.
///
/// | OpenAI request field | ``EmbedRequest`` (Ollama `/api/embed`) |
/// | --- | --- |
/// | `model` | `model` (required, an Ollama model name) |
/// | `input` (a string or an array of strings) | `input` (a list) |
/// | `dimensions` | `dimensions` |
/// | `encoding_format: "float"` | nothing |
/// | `user` | ignored |
///
/// Refused: `input` as token arrays (numbers), an empty `input`, `encoding_format: "base64"`.
///
/// | `list` reply field | from ``EmbedResponse`` |
/// | --- | --- |
/// | `object` | `"list"` |
/// | `data[i]` | `{object: "embedding", index: i, embedding: embeddings[i]}` |
/// | `model` | `model` |
/// | `usage.prompt_tokens`, `usage.total_tokens` | `prompt_eval_count` (0 when not reported) |
package enum OpenAIEmbeddings {
    /// Translates an OpenAI embeddings request body.
    /// - Throws: ``InvalidRequest`` naming the field at fault.
    package static func request(from body: [String: JSONValue]) throws(InvalidRequest) -> EmbedRequest {
        let fields = FieldReader(body)
        let model = try fields.requiredString("model", "a string naming an Ollama model")
        let input = try inputList(fields)
        if let format = try fields.string("encoding_format"), format != "float" {
            throw .refused("encoding_format", "expected \"float\" or nothing, found \"\(format)\": vectors are written as numbers")
        }
        return EmbedRequest(model: model, input: input, dimensions: try fields.int("dimensions", minimum: 1))
    }

    /// `input`: a string or a non-empty array of strings (also for Ollama's `/api/embed` body).
    static func inputList(_ fields: FieldReader) throws(InvalidRequest) -> [String] {
        if case .array(let items)? = fields.value("input"), items.contains(where: { $0.doubleValue != nil || $0.arrayValue != nil }) {
            throw .refused("input", "token arrays are not supported; send the texts as strings")
        }
        guard let input = try fields.stringOrList("input") else {
            throw InvalidRequest(field: "input", "`input`: required, expected a string or an array of strings, found nothing")
        }
        guard !input.isEmpty else {
            throw InvalidRequest(field: "input", "`input`: expected at least one text, found an empty array")
        }
        return input
    }

    /// A reply as OpenAI's embedding `list` object.
    package static func list(_ response: EmbedResponse) -> JSONValue {
        let tokens = JSONValue.int(Int64(response.promptTokens ?? 0))
        return [
            "object": "list",
            "data": .array(
                response.embeddings.enumerated().map { index, vector in
                    ["object": "embedding", "index": .int(Int64(index)), "embedding": .array(vector.map { .double($0) })]
                }),
            "model": .string(response.model),
            "usage": ["prompt_tokens": tokens, "total_tokens": tokens],
        ]
    }
}

/// Ollama's own `/api/embed` body read into an ``EmbedRequest``.
package enum OllamaEmbedBody {
    /// `{model, input, truncate?, options?, keep_alive?, dimensions?}`.
    /// - Throws: ``InvalidRequest`` naming the field at fault.
    package static func request(from body: [String: JSONValue]) throws(InvalidRequest) -> EmbedRequest {
        let fields = FieldReader(body)
        let model = try fields.requiredString("model", "a string naming an Ollama model")
        return EmbedRequest(
            model: model, input: try OpenAIEmbeddings.inputList(fields), options: try fields.objectValue("options") ?? [:],
            keepAlive: try fields.keepAlive(), truncate: try fields.bool("truncate"),
            dimensions: try fields.int("dimensions", minimum: 1))
    }
}
