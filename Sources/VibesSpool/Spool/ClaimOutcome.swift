//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc

/// How an attempt to claim a file in `incoming/` ended: the one outcome of every claim, a
/// request's (``SpoolDirectory/claim(_:workerID:)``, and with its read
/// ``SpoolDirectory/claimAndRead(_:workerID:limit:now:)``) or a batch's
/// (``SpoolDirectory/claimBatch(_:workerID:)``), and of their first step, the lock.
public enum ClaimOutcome<Held> {
    /// This process holds it: renamed into `active/` and locked (after the first step: open and
    /// locked, still in `incoming/`).
    case claimed(Held)
    /// Gone, changed under us, or locked by another worker: normal and silent.
    case lost
    /// Not a regular file: moved into `failed/` as it was, never opened; `id` is its name there.
    case rejected(id: String, reason: String)

    /// The same outcome, with what a claim holds turned into `T` (`transform` runs only on a claim).
    func map<T>(_ transform: (Held) throws -> T) rethrows -> ClaimOutcome<T> {
        switch self {
        case .claimed(let held): .claimed(try transform(held))
        case .lost: .lost
        case .rejected(let id, let reason): .rejected(id: id, reason: reason)
        }
    }
}

extension ClaimOutcome: Sendable where Held: Sendable {}

/// A file in `incoming/` opened and locked by the first step of a claim (the caller owns `fd`).
struct LockedFile {
    let fd: Int32
    let info: stat
}

extension SpoolDirectory {
    /// The first step of every claim (a request's or a batch's): opens `path` without following
    /// links, checks it is a regular file, and locks it. What is not a regular file is handed
    /// to `reject` (with what it is) to be moved into `failed/`, never opened.
    func lockForClaim(
        _ path: RawPath, reject: (_ kind: String) throws -> (id: String, reason: String)?
    ) throws -> ClaimOutcome<LockedFile> {
        func rejected(_ kind: String) throws -> ClaimOutcome<LockedFile> {
            guard let (id, reason) = try reject(kind) else { return .lost }
            return .rejected(id: id, reason: reason)
        }
        guard let info = try FileSystem.lstatPath(path) else { return .lost }
        guard FileSystem.isRegular(info) else { return try rejected(FileSystem.kind(info)) }
        let fd: Int32
        do {
            guard let opened = try FileSystem.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY) else { return .lost }
            fd = opened
        } catch let error as SpoolError where error.errno == ELOOP {
            // Replaced by a symlink since the lstat.
            return try rejected("a symbolic link")
        }
        do {
            let opened = try FileSystem.fstatFD(fd, path: "\(path)")
            guard FileSystem.isRegular(opened), try FileSystem.tryLock(fd, path: "\(path)") else {
                close(fd)
                return .lost
            }
            return .claimed(LockedFile(fd: fd, info: opened))
        } catch {
            close(fd)
            throw error
        }
    }

    /// Moves what is not a regular file (a symlink, FIFO, device or directory) from `incoming/`
    /// into `failed/` as it is, never opened, as `ID<suffix>` with an error envelope. Returns the
    /// id and the reason, or `nil` when it was gone.
    func moveNonRegular(
        _ source: RawPath, shownAs name: String, kind: String, suffix: String, freeID: () -> String, workerID: String
    ) throws -> (id: String, reason: String)? {
        while true {
            let id = freeID()
            switch try move(source, RawPath("\(failed)/\(id)\(suffix)")) {
            case .sourceMissing: return nil
            case .targetExists: continue
            case .renamed:
                let reason = "incoming/\(name) is \(kind), not a regular file; it was moved here as it was, without being opened or followed"
                let failure = JobFailure(kind: .invalidRequest, message: "Invalid request: \(reason)")
                try writeErrorEnvelope(id: id, model: nil, failure: failure, attempts: 0, partialBytes: 0, workerID: workerID, metadata: nil)
                try FileSystem.fsyncDirectory(failed)
                try FileSystem.fsyncDirectory(incoming)
                return (id, reason)
            }
        }
    }
}
