//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc

/// The file operations of a running batch: the progress file, the appended files, the resume scan.
extension BatchRun {
    /// Replaces `ID.batch.json` atomically: a temporary file, locked (`flock`) before it is
    /// renamed over the old one, so the name always shows a locked file while the batch runs.
    /// Not fsynced: it is the running count; the copy in `done/` is the commit record and is.
    /// - Returns: The new file's descriptor, holding the lock; close it once it is replaced.
    static func writeProgress(_ progress: BatchProgress, to files: BatchFiles) throws -> Int32 {
        let tmp = "\(files.folder)/.\(files.id).batch.json.tmp"
        guard let fd = try FileSystem.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o664) else {
            throw SpoolError("create", tmp, errno: ENOENT)
        }
        do {
            _ = try FileSystem.tryLock(fd, path: tmp)
            try FileSystem.writeAll(fd, progress.json, path: tmp)
            guard rename(tmp, files.progress) == 0 else { throw SpoolError("rename to \(files.progress)", tmp) }
            return fd
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    static func openAppending(_ path: String) throws -> Int32 {
        guard let fd = try FileSystem.open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW, mode: 0o664) else {
            throw SpoolError("create", path, errno: ENOENT)
        }
        return fd
    }

    /// Reads what an output or errors file holds and cuts off a torn last line.
    static func resume(_ fd: Int32, path: String) throws -> BatchResumeScan {
        let scan = try BatchResumeScan.scan(fd: fd, path: path)
        let size = Int64(try FileSystem.fstatFD(fd, path: path).st_size)
        if scan.validLength < size {
            guard ftruncate(fd, off_t(scan.validLength)) == 0 else { throw SpoolError("ftruncate", path) }
            try FileSystem.fsyncFD(fd, path: path)
        }
        return scan
    }
}
