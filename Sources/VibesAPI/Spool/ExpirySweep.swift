//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import NIOPosix
import ServiceLifecycle

/// Looks at every batch that has not ended every `interval`, so a batch past its completion
/// window is cancelled (reason `expired`) even when no client asks about it.
struct ExpirySweep: Service {
    let service: APIService
    var interval: Duration = .seconds(10)

    func run() async throws {
        var ended: Set<String> = []
        while !Task.isShuttingDownGracefully {
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
            let service = self.service
            let known = ended
            let newlyEnded = try? await NIOThreadPool.singleton.runIfActive {
                try service.store.batchIDs().filter { !known.contains($0) }.filter { (try? service.batch(id: $0))??.status.isFinal == true }
            }
            ended.formUnion(newlyEnded ?? [])
        }
    }
}
