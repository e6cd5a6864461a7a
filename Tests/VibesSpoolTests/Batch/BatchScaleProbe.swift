//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// A 50 000-line batch through validation, BatchRun and commit, with a provider that needs no
/// network, printing lines/s and the process's resident memory along the way. Runs only with
/// `VIBES_BATCH_PROBE=1` (it takes a while in a debug build); it measures, it asserts no times.
@Suite struct BatchScaleProbe {
    static var enabled: Bool { ProcessInfo.processInfo.environment["VIBES_BATCH_PROBE"] == "1" }

    static func residentKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    @Test(.enabled(if: enabled)) func fiftyThousandLines() async throws {
        let test = try TestSpool()
        defer { test.cleanUp() }
        let count = 50_000
        var text = ""
        text.reserveCapacity(count * 120)
        for index in 0..<count {
            text += #"{"custom_id":"req-\#(index)","method":"POST","url":"/v1/chat/completions","body":{"model":"m","max_tokens":8,"messages":[{"role":"user","content":"line \#(index)"}]}}"# + "\n"
        }
        let claim = try test.claimBatch("big", text)
        text = ""
        let clock = ContinuousClock()
        let rssStart = Self.residentKiB()
        var run: BatchRun!
        let validation = try clock.measure { run = try test.open(claim) }
        var samples: [String] = ["start \(rssStart) KiB"]
        var done = 0
        let running = try await clock.measure {
            while true {
                let lines = try run.nextLines(max: 8)
                if lines.isEmpty { break }
                for line in lines {
                    try run.record(line, try await runLine(line, provider: StubProvider()), host: "http://h1:11434")
                    done += 1
                    if done % 10_000 == 0 { samples.append("\(done): \(Self.residentKiB()) KiB") }
                }
                try run.tick()
            }
            try run.commit()
        }
        let seconds = Double(running.components.seconds) + Double(running.components.attoseconds) / 1e18
        print("batch probe: validation \(validation), run \(running) (\(Int(Double(count) / seconds)) lines/s), RSS \(samples.joined(separator: ", "))")
        #expect(test.jsonLines("\(test.spool.done)/big.output.jsonl").count == count)
    }
}
