//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a model can do, in provider-neutral terms.
public struct ModelCapabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let chat = ModelCapabilities(rawValue: 1 << 0)
    public static let streaming = ModelCapabilities(rawValue: 1 << 1)
    public static let tools = ModelCapabilities(rawValue: 1 << 2)
    public static let vision = ModelCapabilities(rawValue: 1 << 3)
    public static let thinking = ModelCapabilities(rawValue: 1 << 4)
    public static let embeddings = ModelCapabilities(rawValue: 1 << 5)
}

/// Price per million tokens, for providers that charge. Local models have none.
public struct ModelPricing: Sendable, Hashable {
    public var inputPerMillionTokens: Double
    public var outputPerMillionTokens: Double
    public var currency: String

    public init(inputPerMillionTokens: Double, outputPerMillionTokens: Double, currency: String = "USD") {
        self.inputPerMillionTokens = inputPerMillionTokens
        self.outputPerMillionTokens = outputPerMillionTokens
        self.currency = currency
    }
}

/// A model a provider offers.
public struct ModelInfo: Sendable, Hashable, Identifiable {
    /// `provider:model`; the model part keeps every later `:` (`ollama:llama3:latest`).
    public var id: String { "\(provider):\(name)" }
    public var provider: String
    /// The provider's own name for the model (`llama3:latest`).
    public var name: String
    public var contextWindow: Int
    public var maxOutputTokens: Int?
    public var capabilities: ModelCapabilities
    /// The capability names exactly as the provider reported them (Ollama: `completion`, `tools`, …).
    public var providerCapabilities: [String]
    /// `nil` for local models.
    public var pricing: ModelPricing?
    public var local: Bool
    public var sizeBytes: Int64?
    public var modifiedAt: Date?

    public init(
        provider: String, name: String, contextWindow: Int, maxOutputTokens: Int? = nil,
        capabilities: ModelCapabilities, providerCapabilities: [String] = [], pricing: ModelPricing? = nil,
        local: Bool, sizeBytes: Int64? = nil, modifiedAt: Date? = nil
    ) {
        self.provider = provider
        self.name = name
        self.contextWindow = contextWindow
        self.maxOutputTokens = maxOutputTokens
        self.capabilities = capabilities
        self.providerCapabilities = providerCapabilities
        self.pricing = pricing
        self.local = local
        self.sizeBytes = sizeBytes
        self.modifiedAt = modifiedAt
    }

    /// Splits a model id into provider and model name at the first `:` only.
    ///
    /// `"ollama:llama3:latest"` gives `("ollama", "llama3:latest")`; an id without `:` gives `nil`.
    public static func split(id: String) -> (provider: String, name: String)? {
        guard let colon = id.firstIndex(of: ":") else { return nil }
        let provider = String(id[..<colon])
        let name = String(id[id.index(after: colon)...])
        guard !provider.isEmpty, !name.isEmpty else { return nil }
        return (provider, name)
    }
}
