//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc
import Logging
import ServiceLifecycle
import Synchronization

/// Writes ``SpoolMetrics/exposition()`` to a file for node_exporter's textfile collector
/// (`--metrics-file PATH`), every `interval` and on demand.
///
/// The file is replaced atomically: written to `.NAME.tmp` in the same folder (a name the collector,
/// which reads only `*.prom`, skips), then renamed over `NAME`. Mode 0644 whatever the umask, so
/// the collector's user can read it. No fsync: a file lost in a crash is rewritten within `interval`.
package final class MetricsFileWriter: Service, Sendable {
    package let path: String
    package let interval: Duration
    private let metrics: SpoolMetrics
    private let logger: Logger
    /// Serialises writers (the periodic loop and ``write()`` from elsewhere share the temporary name).
    private let writing = Mutex(0)

    package init(path: String, metrics: SpoolMetrics, interval: Duration = .seconds(10),
                logger: Logger = Logger(label: "vibes-spool.metrics")) {
        self.path = path
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
    }

    /// The temporary file beside ``path``.
    var temporaryPath: String {
        let folder = FileSystem.directoryName(path)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return (path.contains("/") ? folder + "/" : "") + ".\(name).tmp"
    }

    /// Writes the file now.
    /// - Throws: ``SpoolError`` naming the path if it cannot be written or renamed.
    package func write() throws {
        let text = metrics.exposition()
        try writing.withLock { count in
            let tmp = temporaryPath
            guard let fd = try FileSystem.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o644) else {
                throw SpoolError("create", tmp, errno: ENOENT)
            }
            do {
                _ = fchmod(fd, 0o644)
                try FileSystem.writeAll(fd, text, path: tmp)
                close(fd)
            } catch {
                close(fd)
                try? FileSystem.remove(tmp)
                throw error
            }
            guard rename(tmp, path) == 0 else {
                let error = SpoolError("rename to \(path)", tmp)
                try? FileSystem.remove(tmp)
                throw error
            }
            count += 1
        }
    }

    /// How many times the file was written (for tests).
    var writes: Int { writing.withLock { $0 } }

    /// Writes the file at once, then every `interval` until the task is cancelled or a graceful
    /// shutdown begins, then one last time.
    ///
    /// - Throws: The first write's error (a bad `--metrics-file` is a startup error). Later
    ///   failures (the folder went away) are logged and retried at the next interval.
    package func run() async throws {
        try write()
        let interval = self.interval
        await cancelWhenGracefulShutdown {
            while (try? await Task.sleep(for: interval)) != nil {
                self.writeLogged()
            }
        }
        writeLogged()
    }

    private func writeLogged() {
        do {
            try write()
        } catch {
            logger.warning("cannot write the metrics file: \(error)")
        }
    }
}
