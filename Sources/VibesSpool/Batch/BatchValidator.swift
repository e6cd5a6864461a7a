//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Glibc

/// The limits a batch file must keep (`--max-batch-lines`, `--max-batch-bytes`).
package struct BatchLimits: Sendable, Hashable {
    package var maxLines: Int
    /// The whole file's size; 200 MB (200 000 000 bytes) by default, as OpenAI's.
    package var maxBytes: Int64
    /// One line's size (a request file's limit, `--max-request-bytes`).
    package var maxLineBytes: Int

    package init(maxLines: Int = 50_000, maxBytes: Int64 = 200_000_000, maxLineBytes: Int = 16 << 20) {
        self.maxLines = maxLines
        self.maxBytes = maxBytes
        self.maxLineBytes = maxLineBytes
    }
}

/// Why a batch file fails as a whole. `message` names the lines at fault: the first few, and
/// how many there are.
package struct InvalidBatch: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    /// The numbers of the first lines at fault (at most ``BatchValidator/shownProblems``).
    package var lines: [Int]
    /// How many lines are at fault in all (0 for a limit or an empty file).
    package var count: Int

    package var description: String { message }
}

/// Checks a whole batch file before any line runs, reading it streaming.
///
/// Every line must be a JSON object with a string `custom_id` (unique in the file),
/// `"method": "POST"`, a supported `url` and an object `body`. Blank lines are refused like
/// any other line that is not a request (OpenAI's validator refuses them too); only the file's
/// final newline ends the last line without making another, and a last line without a newline
/// is accepted. An empty file is refused.
package enum BatchValidator {
    /// How many faulty lines a message names.
    package static let shownProblems = 5

    /// Validates the file open at `fd` (from its start, with `pread`: the descriptor's offset is
    /// untouched).
    /// - Returns: The number of request lines, or why the file fails.
    /// - Throws: ``SpoolError`` when the file cannot be read.
    package static func validate(fd: Int32, path: String, limits: BatchLimits = .init()) throws -> Result<Int, InvalidBatch> {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SpoolError("fstat", path) }
        if Int64(info.st_size) > limits.maxBytes {
            return .failure(InvalidBatch(
                message: "the batch file is \(info.st_size) bytes, over the limit of \(limits.maxBytes) bytes (--max-batch-bytes). Nothing was run.",
                lines: [], count: 0))
        }
        var reader = LineReader(fd: fd, path: path, maxLineBytes: limits.maxLineBytes)
        // Each custom_id's hash and its first line (12 bytes a line, where the custom_ids
        // themselves would take 24 or more): a batch's peak memory is this pass. A repeated hash
        // is checked against the first line's custom_id, read again, for the lines a message
        // names; different custom_ids with one hash go to `collided`.
        var firstLineOf: [Int: Int32] = [:]
        var collided: [String: Int] = [:]
        var problems: [(line: Int, message: String)] = []
        var faulty = 0
        var lines = 0
        while let line = try reader.next() {
            lines += 1
            if lines > limits.maxLines {
                return .failure(InvalidBatch(
                    message: "the batch file has more than \(limits.maxLines) lines, the limit (--max-batch-lines). Nothing was run.",
                    lines: [], count: 0))
            }
            let problem: String?
            switch line {
            case .tooLong:
                problem = "over \(limits.maxLineBytes) bytes, the limit for one request"
            case .line(let number, let bytes, _):
                switch Result(catching: { () throws(BatchLineProblem) in try BatchLine.check(bytes).customID }) {
                case .failure(let error):
                    problem = error.message
                case .success(let customID):
                    let hash = customID.hashValue
                    if let first = collided[customID] {
                        problem = "`custom_id` \"\(customID)\" repeats line \(first)"
                    } else if let first = firstLineOf[hash].map(Int.init) {
                        if problems.count >= shownProblems {
                            problem = "a repeated `custom_id`"  // counted, not shown
                        } else if try Self.customID(atLine: first, fd: fd, path: path, limits: limits) == customID {
                            problem = "`custom_id` \"\(customID)\" repeats line \(first)"
                        } else {
                            collided[customID] = number
                            problem = nil
                        }
                    } else {
                        firstLineOf[hash] = Int32(truncatingIfNeeded: number)
                        problem = nil
                    }
                }
            }
            if let problem {
                faulty += 1
                if problems.count < shownProblems { problems.append((lines, problem)) }
            }
        }
        if lines == 0 {
            return .failure(InvalidBatch(message: "the batch file is empty: expected at least one request line. Nothing was run.", lines: [], count: 0))
        }
        guard faulty == 0 else { return .failure(invalid(problems, faulty: faulty, lines: lines)) }
        return .success(lines)
    }

    /// The custom_id of line `number` (valid when it was read before).
    private static func customID(atLine number: Int, fd: Int32, path: String, limits: BatchLimits) throws -> String? {
        var reader = LineReader(fd: fd, path: path, maxLineBytes: limits.maxLineBytes)
        while let line = try reader.next() {
            guard case .line(let current, let bytes, _) = line, current == number else { continue }
            return try? BatchLine.check(bytes).customID
        }
        return nil
    }

    static func invalid(_ problems: [(line: Int, message: String)], faulty: Int, lines: Int) -> InvalidBatch {
        let shown = problems.map { "line \($0.line): \($0.message)" }.joined(separator: "; ")
        let more = faulty > problems.count ? "; and \(faulty - problems.count) more" : ""
        let verb = faulty == 1 ? "is" : "are"
        let message = "\(faulty) of the batch file's \(lines) lines \(verb) not a valid batch request "
            + "({\"custom_id\": string, \"method\": \"POST\", \"url\": \(BatchURL.allCases.map(\.rawValue).joined(separator: "|")), \"body\": {…}}): "
            + shown + more + ". Nothing was run."
        return InvalidBatch(message: message, lines: problems.map(\.line), count: faulty)
    }
}
