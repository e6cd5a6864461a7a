//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import FakeOllama
import Foundation
import Logging
import Testing
@testable import VibesSpool

/// One event, one line: control characters in names, ids, models and messages are escaped.
@Suite struct LogEscapingTests {
    @Test(arguments: [
        ("plain text, é ✓ \\ kept", "plain text, é ✓ \\ kept"),
        ("a\nb\rc\td", #"a\nb\rc\td"#),
        ("nul\u{0}esc\u{1B}[31mdel\u{7F}", #"nul\u{00}esc\u{1b}[31mdel\u{7f}"#),
        ("c1\u{85}\u{9B}sep\u{2028}\u{2029}", #"c1\u{85}\u{9b}sep\u{2028}\u{2029}"#),
    ] as [(String, String)])
    func controlCharactersAreEscaped(text: String, escaped: String) {
        #expect(LogEscaping.escape(text) == escaped)
    }

    @Test func theHandlerEscapesTheMessageAndEveryMetadataValue() throws {
        let capture = LogCapture()
        var logger = Logger(label: "test") { _ in EscapingLogHandler(LogCapture.Handler(capture: capture)) }
        logger.logLevel = .info
        logger[metadataKey: "job"] = "x\nFORGED"
        logger.error(
            "failed: incoming/evil\n2026-01-01T00:00:00+0000 info FORGED line.json",
            metadata: ["model": "m\r\n", "list": ["a\tb", ["k\n": "v\u{0}"]], "thing": .stringConvertible(Thing())])
        let entry = try #require(capture.all.first)
        #expect(entry.message == #"failed: incoming/evil\n2026-01-01T00:00:00+0000 info FORGED line.json"#)
        #expect(entry.metadata["job"] == #"x\nFORGED"#)
        #expect(entry.metadata["model"] == #"m\r\n"#)
        #expect(entry.metadata["list"] == [#"a\tb"#, [#"k\n"#: #"v\u{00}"#]])
        #expect(entry.metadata["thing"] == #"two\nlines"#)
    }

    struct Thing: CustomStringConvertible, Sendable {
        var description: String { "two\nlines" }
    }
}
