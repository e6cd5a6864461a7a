//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc
import VibesModels

/// A settled line as it is appended: its result, and what it counts for. Its output or errors
/// line (``encoded()``) is encoded where the group is written, on the file-system threads, not
/// in the worker's loop (and only for lines not settled before).
package struct BatchRecord: Sendable {
    package let number: Int
    package let customID: String
    let url: BatchURL
    let reply: LineReply
    /// The base URL of the Ollama that ran the last attempt, if any.
    package let host: String?

    package init(_ line: BatchLine, _ result: BatchLineResult, host: String?) {
        self.init(line, reply: .result(result), host: host)
    }

    package init(_ line: BatchLine, reply: LineReply, host: String?) {
        number = line.number
        customID = line.customID
        url = line.url
        self.reply = reply
        self.host = host
    }

    /// `nil`: a failure, for the errors file.
    package var usage: Usage? { reply.usage }

    /// The whole line for the output file (a success) or the errors file, with its newline:
    /// built and encoded anew at each call (a chat's `chatcmpl-` id is drawn then).
    package func encoded() -> [UInt8] {
        switch reply.result {
        case .succeeded(let body, _): return BatchOutputLine.success(customID: customID, body: body)
        case .failed(let failure): return BatchOutputLine.failure(customID: customID, url: url, failure: failure)
        }
    }
}

extension BatchRun {
    /// Appends one settled line (see ``record(_:)``); `false` when its custom_id was settled already.
    @discardableResult
    package func record(_ line: BatchLine, _ result: BatchLineResult, host: String?) throws -> Bool {
        try record([BatchRecord(line, result, host: host)])[0]
    }

    /// Appends settled lines to the output and errors files: one `write(2)` per file for the
    /// whole group, and counts them; fsyncs when the sync window says so. A line whose custom_id
    /// is already settled is not written again (`false` in its place). Should a write fail (a
    /// full disk), the file is cut back to where it was, so no torn line stays between whole
    /// ones, and none of the group counts. Blocking file I/O.
    package func record(_ records: [BatchRecord]) throws -> [Bool] {
        try state.withLock { state in
            guard !state.closed else { throw SpoolError("write (the batch is closed)", files.output, errno: EBADF) }
            var written = [Bool](repeating: false, count: records.count)
            var (output, errors): ([UInt8], [UInt8]) = ([], [])
            var seen = Set<Int>()
            for (index, record) in records.enumerated() {
                let (word, bit) = (record.number / 64, UInt64(1) << UInt64(record.number % 64))
                if word >= state.recorded.count { state.recorded += Array(repeating: 0, count: word - state.recorded.count + 1) }
                guard state.recorded[word] & bit == 0, !state.settled.contains(record.customID), seen.insert(record.number).inserted
                else { continue }
                written[index] = true
                if record.usage != nil { output += record.encoded() } else { errors += record.encoded() }
            }
            try append([(output, outputFD, files.output), (errors, errorsFD, files.errors)])
            for (index, record) in records.enumerated() where written[index] {
                state.recorded[record.number / 64] |= UInt64(1) << UInt64(record.number % 64)
                if let usage = record.usage {
                    state.progress.completed += 1
                    state.progress.promptTokens += usage.promptTokens ?? 0
                    state.progress.completionTokens += usage.completionTokens ?? 0
                } else {
                    state.progress.failed += 1
                }
                if let host = record.host { state.progress.hostCounts[host, default: 0] += 1 }
                state.unsynced += 1
            }
            state.outstanding = Swift.max(0, state.outstanding - written.count { $0 })
            if state.unsynced >= sync.lines { try syncFiles(&state) }
            return written
        }
    }

    /// Appends each piece to its file whole, or cuts every file back to its length before.
    private func append(_ pieces: [(bytes: [UInt8], fd: Int32, path: String)]) throws {
        let pieces = pieces.filter { !$0.bytes.isEmpty }
        let before = try pieces.map { try FileSystem.fstatFD($0.fd, path: $0.path).st_size }
        do {
            for piece in pieces { try FileSystem.writeAll(piece.fd, piece.bytes, path: piece.path) }
        } catch {
            for (piece, length) in zip(pieces, before) { _ = ftruncate(piece.fd, length) }
            throw error
        }
    }
}
