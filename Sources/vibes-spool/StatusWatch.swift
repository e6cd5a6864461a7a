//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import VibesModels
import VibesSpool

/// `vibes-spool status --watch`: reads the spool every second and draws ``StatusView``'s frame,
/// over the last one on a terminal, as blocks one after the other otherwise. Ctrl-C exits 0.
struct StatusWatch {
    let directory: SpoolDirectory

    func run() async throws -> Never {
        signal(SIGINT) { _ in
            // Leave the prompt on a line of its own; write(2) and _exit(2) are async-signal-safe.
            var newline: UInt8 = 10
            _ = write(1, &newline, 1)
            _exit(0)
        }
        let terminal = isatty(1) == 1
        var previous: (status: SpoolStatus, at: ContinuousClock.Instant)?
        while true {
            let status: SpoolStatus
            do {
                status = try SpoolStatus.read(directory)
            } catch {
                printError("vibes-spool: \(error)")
                exitProcess(1)
            }
            let now = ContinuousClock.now
            let elapsed = previous.map { (now - $0.at).seconds } ?? 0
            let rates = StatusView.bytesPerSecond(status, previous: previous?.status, elapsed: elapsed)
            let lines = StatusView.render(status, rates: rates, time: Self.clock(), width: terminal ? Self.columns() : 200)
            if terminal {
                // Home, each line cleared to its end, then the rest of the screen cleared: no flicker.
                writeOut(Array(("\u{1B}[H" + lines.map { $0 + "\u{1B}[K\n" }.joined() + "\u{1B}[J").utf8))
            } else {
                writeOut(Array((lines.joined(separator: "\n") + "\n\n").utf8))
            }
            previous = (status, now)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// The terminal's width in columns (80 if unknown).
    static func columns() -> Int {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// The local time of day, `HH:MM:SS`.
    static func clock() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        let two = { (n: Int32) in n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}
