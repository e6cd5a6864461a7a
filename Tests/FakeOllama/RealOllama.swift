//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import VibesModels

/// A real Ollama (or an Ollama-compatible stand-in) for integration tests: the one at
/// `OLLAMA_HOST` or 127.0.0.1:11434, if it answers and has a chat model.
public enum RealOllama {
    public static let baseURL = OllamaHost.resolve(explicit: nil, environment: ProcessInfo.processInfo.environment)

    /// The model to use (`VIBES_TEST_MODEL`, else the first chat model), or `nil`, with the
    /// reason printed once, when no server is reachable.
    public static let model: String? = {
        let semaphore = DispatchSemaphore(value: 0)
        let box = Box()
        Task.detached {
            box.value = await probe()
            semaphore.signal()
        }
        semaphore.wait()
        return box.value
    }()

    /// The embedding model to use (`VIBES_TEST_EMBED_MODEL`, else the first that says
    /// `embedding`), or `nil` when none answers or none is installed.
    public static let embedModel: String? = {
        let semaphore = DispatchSemaphore(value: 0)
        let box = Box()
        Task.detached {
            let configuration = OllamaProvider.Configuration(baseURL: baseURL, connectTimeout: .seconds(2), firstByteTimeout: .seconds(10))
            box.value = try? await withOllamaProvider(configuration: configuration) { provider in
                let models = try await provider.models().filter { $0.capabilities.contains(.embeddings) }
                let wanted = ProcessInfo.processInfo.environment["VIBES_TEST_EMBED_MODEL"]
                return models.first { wanted == nil || $0.name == wanted || $0.name == wanted! + ":latest" }?.name
            }
            semaphore.signal()
        }
        semaphore.wait()
        return box.value
    }()

    private final class Box: @unchecked Sendable { var value: String? }

    private static func probe() async -> String? {
        let configuration = OllamaProvider.Configuration(baseURL: baseURL, connectTimeout: .seconds(2), firstByteTimeout: .seconds(10))
        do {
            return try await withOllamaProvider(configuration: configuration) { provider in
                let models = try await provider.models().filter { $0.capabilities.contains(.chat) }
                if let wanted = ProcessInfo.processInfo.environment["VIBES_TEST_MODEL"] {
                    guard let found = models.first(where: { $0.name == wanted || $0.name == wanted + ":latest" }) else {
                        print("⚠︎ Ollama integration tests skipped: \(wanted) (VIBES_TEST_MODEL) is not installed at \(baseURL).")
                        return nil
                    }
                    return found.name
                }
                guard let first = models.first else {
                    print("⚠︎ Ollama integration tests skipped: Ollama at \(baseURL) has no chat model installed.")
                    return nil
                }
                return first.name
            }
        } catch {
            print("⚠︎ Ollama integration tests skipped: no Ollama reachable at \(baseURL) (\(error)).")
            return nil
        }
    }
}
