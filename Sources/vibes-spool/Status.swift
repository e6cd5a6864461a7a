//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Glibc
import VibesSpool

extension VibesSpoolCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Counts per folder, running jobs with their reply bytes and age, and the pause if any.",
            discussion: """
                --watch redraws every second until Ctrl-C. Its tok/s is an estimate: the reply's bytes per \
                second since the last redraw, divided by \(Int(StatusView.bytesPerToken)).
                """)

        @OptionGroup var spool: SpoolOption

        @Flag(help: "Print JSON.")
        var json = false

        @Flag(help: "Redraw every second (on a terminal; else print a block each second) until interrupted.")
        var watch = false

        func validate() throws {
            if watch && json { throw ValidationError("--watch and --json cannot be combined (--json prints once)") }
        }

        func run() async throws {
            let directory = spool.directory
            guard FileManager.default.fileExists(atPath: directory.incoming) else {
                printError("vibes-spool: \(directory.root) is not a spool (no incoming/); `vibes-spool run` creates one")
                exitProcess(1)
            }
            if watch { try await StatusWatch(directory: directory).run() }
            let status = try SpoolStatus.read(directory)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
            } else {
                print(status.text)
            }
        }
    }

    struct Requeue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move failed jobs' requests back into incoming/ (the attempt count starts again).")

        @OptionGroup var spool: SpoolOption

        @Flag(name: .customLong("all-failed"), help: "Requeue every failed job.")
        var allFailed = false

        @Argument(help: "Ids of failed jobs.")
        var ids: [String] = []

        func validate() throws {
            guard allFailed != !ids.isEmpty else { throw ValidationError("give job ids or --all-failed (not both)") }
        }

        func run() async throws {
            let directory = spool.directory
            do {
                let requeued = try directory.requeue(ids: allFailed ? directory.failedIDs() : ids)
                for id in requeued { print(id) }
            } catch {
                printError("vibes-spool: \(error)")
                exitProcess(1)
            }
        }
    }
}
