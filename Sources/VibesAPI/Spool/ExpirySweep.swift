//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import NIOPosix
import ServiceLifecycle

/// Every `interval`, looks at the batches past their `expires_at` that have not been looked at
/// since, so such a batch is cancelled (reason `expired`) even when no client asks about it.
/// A batch's `expires_at` never changes: it is read from its record once and kept, so a sweep
/// costs a directory listing, not a read of every record.
struct ExpirySweep: Service {
    let service: APIService
    var interval: Duration = .seconds(10)

    func run() async throws {
        var expiresAt: [String: Int64] = [:]
        var settled: Set<String> = []
        while !Task.isShuttingDownGracefully {
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
            let service = self.service
            let (known, done) = (expiresAt, settled)
            let sweep = try? await NIOThreadPool.singleton.runIfActive { () -> ([String: Int64], Set<String>) in
                var learnt: [String: Int64] = [:]
                var expired: Set<String> = []
                let now = service.now()
                for id in try service.store.batchIDs() where !done.contains(id) {
                    guard let time = known[id] ?? service.store.batchRecord(id: id)?.expiresAt else { continue }
                    learnt[id] = time
                    // Past its window: `batch(id:)` asks for the cancel (once) and it is not looked at again.
                    if now >= time, (try? service.batch(id: id)) != nil { expired.insert(id) }
                }
                return (learnt, expired)
            }
            expiresAt = sweep?.0 ?? expiresAt
            settled.formUnion(sweep?.1 ?? [])
        }
    }
}
