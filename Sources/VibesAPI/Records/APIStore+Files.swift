//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc
import VibesSpool

/// Uploaded files: look-up, listing, deletion, and a batch's output and errors files.
extension APIStore {
    /// The record of an uploaded file.
    package func fileRecord(hex: String) -> APIFileRecord? {
        Self.decode(APIFileRecord.self, at: recordPath(upload: hex))
    }

    /// The ids of uploaded files, newest first.
    package func fileIDs() throws -> [String] {
        try ids(in: files, prefix: "file-")
    }

    /// Where an uploaded file's content is.
    package func content(upload hex: String) -> String { contentPath(upload: hex) }

    /// Deletes an uploaded file: its record first (so it is gone for readers at once), then its
    /// content. Returns whether there was one.
    package func deleteFile(hex: String) throws -> Bool {
        let record = recordPath(upload: hex)
        guard FileSystem.exists(record) else { return false }
        try FileSystem.remove(record)
        try FileSystem.fsyncDirectory(files)
        try FileSystem.remove(contentPath(upload: hex))
        return true
    }

    /// A batch's output (`errors: false`) or errors file in the spool: `done/` once it has
    /// finished, else `active/` while it runs; `nil` when there is none.
    package func batchResultPath(spoolID: String, errors: Bool) -> String? {
        for folder in [spool.done, spool.active] {
            let files = BatchFiles(folder: folder, id: spoolID)
            let path = errors ? files.errors : files.output
            if FileSystem.exists(path) { return path }
        }
        return nil
    }

    /// A file's size and modification time (Unix seconds), or `nil` when it is not there.
    func fileInfo(_ path: String) -> (size: Int64, modified: Int64)? {
        guard let info = try? FileSystem.lstatPath(path) else { return nil }
        return (Int64(info.st_size), Int64(FileSystem.seconds(info.st_mtim)))
    }
}
