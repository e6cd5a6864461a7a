//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// What the scheduler places, and how its events and actions name it: a request file (a job,
/// to be claimed, or claimed already) or a line of a batch this worker holds.
enum WorkID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// A request file, numbered by the scheduler as it is queued (from 1).
    case job(Int)
    /// A batch line, numbered by the worker's loop as it hands it to the scheduler (from 1).
    case line(Int)

    var isLine: Bool {
        if case .line = self { return true }
        return false
    }

    /// Ties between equal queue times are broken by this order: lines before jobs, then each in
    /// the order it was numbered (a batch's lines handed over together start in the file's order).
    static func < (a: WorkID, b: WorkID) -> Bool {
        switch (a, b) {
        case (.line(let x), .line(let y)), (.job(let x), .job(let y)): x < y
        case (.line, .job): true
        case (.job, .line): false
        }
    }

    var description: String {
        switch self {
        case .job(let number): "job \(number)"
        case .line(let number): "line \(number)"
        }
    }
}
