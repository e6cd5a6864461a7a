//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// A folder's names as last listed, to tell which names of the next listing are new. On a
/// shared file system, a file another machine drops comes without an inotify event here: the
/// worker lists the folder every poll interval and feeds only the new names onwards (one
/// `readdir` a poll, no `stat` or read of the names it has seen).
struct FolderListing: Sendable, Equatable {
    /// The names of the last listing (dot names left out: the spool ignores them).
    private(set) var known: Set<String>

    init(known: some Sequence<String> = [String]()) {
        self.known = Set(known.filter { !$0.hasPrefix(".") })
    }

    /// The names in `listing` that were not in the last one, in the listing's order; `listing`
    /// becomes the last one (so a name that went and came back is new again).
    mutating func newNames(in listing: [String]) -> [String] {
        var seen = Set<String>(minimumCapacity: listing.count)
        var new: [String] = []
        for name in listing where !name.hasPrefix(".") && seen.insert(name).inserted {
            if !known.contains(name) { new.append(name) }
        }
        known = seen
        return new
    }

    /// Names known by other ways (inotify, a scan): not new to the next listing.
    mutating func saw(_ names: some Sequence<String>) {
        for name in names where !name.hasPrefix(".") { known.insert(name) }
    }

    /// Forgets one name: if the next listing still has it, it is new again. For a claim this
    /// worker lost: the winner may put the job back before the next listing.
    mutating func forget(_ name: String) {
        known.remove(name)
    }
}
