//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// How the scheduler compares models: by name (`llama3.2` is `llama3.2:latest`), and for
/// "already loaded", by name plus the options that make Ollama load the model again.
enum ModelKey {
    /// Options that force Ollama to reload a model when they change.
    static let reloadOptions = ["low_vram", "num_ctx", "num_gpu", "num_thread", "numa", "use_mlock", "use_mmap"]

    /// `name:latest` for a name without a tag (a tag follows the last `:` after the last `/`).
    static func normalized(_ name: String) -> String {
        // On the UTF-8 bytes (`/` and `:` are ASCII): asked for every job and every listed model.
        var tagged = false
        for byte in name.utf8 {
            if byte == UInt8(ascii: "/") { tagged = false } else if byte == UInt8(ascii: ":") { tagged = true }
        }
        return tagged ? name : name + ":latest"
    }

    /// The model and its reload options, e.g. `qwen2.5:7b|num_ctx=8192`; just the model when
    /// none is set (what `/api/ps` reports: a model loaded with its defaults).
    static func load(model: String, options: [String: JSONValue]) -> String {
        var key = normalized(model)
        for name in reloadOptions {
            if let value = options[name] { key += "|\(name)=\(value)" }
        }
        return key
    }

    /// The model part of a load key.
    static func model(ofLoad key: String) -> String {
        // Asked per queued model on every scheduling round: no split, no array.
        guard let bar = key.utf8.firstIndex(of: UInt8(ascii: "|")) else { return key }
        return String(key[..<bar])
    }
}
