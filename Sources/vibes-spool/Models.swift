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

extension VibesSpoolCommand {
    struct Models: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the models installed in Ollama, with context window and size.")

        @OptionGroup var ollama: OllamaOption

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let configuration = ollama.configuration
            let models: [ModelInfo]
            do {
                models = try await withOllamaProvider(configuration: configuration) { try await $0.models() }
            } catch let error as ModelError {
                printError(error.description)
                exitProcess(error.isConnectionProblem ? 3 : 1)
            }
            if json {
                printJSON(models)
            } else if models.isEmpty {
                print("No models installed at \(configuration.baseURL). Install one with `ollama pull llama3.2`.")
            } else {
                printTable(models)
            }
        }

        private func printJSON(_ models: [ModelInfo]) {
            struct Entry: Encodable {
                var id, name, provider: String
                var contextWindow: Int
                var sizeBytes: Int64?
                var modifiedAt: String?
                var local: Bool
                var capabilities: [String]
                enum CodingKeys: String, CodingKey {
                    case id, name, provider, local, capabilities
                    case contextWindow = "context_window", sizeBytes = "size_bytes", modifiedAt = "modified_at"
                }
            }
            let entries = models.map {
                Entry(
                    id: $0.id, name: $0.name, provider: $0.provider, contextWindow: $0.contextWindow, sizeBytes: $0.sizeBytes,
                    modifiedAt: $0.modifiedAt.map { RFC3339.format($0) }, local: $0.local, capabilities: $0.providerCapabilities)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: (try? encoder.encode(entries)) ?? Data("[]".utf8), as: UTF8.self))
        }

        private func printTable(_ models: [ModelInfo]) {
            let rows = models.map { model -> [String] in
                [model.name, "\(model.contextWindow)", Self.size(model.sizeBytes), model.providerCapabilities.joined(separator: ",")]
            }
            let header = ["NAME", "CONTEXT", "SIZE", "CAPABILITIES"]
            var widths = header.map(\.count)
            for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
            for row in [header] + rows {
                print(row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] + 2 - cell.count)
                }.joined())
            }
        }

        static func size(_ bytes: Int64?) -> String {
            guard let bytes, bytes > 0 else { return "-" }
            let units = ["B", "KB", "MB", "GB", "TB"]
            var value = Double(bytes)
            var unit = 0
            while value >= 1000 && unit < units.count - 1 {
                value /= 1000
                unit += 1
            }
            let tenths = Int((value * 10).rounded())
            return unit == 0 ? "\(bytes) B" : "\(tenths / 10).\(tenths % 10) \(units[unit])"
        }
    }
}
