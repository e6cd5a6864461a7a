//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import VibesModels
import VibesSpool

extension VibesSpoolCommand {
    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a request safely (tmp/, then rename into incoming/) and print its id.",
            discussion: """
                The request is PROMPT, or standard input with '-' (or with nothing given), or a \
                request file FILE.json whose fields --model, --system and --option override. With \
                --wait the id goes to stderr and stdout carries exactly the reply text as it is \
                generated; exit 0 when done, 1 with the error message on stderr when failed.
                """)

        @OptionGroup var spool: SpoolOption

        @Option(help: "An Ollama model name, e.g. llama3.2.")
        var model: String?

        @Option(help: "A system message.")
        var system: String?

        @Option(help: "The job id ([A-Za-z0-9._-], up to 128).")
        var id: String?

        @Option(help: "Higher runs first: -100 to 100 (default 0).")
        var priority: Int?

        @Option(name: .customLong("option"), help: ArgumentHelp("An Ollama option, as JSON when it parses (num_predict=3), else a string.", valueName: "k=v"))
        var options: [String] = []

        @Flag(help: "Follow the job: print the reply as it streams, exit when it is done or failed.")
        var wait = false

        @Argument(help: "PROMPT, '-' for standard input, FILE.json, or FILE.jsonl (a batch in OpenAI's format).")
        var input: String?

        func validate() throws {
            if let id, !JobRequest.isValidID(id) {
                throw ValidationError("--id must be 1 to 128 of [A-Za-z0-9._-], not starting with '.'")
            }
            for option in options where !option.contains("=") {
                throw ValidationError("--option takes k=v, got '\(option)'")
            }
        }

        func run() async throws {
            if let input, input.hasSuffix(".jsonl") {
                try await submitBatch(input)
            }
            var request: [String: JSONValue] = [:]
            if let input, input.hasSuffix(".json"), input != "-", FileManager.default.fileExists(atPath: input) {
                guard let data = FileManager.default.contents(atPath: input),
                    case .object(let object)? = try? JSONValue.parse(utf8: Array(data))
                else {
                    printError("vibes-spool: \(input) is not a JSON object")
                    exitProcess(1)
                }
                request = object
            } else {
                let prompt: String
                if let input, input != "-" {
                    prompt = input
                } else {
                    prompt = String(decoding: readStandardInput(), as: UTF8.self)
                }
                request["prompt"] = .string(prompt)
            }
            if let model { request["model"] = .string(model) }
            guard case .string? = request["model"] else {
                throw ValidationError("--model is required (or a request file with a \"model\" field)")
            }
            if let system { request["system"] = .string(system) }
            if let priority {
                guard (-100...100).contains(priority) else { throw ValidationError("--priority must be from -100 to 100") }
                request["priority"] = .int(Int64(priority))
            }
            if !options.isEmpty {
                var values = request["options"]?.objectValue ?? [:]
                for option in options {
                    let (key, value) = option.split(separator: "=", maxSplits: 1).map(String.init).pair
                    values[key] = (try? JSONValue.parse(value)) ?? .string(value)
                }
                request["options"] = .object(values)
            }
            let preferredID = id ?? request["id"]?.stringValue.flatMap { JobRequest.isValidID($0) ? $0 : nil }
            let directory = spool.directory
            let jobID = try directory.submit(request, preferredID: preferredID)
            guard wait else {
                print(jobID)
                return
            }
            printError(jobID)
            let result = try await directory.follow(
                id: jobID,
                output: { writeOut($0) },
                notice: { printError($0) })
            switch result {
            case .done:
                exitProcess(0)
            case .failed(let message):
                printError(message)
                exitProcess(1)
            }
        }
    }
}

extension Array where Element == String {
    /// `[k, v]` as a pair (`v` empty when missing).
    fileprivate var pair: (String, String) { (self.first ?? "", self.count > 1 ? self[1] : "") }
}
