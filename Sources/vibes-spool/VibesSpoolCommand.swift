//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Glibc
import Logging
import VibesModels
import VibesSpool

/// `vibes-spool`: run local LLM jobs through Ollama from a file-drop spool.
struct VibesSpoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vibes-spool",
        abstract: "Run local LLM jobs through Ollama from a file-drop spool.",
        discussion: "Exit codes: 0 success, 1 a job or request failed, 2 bad usage, 3 cannot reach Ollama.",
        subcommands: [Run.self, Submit.self, Status.self, Requeue.self, Cancel.self, Prune.self, Serve.self, Models.self]
    )
}

/// `--spool DIR`, else `$VIBES_SPOOL`, else `./spool`.
struct SpoolOption: ParsableArguments {
    @Option(name: .long, help: "The spool directory (default: $VIBES_SPOOL, else ./spool).")
    var spool: String?

    var directory: SpoolDirectory {
        SpoolDirectory.resolve(explicit: spool, environment: ProcessInfo.processInfo.environment)
    }
}

/// `--ollama-url URL`, else `$OLLAMA_HOST`, else the default.
struct OllamaOption: ParsableArguments {
    @Option(name: .customLong("ollama-url"), help: "Ollama's base URL (default: $OLLAMA_HOST, else http://127.0.0.1:11434).")
    var ollamaURL: String?

    var configuration: OllamaProvider.Configuration {
        OllamaProvider.Configuration(explicitURL: ollamaURL, environment: ProcessInfo.processInfo.environment)
    }
}

/// Exits with `code`, flushing stdout first.
func exitProcess(_ code: Int32) -> Never {
    fflush(nil)
    exit(code)
}

/// Writes all of `bytes` to a file descriptor (stdout: 1, stderr: 2), unbuffered.
func writeOut(_ bytes: [UInt8], to fd: Int32 = 1) {
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        offset += written
    }
}

func printError(_ message: String) {
    writeOut(Array((message + "\n").utf8), to: 2)
}

/// All of standard input.
func readStandardInput() -> [UInt8] {
    var result: [UInt8] = []
    // A read error ends the input, as the end of the file does.
    _ = try? FileSystem.readChunks(0, from: nil, path: "standard input") { result.append(contentsOf: $0) }
    return result
}

/// Logs to stderr, one line per event: names, ids, models and messages are escaped (see
/// `LogEscaping`), so a newline in a file name cannot split or forge a line.
func makeLogger() -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = EscapingLogHandler(StreamLogHandler.standardError(label: label))
        let level = ProcessInfo.processInfo.environment["VIBES_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        handler.logLevel = level ?? .info
        return handler
    }
    return Logger(label: "vibes-spool")
}

@main
enum Main {
    static func main() async {
        do {
            var command = try VibesSpoolCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // The contract's code for bad usage is 2 (ArgumentParser's own is 64).
            if VibesSpoolCommand.exitCode(for: error) == .validationFailure {
                printError(VibesSpoolCommand.fullMessage(for: error))
                exitProcess(2)
            }
            VibesSpoolCommand.exit(withError: error)
        }
    }
}
