//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc

/// The first step of every claim (a request's or a batch's): open the file in `incoming/`
/// without following links, check it is a regular file, and lock it.
enum ClaimOpen {
    /// Opened and locked: the descriptor (the caller owns it) and what it is.
    case locked(fd: Int32, info: stat)
    /// Gone, changed under us, or locked by another worker: normal and silent.
    case lost
    /// Not a regular file (`kind` says what): to be moved into `failed/` without being opened.
    case notRegular(kind: String)

    static func open(_ path: RawPath) throws -> ClaimOpen {
        guard let info = try FileSystem.lstatPath(path) else { return .lost }
        guard FileSystem.isRegular(info) else { return .notRegular(kind: FileSystem.kind(info)) }
        let fd: Int32
        do {
            guard let opened = try FileSystem.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY) else { return .lost }
            fd = opened
        } catch let error as SpoolError where error.errno == ELOOP {
            // Replaced by a symlink since the lstat.
            return .notRegular(kind: "a symbolic link")
        }
        do {
            let opened = try FileSystem.fstatFD(fd, path: "\(path)")
            guard FileSystem.isRegular(opened), try FileSystem.tryLock(fd, path: "\(path)") else {
                close(fd)
                return .lost
            }
            return .locked(fd: fd, info: opened)
        } catch {
            close(fd)
            throw error
        }
    }
}

extension SpoolDirectory {
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
