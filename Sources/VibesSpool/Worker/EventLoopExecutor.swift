//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import NIOCore
import NIOPosix

/// Runs tasks on one NIO event loop. Given to ``SpoolWorker`` as the executor of its loop and
/// its attempts, with the same loop given to the providers for their connections: a job is
/// claimed, and its request written, on the thread that reads its reply, so that between
/// the inotify event and the request's first byte one thread is woken, not three.
package final class EventLoopExecutor: TaskExecutor {
    package let loop: any EventLoop

    /// One of the loops of NIO's shared group (the HTTP client's default group).
    package static func next() -> EventLoopExecutor {
        EventLoopExecutor(MultiThreadedEventLoopGroup.singleton.next())
    }

    package init(_ loop: any EventLoop) {
        self.loop = loop
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
