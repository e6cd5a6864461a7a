//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
@testable import VibesModels

/// The table from Ollama's Python client (`test_client.py`, `_parse_host`), plus 0.0.0.0.
@Suite struct HostParsingTests {
    @Test(arguments: [
        (nil, "http://127.0.0.1:11434"),
        ("", "http://127.0.0.1:11434"),
        ("1.2.3.4", "http://1.2.3.4:11434"),
        (":56789", "http://127.0.0.1:56789"),
        ("1.2.3.4:56789", "http://1.2.3.4:56789"),
        ("http://1.2.3.4", "http://1.2.3.4:80"),
        ("https://1.2.3.4", "https://1.2.3.4:443"),
        ("https://1.2.3.4:56789", "https://1.2.3.4:56789"),
        ("example.com", "http://example.com:11434"),
        ("example.com:56789", "http://example.com:56789"),
        ("http://example.com", "http://example.com:80"),
        ("https://example.com", "https://example.com:443"),
        ("https://example.com:56789", "https://example.com:56789"),
        ("example.com/", "http://example.com:11434"),
        ("example.com:56789/", "http://example.com:56789"),
        ("example.com/path", "http://example.com:11434/path"),
        ("example.com:56789/path", "http://example.com:56789/path"),
        ("https://example.com:56789/path", "https://example.com:56789/path"),
        ("example.com:56789/path/", "http://example.com:56789/path"),
        ("[0001:002:003:0004::1]", "http://[0001:002:003:0004::1]:11434"),
        ("[0001:002:003:0004::1]:56789", "http://[0001:002:003:0004::1]:56789"),
        ("http://[0001:002:003:0004::1]", "http://[0001:002:003:0004::1]:80"),
        ("https://[0001:002:003:0004::1]", "https://[0001:002:003:0004::1]:443"),
        ("https://[0001:002:003:0004::1]:56789", "https://[0001:002:003:0004::1]:56789"),
        ("[0001:002:003:0004::1]/", "http://[0001:002:003:0004::1]:11434"),
        ("[0001:002:003:0004::1]:56789/", "http://[0001:002:003:0004::1]:56789"),
        ("[0001:002:003:0004::1]/path", "http://[0001:002:003:0004::1]:11434/path"),
        ("[0001:002:003:0004::1]:56789/path", "http://[0001:002:003:0004::1]:56789/path"),
        ("https://[0001:002:003:0004::1]:56789/path", "https://[0001:002:003:0004::1]:56789/path"),
        ("[0001:002:003:0004::1]:56789/path/", "http://[0001:002:003:0004::1]:56789/path"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:8080", "http://127.0.0.1:8080"),
        ("http://0.0.0.0:11434/", "http://127.0.0.1:11434"),
        ("[::]:11434", "http://[::1]:11434"),
        ("Example.COM", "http://example.com:11434"),
    ] as [(String?, String)])
    func parsesLikeOllamasClient(input: String?, expected: String) {
        #expect(OllamaHost.baseURL(from: input) == expected)
    }

    @Test func explicitWinsOverEnvironmentWinsOverDefault() {
        #expect(OllamaHost.resolve(explicit: "h:1", environment: ["OLLAMA_HOST": "e:2"]) == "http://h:1")
        #expect(OllamaHost.resolve(explicit: nil, environment: ["OLLAMA_HOST": "e:2"]) == "http://e:2")
        #expect(OllamaHost.resolve(explicit: nil, environment: [:]) == "http://127.0.0.1:11434")
        #expect(OllamaHost.resolve(explicit: "", environment: ["OLLAMA_HOST": ""]) == "http://127.0.0.1:11434")
    }
}
