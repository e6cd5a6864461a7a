//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

extension SpoolWorkerTests {
    /// The connection closes right behind the last lines (no waiting for the worker to read
    /// them): every job's failed/ID.partial and `partial_bytes` still hold all 20 bytes sent.
    @Test func aBrokenStreamKeepsEveryByteSentBeforeTheCloseInThePartial() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let pieces = ["abcd", "efgh", "ijkl", "mnop", "qrst"]
        let handler = FakeOllama.ollamaLike(models: ["m"]) { _ in .chatThenClose(model: "m", thinking: ["hmm ", "so"], pieces: pieces) }
        let ids = (0..<60).map { "job\($0)" }
        try await withWorker(t, handler: handler, configure: { $0.retries = 0 }) { _, _ in
            for id in ids { try t.dropRequest(id, model: "m", prompt: "p", extra: #","id":"\#(id)""#) }
            await eventually("every job failed") { t.failedIDs.count == ids.count }
        }
        var lost: [String] = []
        for id in ids {
            let envelope = t.errorEnvelope(id)
            let partial = t.read("\(t.spool.failed)/\(id).partial")
            if envelope?["error"]?["kind"] != "stream_interrupted" || envelope?["partial_bytes"] != 20 || partial != pieces.joined() {
                lost.append("\(id): \(envelope?["partial_bytes"].map { "\($0)" } ?? "?") bytes, partial \(partial.debugDescription)")
            }
        }
        #expect(lost.isEmpty, "\(lost.count) of \(ids.count) jobs lost text: \(lost.prefix(5))")
    }
}
