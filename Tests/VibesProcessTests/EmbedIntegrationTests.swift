//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// Embeddings on a real model (the stand-in's `gemma3-embed`, or an Ollama embedding model):
/// grouped lines get the vectors each would get alone. Skipped when none answers.
@Suite(.serialized) struct EmbedIntegrationTests {
    static let model = RealOllama.embedModel

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        let norms = (a.reduce(0) { $0 + $1 * $1 }).squareRoot() * (b.reduce(0) { $0 + $1 * $1 }).squareRoot()
        return norms == 0 ? 0 : dot / norms
    }

    @Test(.enabled(if: model != nil, "no embedding model reachable (set OLLAMA_HOST)"))
    func groupedLinesGetTheVectorsTheyWouldGetAlone() async throws {
        let texts = ["The cat sat on the mat.", "Stock markets fell sharply today.", "A kitten rests on a rug.", "Rain is expected tomorrow.",
                     "Quarterly earnings beat forecasts.", "Dogs like to chase balls."]
        let t = try TestSpool()
        defer { t.cleanUp() }
        let body = { (text: String) in #"{"model":"\#(Self.model!)","input":"\#(text)"}"# }
        try t.drop("docs.jsonl", texts.enumerated().map { #"{"custom_id":"d\#($0.offset)","method":"POST","url":"/v1/embeddings","body":\#(body($0.element))}"# }.joined(separator: "\n") + "\n")
        let worker = try WorkerProcess(
            ["run", "--once", "--spool", t.spool.root, "--ollama-url", RealOllama.baseURL, "--embed-group", "8"], logPath: "\(t.base)/worker.log")
        #expect(await worker.exitStatus(timeout: .seconds(300)) == 0, "\(worker.log)")
        var grouped: [String: [Double]] = [:]
        var tokens = 0
        for line in (t.read("\(t.spool.done)/docs.output.jsonl") ?? "").split(separator: "\n") {
            let value = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
            let id = try #require(value["custom_id"]?.stringValue)
            grouped[id] = value["response"]?["body"]?["data"]?.arrayValue?.first?["embedding"]?.arrayValue?.compactMap(\.doubleValue)
            tokens += value["response"]?["body"]?["usage"]?["prompt_tokens"]?.doubleValue.map { Int($0) } ?? 0
        }
        #expect(grouped.count == texts.count, "\(worker.log)")
        // Each alone, straight to the server.
        try await withOllamaProvider(configuration: .init(baseURL: RealOllama.baseURL)) { provider in
            for (index, text) in texts.enumerated() {
                let single = try await provider.embed(EmbedRequest(model: Self.model!, input: [text]))
                let vector = try #require(grouped["d\(index)"])
                #expect(vector.count == single.embeddings[0].count)
                #expect(Self.cosine(vector, single.embeddings[0]) > 0.995, "d\(index)")
            }
            let all = try await provider.embed(EmbedRequest(model: Self.model!, input: texts))
            #expect(tokens == all.promptTokens, "the shares sum to the requests' counts")
        }
        // The cat and the kitten are nearer each other than the cat and the markets.
        #expect(Self.cosine(grouped["d0"]!, grouped["d2"]!) > Self.cosine(grouped["d0"]!, grouped["d1"]!))
    }
}
