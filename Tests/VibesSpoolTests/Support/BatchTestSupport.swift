//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// A provider without a network: replies `reply to TEXT` (chat) and `[len, 1]` per input
/// (embeddings); model `tools` calls a tool; model `missing` is not installed, model `busy` answers 503.
struct StubProvider: ModelProvider {
    var name: String { "stub" }
    func models() async throws -> [ModelInfo] { [] }

    func chat(_ request: ChatRequest) async throws -> ChatResponse {
        try check(request.model)
        if request.model == "tools" {
            let call = ToolCall(name: "get_weather", arguments: ["city": "Paris", "days": 2])
            return ChatResponse(
                model: request.model, message: ChatMessage(role: .assistant, content: "", thinking: "a tool", toolCalls: [call]),
                stopReason: .stop, usage: Usage(promptTokens: 7, completionTokens: 4))
        }
        return ChatResponse(
            model: request.model, createdAt: Date(timeIntervalSince1970: 1_764_000_000),
            message: .assistant("reply to \(request.messages.last?.content ?? "")"), stopReason: request.maxTokens == 1 ? .length : .stop,
            usage: Usage(promptTokens: 5, completionTokens: 3), timings: OllamaTimings(totalDuration: 1000))
    }

    func chatStream(_ request: ChatRequest) -> ChatStream { fatalError("batches do not stream") }

    func embed(_ request: EmbedRequest) async throws -> EmbedResponse {
        try check(request.model)
        return EmbedResponse(model: request.model, embeddings: request.input.map { [Double($0.count), 0.25] }, promptTokens: request.input.count)
    }

    private func check(_ model: String) throws {
        if model == "missing" { throw ModelError.modelNotInstalled(model: model, detail: "model '\(model)' not found") }
        if model == "busy" { throw ModelError.serverError(status: 503, message: "server busy", midStream: false) }
    }
}

extension TestSpool {
    /// Drops `NAME.jsonl` and claims it.
    func claimBatch(_ name: String, _ text: String) throws -> BatchClaim {
        try drop("\(name).jsonl", text)
        guard case .claimed(let claim) = try spool.claimBatch("\(name).jsonl", workerID: "test:1") else {
            throw SpoolError("claim", name)
        }
        return claim
    }

    /// Opens a claimed batch that must be valid.
    func open(_ claim: BatchClaim, sync: BatchSyncPolicy = .init()) throws -> BatchRun {
        switch try BatchRun.open(claim, spool: spool, workerID: "test:1", sync: sync) {
        case .running(let run): return run
        case .failed(_, let failure): throw SpoolError("open: \(failure.message)", claim.id)
        }
    }

    /// Runs every line of `run` on `provider`, `max` at a time, then commits.
    func runAll(_ run: BatchRun, provider: any ModelProvider = StubProvider(), max: Int = 3, commit: Bool = true) async throws {
        while true {
            let lines = try run.nextLines(max: max)
            if lines.isEmpty { break }
            for line in lines {
                let result: BatchLineResult
                do { result = try await runLine(line, provider: provider) } catch { result = .failure(error) }
                try run.record(line, result, host: "http://h1:11434")
            }
        }
        #expect(run.isFinished)
        if commit { try run.commit() }
    }

}
