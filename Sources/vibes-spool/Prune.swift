//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import VibesSpool

extension VibesSpoolCommand {
    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove finished jobs and batches older than a duration from done/ and failed/.",
            discussion: """
                A job or batch goes whole, its envelope (or ID.batch.json) first, when that envelope is older \
                than --older-than (30d, 12h, 90m, 45s). incoming/, active/ and cancel/ are never touched; it is \
                safe while workers run. Prints each job or batch removed (or, with --dry-run, that would be) \
                and the space freed.
                """)

        @OptionGroup var spool: SpoolOption

        @Option(name: .customLong("older-than"), help: "Age of the envelope: 30d, 12h, 90m, 1h30m, 2w, or seconds.")
        var olderThan: String

        @Flag(name: .customLong("dry-run"), help: "Only print what would be removed.")
        var dryRun = false

        func validate() throws {
            if PrunePlan.seconds(olderThan) == nil {
                throw ValidationError("--older-than wants a duration such as 30d, 12h, 90m or 45s, not '\(olderThan)'")
            }
        }

        func run() async throws {
            let directory = spool.directory
            guard FileManager.default.fileExists(atPath: directory.done) else {
                printError("vibes-spool: \(directory.root) is not a spool (no done/)")
                exitProcess(1)
            }
            let results = try directory.prune(olderThan: PrunePlan.seconds(olderThan)!, now: Date().timeIntervalSince1970, dryRun: dryRun)
            let verb = dryRun ? "would remove" : "removed"
            var (files, bytes) = (0, Int64(0))
            for result in results {
                let size = result.removed.reduce(Int64(0)) { $0 + $1.size }
                files += result.removed.count
                bytes += size
                print("\(verb) \(result.entry.folder)/\(result.entry.id) (\(result.removed.count) file(s), \(StatusView.formatBytes(size)))")
                for kept in result.kept { print("  kept \(result.entry.folder)/\(kept.name): \(kept.reason)") }
            }
            let freed = dryRun ? "would free" : "freed"
            print("\(verb) \(results.count) job(s) and batch(es), \(files) file(s); \(freed) \(StatusView.formatBytes(bytes)) (\(bytes) bytes)")
        }
    }
}
