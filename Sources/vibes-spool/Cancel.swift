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
    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel jobs or batches: queued ones at once, running ones through their worker.",
            discussion: """
                Writes cancel/ID for each id (what `touch spool/cancel/ID` does), cancels a job or batch still \
                in incoming/ itself, and waits up to --wait seconds for the worker holding a running one. \
                Prints per id: cancelled, already finished (done/ID…), or no such job. Exit 0 when every id \
                was cancelled, 1 otherwise.
                """)

        @OptionGroup var spool: SpoolOption

        @Flag(help: "Ask for the batch to stop as expired (its lines not run get batch_expired).")
        var expired = false

        @Option(help: "Seconds to wait for a worker to act on a running job or batch.")
        var wait: Double = 5

        @Argument(help: "Job or batch ids.")
        var ids: [String]

        func validate() throws {
            if ids.isEmpty { throw ValidationError("give at least one job or batch id") }
            if let bad = ids.first(where: { !SpoolDirectory.isCancelableID($0) }) {
                throw ValidationError("'\(bad)' is not a job id (no '/', not starting with '.', at most 255 bytes)")
            }
            if !(wait >= 0) { throw ValidationError("--wait must be a number of seconds, 0 or more") }
        }

        func run() async throws {
            let directory = spool.directory
            guard FileManager.default.fileExists(atPath: directory.incoming) else {
                printError("vibes-spool: \(directory.root) is not a spool (no incoming/); `vibes-spool run` creates one")
                exitProcess(1)
            }
            try directory.createLayout()
            let workerID = WorkerConfiguration.defaultWorkerID()
            var allCancelled = true
            let (ids, reason, wait) = (self.ids, expired ? CancelReason.expired : .cancelled, Duration.milliseconds(Int64(self.wait * 1000)))
            // Each id's wait runs at the same time: several running jobs take one wait, not one each.
            let reports = try await withThrowingTaskGroup(of: (Int, CancelReport).self) { group in
                for (index, id) in ids.enumerated() {
                    group.addTask {
                        (index, try await directory.requestCancel(id, reason: reason, workerID: workerID, wait: wait))
                    }
                }
                var reports = [CancelReport?](repeating: nil, count: ids.count)
                for try await (index, report) in group { reports[index] = report }
                return reports
            }
            for (id, report) in zip(ids, reports) {
                guard let report else { continue }
                print(report.text(id))
                if !report.succeeded { allCancelled = false }
            }
            exitProcess(allCancelled ? 0 : 1)
        }
    }
}
