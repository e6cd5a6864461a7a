//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Embedding work sent as one request: when a slot takes an embedding job or line, the other
/// embedding work of the same model and settings waiting at that moment, at the same priority,
/// goes with it, oldest first, up to `embedGroup` inputs and `embedGroupBytes` bytes. Nothing
/// waits for a group to fill: it takes what is waiting when the slot frees. The group holds
/// one slot until its last member leaves it (its vectors are in, or its attempt failed).
extension Scheduler {
    /// How far past the first job a group looks in its queue (the jobs of one model with the
    /// same reload options, chats too): enough for a full group among other work, bounded so
    /// that a slot costs the same with a long queue.
    static let groupScan = 4

    /// The waiting work that joins `lead` (just picked) in one request, oldest first; empty
    /// when it is not embedding work, grouping is off, or nothing else fits.
    mutating func companions(of lead: WorkID) -> [WorkID] {
        guard options.embedGroup > 1, let job = jobs[lead], let shape = job.embed else { return [] }
        var (inputs, bytes) = (shape.inputs, shape.bytes)
        var taken: [WorkID] = []
        var looked = 0
        for item in queue.items(priority: job.priority, loadKey: job.loadKey) {
            guard item.token != lead, let other = jobs[item.token], other.state == .waiting else { continue }
            looked += 1
            if looked > Self.groupScan * options.embedGroup { break }
            guard let form = other.embed, form.key == shape.key else { continue }
            // The oldest first: the first that does not fit ends the group (none jumps it).
            guard inputs + form.inputs <= options.embedGroup, bytes + form.bytes <= options.embedGroupBytes else { break }
            inputs += form.inputs
            bytes += form.bytes
            taken.append(item.token)
            // Marked at once: the queue skips it from now on (its removal is lazy).
            jobs[item.token]!.state = .running(host: nil)
        }
        return taken
    }

    /// Starts `members` as one request on `host`: one slot, one action.
    mutating func startGroup(_ members: [WorkID], on host: Int, _ actions: inout [SchedulerAction]) {
        let group = members[0]
        groups[group] = Set(members)
        for token in members {
            groupOf[token] = group
            jobs[token]!.state = .running(host: host)
            hosts[host].generating.insert(token)
        }
        hosts[host].shared += members.count - 1
        hosts[host].loaded = Set(hosts[host].generating.compactMap { self.jobs[$0]?.loadKey })
        actions.append(.startGroup(members.map { GroupMember(token: $0, name: jobs[$0]!.claimed ? nil : jobs[$0]!.name) }, host: host))
    }

    /// A job leaves its host's slot; a group's slot frees when its last member leaves.
    mutating func release(_ token: WorkID, from host: Int) {
        guard hosts[host].generating.remove(token) != nil else { return }
        guard let group = groupOf.removeValue(forKey: token) else { return }
        groups[group]?.remove(token)
        if groups[group]?.isEmpty ?? true {
            groups[group] = nil
        } else {
            hosts[host].shared -= 1
        }
    }
}
