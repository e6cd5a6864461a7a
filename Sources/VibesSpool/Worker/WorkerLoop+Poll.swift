//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Polling, for spools on network and FUSE file systems: inotify sees only this machine's
/// changes, so every poll interval the worker lists the polled folders (one `readdir` each,
/// on the file-system threads) and feeds the names new since the last listing to the event
/// for names, as if inotify had reported them. Names inotify or a scan already reported are
/// not new.
extension WorkerLoop {
    typealias PolledFolder = (path: String, event: @Sendable ([String]) -> SpoolWorker.Event)

    /// The folders listed, each with the event its new names become.
    static func polledFolders(_ spool: SpoolDirectory) -> [PolledFolder] {
        [
            (spool.incoming, { .files($0) }),
            (spool.cancel, { .cancels($0) }),
        ]
    }

    /// Starts the listing task when the file system (or `--poll-interval`) asks for one;
    /// `seen`: the names in `incoming/` the first scan found.
    func startPolling(seen: [String], _ group: inout DiscardingTaskGroup) {
        guard !configuration.once else { return }
        let spool = configuration.spool
        let kind = io.kind
        guard let period = configuration.pollPeriod(on: kind) else { return }
        let folders = Self.polledFolders(spool).map(\.path)
        for path in folders { state.listings[path] = FolderListing() }
        state.listings[spool.incoming] = FolderListing(known: seen)
        let names = folders.map { "\($0.split(separator: "/").last ?? "")/" }.joined(separator: " and ")
        logger.info("the spool is on a \(kind?.name ?? "unknown") file system: listing \(names) every \(period) for files dropped on other machines")
        let (io, worker) = (self.io, self.worker)
        group.addTask {
            while (try? await Task.sleep(for: period)) != nil {
                // One listing at a time: a slow file system delays the next, never piles them up.
                let listed = try? await io.run {
                    folders.map { path in (path: path, names: (try? FileSystem.listNames(path).map(\.escaped)) ?? nil) }
                }
                if let listed { worker.send(.listed(listed)) }
            }
        }
    }

    /// A poll's listings: the new names of each folder go to its event. A folder that could
    /// not be listed (`nil`) keeps its last listing.
    func listed(_ listed: [(path: String, names: [String]?)], _ group: inout DiscardingTaskGroup) {
        let folders = Self.polledFolders(configuration.spool)
        for (path, names) in listed {
            guard let names, let new = state.listings[path]?.newNames(in: names), !new.isEmpty,
                let folder = folders.first(where: { $0.path == path })
            else { continue }
            handle(folder.event(new), &group)
        }
    }

    /// Names this worker knows of in `incoming/` by other ways (inotify, a scan): not new to
    /// the next listing.
    func sawQueued(_ names: [String]) {
        guard state.listings[configuration.spool.incoming] != nil else { return }
        state.listings[configuration.spool.incoming]?.saw(names)
    }

    /// A claim lost to another worker: if the name is still listed next time (put back by
    /// the winner), it is new again.
    func claimLost(_ name: String) {
        state.listings[configuration.spool.incoming]?.forget(name)
    }
}
