//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import CInotifyTools
import Glibc
import Synchronization

/// Watches a directory (and, optionally, a second one for cancel requests) with libinotifytools on a dedicated thread (never on the Swift
/// concurrency pool) and reports names as they are renamed in or closed after writing, and
/// entries that are complete when created: a hard link to a written file (`st_nlink > 1`, as
/// Maildir delivers with `link(2)`), a symlink, FIFO, device or directory. A regular file
/// created in place is reported when it is closed after writing.
///
/// libinotifytools keeps global state and is not thread-safe: one watcher per process.
final class InotifyWatcher: Sendable {
    enum Event: Sendable {
        /// A name in the directory, as ``FileName/escaped`` (any bytes).
        case file(String)
        /// A name in the second directory (`cancel/`): renamed in, closed after writing, or
        /// created as anything but a regular file (a regular file is reported when closed).
        case cancel(String)
        /// The kernel queue overflowed (`IN_Q_OVERFLOW`, `wd == -1`): events were lost, rescan.
        case overflow
    }

    struct Error: Swift.Error, CustomStringConvertible {
        var description: String
    }

    /// For tests: called on the watcher's thread before each read, and may hold it there, so
    /// that the kernel's queue fills up and overflows as it would under a flood of files.
    package static let beforeRead = Mutex<(@Sendable () -> Void)?>(nil)

    private static let inUse = Mutex(false)
    private let stopping = Mutex(false)
    private let finished = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let exited = Mutex(false)
    private let directory: String
    private let cancelDirectory: String?

    /// Starts watching `directory` (and `cancelDirectory`); the watches are in place when this
    /// returns.
    init(directory: String, cancelDirectory: String? = nil, onEvent: @escaping @Sendable (Event) -> Void) throws {
        self.directory = directory
        self.cancelDirectory = cancelDirectory
        try Self.inUse.withLock { inUse in
            guard !inUse else { throw Error(description: "only one inotify watcher per process (libinotifytools is global)") }
            inUse = true
        }
        guard inotifytools_initialize() != 0 else {
            Self.inUse.withLock { $0 = false }
            throw Error(description: "inotify: cannot initialize (\(String(cString: strerror(inotifytools_error()))))")
        }
        guard inotifytools_watch_file(directory, Int32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE)) != 0 else {
            let reason = String(cString: strerror(inotifytools_error()))
            inotifytools_cleanup()
            Self.inUse.withLock { $0 = false }
            throw Error(description: "inotify: cannot watch \(directory) (\(reason))")
        }
        var cancelWD: Int32 = -2
        if let cancelDirectory {
            guard inotifytools_watch_file(cancelDirectory, Int32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE)) != 0 else {
                let reason = String(cString: strerror(inotifytools_error()))
                inotifytools_cleanup()
                Self.inUse.withLock { $0 = false }
                throw Error(description: "inotify: cannot watch \(cancelDirectory) (\(reason))")
            }
            // The library keeps a directory's name with a trailing slash.
            cancelWD = inotifytools_wd_from_filename(cancelDirectory + "/")
            if cancelWD < 0 { cancelWD = inotifytools_wd_from_filename(cancelDirectory) }
        }
        try Self.startThread { [self, cancelWD] in self.loop(cancelWD: cancelWD, onEvent) }
    }

    private func loop(cancelWD: Int32, _ onEvent: @Sendable (Event) -> Void) {
        while !stopping.withLock({ $0 }) {
            if let hold = Self.beforeRead.withLock({ $0 }) { hold() }
            // A positive timeout: next_event(0) blocks forever in 3.22.6.
            guard let event = inotifytools_next_event(1) else { continue }
            if event.pointee.wd == -1 || event.pointee.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                onEvent(.overflow)
                continue
            }
            guard event.pointee.len > 0 else { continue }
            // The event lives in the library's static buffer: copy the name out now, as bytes.
            guard let cName = vibes_inotify_event_name(event) else { continue }
            let name = FileName(bytes: Array(UnsafeRawBufferPointer(start: cName, count: strlen(cName))))
            guard !name.bytes.isEmpty else { continue }
            if event.pointee.wd == cancelWD, let cancelDirectory {
                if event.pointee.mask & UInt32(IN_CREATE) != 0,
                    let info = try? FileSystem.lstatPath(RawPath(cancelDirectory, name)), FileSystem.isRegular(info)
                { continue }
                onEvent(.cancel(name.escaped))
                continue
            }
            if event.pointee.mask & UInt32(IN_CREATE) != 0 && !Self.isCompleteWhenCreated(directory: directory, name) { continue }
            onEvent(.file(name.escaped))
        }
        inotifytools_cleanup()
        Self.inUse.withLock { $0 = false }
        let continuation = finished.withLock { state -> CheckedContinuation<Void, Never>? in
            exited.withLock { $0 = true }
            return state
        }
        continuation?.resume()
    }

    /// Whether an entry just created in the directory is complete: anything but a regular file
    /// with a single link, which is being written and is reported when closed. Request names
    /// only: the rest is ignored by the worker anyway.
    static func isCompleteWhenCreated(directory: String, _ name: FileName) -> Bool {
        guard SpoolDirectory.isRequestName(name), let info = try? FileSystem.lstatPath(RawPath(directory, name)) else { return false }
        return !FileSystem.isRegular(info) || info.st_nlink > 1
    }

    /// Runs `body` on a new detached POSIX thread (Foundation's `Thread` is not in FoundationEssentials).
    private static func startThread(_ body: @escaping @Sendable () -> Void) throws {
        final class Box: Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw Error(description: "cannot start the inotify thread (\(String(cString: strerror(result))))")
        }
        pthread_detach(thread)
    }

    /// Stops the thread (within the library's one-second poll) and waits for it to end.
    func stop() async {
        stopping.withLock { $0 = true }
        // Wake the thread now rather than at its next poll: a dot file (ignored by scans)
        // closed after writing is an event.
        let wake = "\(directory)/.vibes-spool-wake-\(getpid())"
        if let fd = try? FileSystem.open(wake, O_WRONLY | O_CREAT | O_NOFOLLOW, mode: 0o600) {
            close(fd)
            try? FileSystem.remove(wake)
        }
        await withCheckedContinuation { continuation in
            let alreadyExited = finished.withLock { state -> Bool in
                if exited.withLock({ $0 }) { return true }
                state = continuation
                return false
            }
            if alreadyExited { continuation.resume() }
        }
    }
}
