//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import SpoolTestSupport
import Testing
@testable import VibesSpool

/// `vibes-spool status --watch` as a process: blocks on a non-terminal, SIGINT exits 0.
@Suite struct StatusWatchProcessTests {
    @Test func watchWithJSONIsAUsageError() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        let result = try await runCLI(["status", "--spool", t.spool.root, "--watch", "--json"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--watch and --json cannot be combined"))
    }

    @Test func watchPrintsABlockEachSecondAndExitsZeroOnSIGINT() async throws {
        let t = try TestSpool()
        defer { t.cleanUp() }
        try t.dropRequest("waiting", prompt: "hi")
        let outPath = t.base + "/watch.out"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executablePath())
        process.arguments = ["status", "--spool", t.spool.root, "--watch"]
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle.nullDevice
        try process.run()
        let blocks = { (t.read(outPath) ?? "").components(separatedBy: "vibes-spool status  ").count - 1 }
        await eventually("two blocks") { blocks() >= 2 }
        kill(process.processIdentifier, SIGINT)
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning { process.terminate() }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        let out = t.read(outPath) ?? ""
        #expect(out.contains("queued 1  running 0"))
        #expect(!out.contains("\u{1B}["), "no terminal codes when stdout is a file")
    }
}
