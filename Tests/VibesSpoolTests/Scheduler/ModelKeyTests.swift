//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
import VibesModels
@testable import VibesSpool

/// The scheduler's names for models and loads: asked on every event, read on the bytes (no
/// split, no array).
@Suite struct ModelKeyTests {
    @Test func aNameWithoutATagAfterItsLastSlashGetsLatest() {
        #expect(ModelKey.normalized("llama3.2") == "llama3.2:latest")
        #expect(ModelKey.normalized("qwen2.5:7b") == "qwen2.5:7b")
        #expect(ModelKey.normalized("library/llama3.2") == "library/llama3.2:latest")
        #expect(ModelKey.normalized("registry:5000/team/model") == "registry:5000/team/model:latest")
        #expect(ModelKey.normalized("registry:5000/team/model:q4") == "registry:5000/team/model:q4")
        #expect(ModelKey.normalized("") == ":latest")
        #expect(ModelKey.normalized("modèle") == "modèle:latest")
    }

    @Test func theModelOfALoadKeyIsWhatComesBeforeItsFirstBar() {
        let key = ModelKey.load(model: "qwen2.5:7b", options: ["num_ctx": .int(8192), "temperature": .double(0.5)])
        #expect(key.hasPrefix("qwen2.5:7b|num_ctx="))
        #expect(key != ModelKey.load(model: "qwen2.5:7b", options: ["num_ctx": .int(4096)]))
        #expect(ModelKey.load(model: "qwen2.5:7b", options: ["temperature": .double(0.5)]) == "qwen2.5:7b")
        #expect(ModelKey.model(ofLoad: key) == "qwen2.5:7b")
        #expect(ModelKey.model(ofLoad: "m:latest") == "m:latest")
        #expect(ModelKey.model(ofLoad: "é:1|num_gpu=1|num_ctx=2") == "é:1")
        #expect(ModelKey.model(ofLoad: "|x") == "")
    }
}
