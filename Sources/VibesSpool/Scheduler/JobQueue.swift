//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// The waiting jobs, grouped by priority, then by load key (model and reload options), each
/// group oldest first. Picking looks at the head of each group only, so it costs the number of
/// groups (models × priorities in use), not the number of jobs.
///
/// Removal is lazy: a group's head that is no longer waiting (claimed elsewhere, started) is
/// skipped by the `isWaiting` test the caller passes in.
struct JobQueue {
    struct Item: Equatable {
        var queuedAt: ContinuousClock.Instant
        var token: WorkID
    }

    /// One load key's jobs, oldest first from `head`.
    struct Group {
        var items: [Item] = []
        var head = 0

        mutating func insert(_ item: Item) {
            if let last = items.last, (last.queuedAt, last.token) > (item.queuedAt, item.token) {
                var low = head
                var high = items.count
                while low < high {
                    let mid = (low + high) / 2
                    if (items[mid].queuedAt, items[mid].token) < (item.queuedAt, item.token) { low = mid + 1 } else { high = mid }
                }
                items.insert(item, at: low)
            } else {
                items.append(item)
            }
        }

        /// Drops heads that fail `isWaiting`; returns the first that passes.
        mutating func first(_ isWaiting: (WorkID) -> Bool) -> Item? {
            while head < items.count {
                if isWaiting(items[head].token) { return items[head] }
                head += 1
            }
            compact()
            return nil
        }

        mutating func popFirst() {
            head += 1
            compact()
        }

        private mutating func compact() {
            if head == items.count {
                items.removeAll(keepingCapacity: items.count < 4096)
                head = 0
            } else if head > 1024 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
        }

        var isEmpty: Bool { head >= items.count }
    }

    /// priority → load key → group.
    private(set) var levels: [Int: [String: Group]] = [:]

    mutating func insert(token: WorkID, priority: Int, loadKey: String, queuedAt: ContinuousClock.Instant) {
        levels[priority, default: [:]][loadKey, default: Group()].insert(Item(queuedAt: queuedAt, token: token))
    }

    /// Priorities in use, highest first.
    var priorities: [Int] { levels.keys.sorted(by: >) }

    /// The oldest waiting job of each group at `priority` whose load key passes `filter`.
    mutating func heads(priority: Int, where filter: (String) -> Bool, isWaiting: (WorkID) -> Bool) -> [(loadKey: String, item: Item)] {
        guard let groups = levels[priority] else { return [] }
        var result: [(String, Item)] = []
        var emptied: [String] = []
        for key in groups.keys where filter(key) {
            if let item = levels[priority]![key]!.first(isWaiting) {
                result.append((key, item))
            } else {
                emptied.append(key)
            }
        }
        for key in emptied { levels[priority]![key] = nil }
        if levels[priority]!.isEmpty { levels[priority] = nil }
        return result
    }

    /// Removes the head of a group (the item just picked).
    mutating func pop(priority: Int, loadKey: String) {
        levels[priority]?[loadKey]?.popFirst()
    }

    /// One group's items from its head, oldest first (waiting or not: check them).
    func items(priority: Int, loadKey: String) -> ArraySlice<Item> {
        guard let group = levels[priority]?[loadKey] else { return [] }
        return group.items[group.head...]
    }

    /// Whether a load key with waiting jobs, at any priority, passes `filter`.
    func containsKey(where filter: (String) -> Bool) -> Bool {
        levels.values.contains { $0.keys.contains(where: filter) }
    }

    /// Every token in groups whose load key passes `filter` (waiting or not: check them).
    func tokens(where filter: (String) -> Bool) -> [WorkID] {
        levels.values.flatMap { groups in
            groups.filter { filter($0.key) }.flatMap { $0.value.items[$0.value.head...].map(\.token) }
        }
    }
}
