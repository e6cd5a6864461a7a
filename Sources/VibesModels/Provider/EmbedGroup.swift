//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Several embedding requests of one model and the same settings sent as one request with all
/// their inputs (a model embeds the inputs of one request together, which costs less than one
/// request each), and the reply shared out again: each member gets its own vectors, in order,
/// and its share of the request's token count.
package struct EmbedGroup: Sendable {
    /// The members' requests, in the order their inputs are sent.
    package let members: [EmbedRequest]

    package init(_ members: [EmbedRequest]) {
        precondition(!members.isEmpty, "an embedding group has at least one member")
        self.members = members
    }

    /// What may share a request: the model and every setting sent with the inputs (`options`,
    /// `keep_alive`, `truncate`, `dimensions`), as one string. Equal keys, one request.
    package static func key(_ request: EmbedRequest) -> String {
        var settings: [String: JSONValue] = ["model": .string(request.model)]
        if !request.options.isEmpty { settings["options"] = .object(request.options) }
        if let keepAlive = request.keepAlive { settings["keep_alive"] = keepAlive.wireValue }
        if let truncate = request.truncate { settings["truncate"] = .bool(truncate) }
        if let dimensions = request.dimensions { settings["dimensions"] = .int(Int64(dimensions)) }
        // Sorted keys: the same settings written in another order are the same key.
        return String(decoding: JSONValue.object(settings).jsonBytes, as: UTF8.self)
    }

    /// The one request: the first member's settings (every member has the same ``key(_:)``)
    /// and every member's inputs, in order.
    package var request: EmbedRequest {
        var request = members[0]
        request.input = members.flatMap(\.input)
        return request
    }

    /// The reply shared out: one response per member, with its own vectors and its share of
    /// `prompt_eval_count` (see ``shares(of:weights:)``), the request's model and timings.
    /// - Throws: ``ModelError/invalidResponse(_:)`` when the vectors are not one per input.
    package func split(_ response: EmbedResponse) throws -> [EmbedResponse] {
        let counts = members.map(\.input.count)
        guard response.embeddings.count == counts.reduce(0, +) else {
            throw ModelError.invalidResponse(
                "/api/embed answered \(response.embeddings.count) vectors for \(counts.reduce(0, +)) inputs")
        }
        let tokens = response.promptTokens.map { Self.shares(of: $0, weights: members.map(Self.weight)) }
        var start = 0
        return members.indices.map { index in
            let vectors = Array(response.embeddings[start..<start + counts[index]])
            start += counts[index]
            return EmbedResponse(model: response.model, embeddings: vectors, promptTokens: tokens?[index], timings: response.timings)
        }
    }

    /// A member's weight in the token count: the UTF-8 length of its inputs.
    static func weight(_ request: EmbedRequest) -> Int {
        request.input.reduce(0) { $0 + $1.utf8.count }
    }

    /// `total` shared out in proportion to `weights`, in whole numbers that sum to `total`
    /// exactly: each gets the whole part of its exact share, and what is left goes one by one to
    /// the largest remainders (the earlier member first on a tie). All weights zero: equal shares.
    package static func shares(of total: Int, weights: [Int]) -> [Int] {
        guard !weights.isEmpty else { return [] }
        let weights = weights.allSatisfy({ $0 <= 0 }) ? weights.map { _ in 1 } : weights.map { max(0, $0) }
        let sum = weights.reduce(0, +)
        // Exact in integers: share = total × weight / sum, as quotient and remainder.
        var shares = weights.map { $0.multipliedFullWidth(by: total) }.map { sum.dividingFullWidth($0) }
        var left = total - shares.reduce(0) { $0 + $1.quotient }
        for index in shares.indices.sorted(by: { (shares[$0].remainder, $1) > (shares[$1].remainder, $0) }) where left > 0 {
            shares[index].quotient += 1
            left -= 1
        }
        return shares.map(\.quotient)
    }
}
