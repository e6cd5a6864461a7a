//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import NIOCore

/// A SwiftNIO event loop as a Swift task executor: a task that prefers it
/// (`withTaskExecutorPreference`), and its child tasks, run on the loop's thread, beside the
/// connections the loop serves.
///
/// A task waiting for a reply read on that loop then resumes on the same thread: no wake-up of
/// another thread, no switch, per request. What such a task does must not block (file I/O goes
/// to a thread pool), or the loop's connections wait with it; and the loop must outlive the
/// tasks (a loop shut down drops what is enqueued on it: a `HTTPClient.defaultEventLoopGroup`'s
/// loop never is).
public final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
