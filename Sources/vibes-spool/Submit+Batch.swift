//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import ArgumentParser
import Glibc
import VibesSpool

extension VibesSpoolCommand.Submit {
    /// `submit FILE.jsonl [--wait]`: the batch's id on stdout; with `--wait`, progress on stderr
    /// (a bar on a terminal, a line per change otherwise), then the output file's path on stdout;
    /// exit 0 when every line completed, 1 when any failed or the file failed as a whole.
    func submitBatch(_ path: String) async throws -> Never {
        guard model == nil, system == nil, options.isEmpty, priority == nil else {
            throw ValidationError("--model, --system, --option and --priority do not apply to a batch file (each line has its own body)")
        }
        let directory = spool.directory
        let id: String
        do {
            id = try directory.submitBatch(from: path, preferredID: self.id)
        } catch {
            printError("vibes-spool: \(error)")
            exitProcess(1)
        }
        guard wait else {
            print(id)
            exitProcess(0)
        }
        printError(id)
        let terminal = isatty(2) == 1
        let result = try await directory.waitBatch(id: id) { counts in
            let settled = counts.completed + counts.failed
            if terminal {
                let width = 30
                let filled = counts.total > 0 ? settled * width / counts.total : 0
                let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
                writeOut(Array("\r[\(bar)] \(settled)/\(counts.total) lines, \(counts.failed) failed \u{1B}[K".utf8), to: 2)
            } else {
                printError("\(id): \(settled)/\(counts.total) lines, \(counts.failed) failed")
            }
        }
        if terminal { writeOut(Array("\n".utf8), to: 2) }
        switch result {
        case .completed(let counts, let outputPath):
            print(outputPath)
            exitProcess(counts.failed > 0 ? 1 : 0)
        case .failed(let message):
            printError(message)
            exitProcess(1)
        }
    }
}
