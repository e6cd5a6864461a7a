//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
import VibesModels

/// Several embedding requests as one, and the reply shared out again.
@Suite struct EmbedGroupTests {
    @Test func sharesSumExactlyAndFollowTheWeights() {
        #expect(EmbedGroup.shares(of: 10, weights: [1, 1, 1]) == [4, 3, 3], "the remainder to the first on a tie")
        #expect(EmbedGroup.shares(of: 100, weights: [1, 3]) == [25, 75])
        #expect(EmbedGroup.shares(of: 7, weights: [10, 20, 30, 40]) == [1, 1, 2, 3], "0.7 1.4 2.1 2.8: the largest remainders get the two left")
        #expect(EmbedGroup.shares(of: 5, weights: [0, 0]) == [3, 2], "no length: equal shares")
        #expect(EmbedGroup.shares(of: 0, weights: [3, 4]) == [0, 0])
        #expect(EmbedGroup.shares(of: 9, weights: [5]) == [9])
        // Many random cases: the sum is exact, and no share is a whole token off its exact value.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let weights = (0..<Int.random(in: 1...20, using: &generator)).map { _ in Int.random(in: 0...5000, using: &generator) }
            let total = Int.random(in: 0...100_000, using: &generator)
            let shares = EmbedGroup.shares(of: total, weights: weights)
            #expect(shares.reduce(0, +) == total)
            let sum = max(1, weights.reduce(0, +))
            if weights.reduce(0, +) > 0 {
                for (share, weight) in zip(shares, weights) {
                    #expect(abs(Double(share) - Double(total) * Double(weight) / Double(sum)) < 1)
                }
            }
        }
    }

    @Test func theRequestHasEveryInputAndTheReplyIsSplitInOrder() throws {
        let a = EmbedRequest(model: "e", input: ["aa"], dimensions: 3)
        let b = EmbedRequest(model: "e", input: ["bbbb", "cc"], dimensions: 3)
        let group = EmbedGroup([a, b])
        #expect(group.request.input == ["aa", "bbbb", "cc"])
        #expect(group.request.dimensions == 3)
        let reply = EmbedResponse(model: "e:latest", embeddings: [[1], [2], [3]], promptTokens: 8)
        let split = try group.split(reply)
        #expect(split.map(\.embeddings) == [[[1]], [[2], [3]]])
        #expect(split.map(\.promptTokens) == [2, 6], "2 bytes of 8, 6 of 8")
        #expect(split.allSatisfy { $0.model == "e:latest" })
        #expect(throws: ModelError.self) { try group.split(EmbedResponse(model: "e", embeddings: [[1], [2]])) }
        #expect(try group.split(EmbedResponse(model: "e", embeddings: [[1], [2], [3]])).map(\.promptTokens) == [nil, nil])
    }

    @Test func theKeyIsTheModelAndEverySetting() {
        let base = EmbedRequest(model: "e", input: ["x"], options: ["num_ctx": 512, "seed": 1], keepAlive: .duration("5m"), truncate: false, dimensions: 64)
        var reordered = EmbedRequest(model: "e", input: ["other"], options: ["seed": 1, "num_ctx": 512], keepAlive: .duration("5m"), truncate: false, dimensions: 64)
        #expect(EmbedGroup.key(base) == EmbedGroup.key(reordered), "inputs do not count; option order does not")
        for change in [
            { (r: inout EmbedRequest) in r.model = "f" }, { $0.options["seed"] = 2 }, { $0.keepAlive = .seconds(300) },
            { $0.truncate = nil }, { $0.dimensions = 32 },
        ] {
            var other = reordered
            change(&other)
            #expect(EmbedGroup.key(other) != EmbedGroup.key(base))
        }
        reordered.truncate = true
        #expect(EmbedGroup.key(reordered) != EmbedGroup.key(base))
    }
}
