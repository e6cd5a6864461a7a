//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VibesModels
@testable import VibesSpool

/// Request files must be valid JSON (RFC 8259): what Foundation's parser lets through is
/// refused too, with the line and column.
@Suite struct RequestJSONTests {
    func invalid(_ text: String) -> InvalidRequest? {
        do {
            _ = try JobRequest.parse(Array(text.utf8))
            return nil
        } catch {
            return error as? InvalidRequest
        }
    }

    @Test(arguments: [
        (#"{"model": "m", "prompt": "hi",}"#, "line 1, column 30: a trailing comma before '}'"),
        ("{\"model\": \"m\",\n  \"prompt\": \"hi\",\n}", "line 2, column 17: a trailing comma before '}'"),
        (#"{"model": "m", "prompt": "hi", "options": {"stop": [1,]}}"#, "line 1, column 54: a trailing comma before ']'"),
        (#"{"model": "m", "prompt": "hé", "options": {"a": 1,}}"#, "line 1, column 50: a trailing comma before '}'"),
        (#"{"model": "m", , "prompt": "hi"}"#, "line 1, column 16: ',' where a key in double quotes was expected"),
        (#"{"model": "m", "prompt": "hi"} // note"#, "line 1, column 32: '/' (a comment? JSON has none) after the end"),
        (#"{"model": "m", /* c */ "prompt": "hi"}"#, "line 1, column 16: '/' (a comment? JSON has none)"),
        (#"{"model": "m", "prompt": "hi", "options": {"temperature": NaN}}"#, "line 1, column 59: 'N' where a value was expected"),
        (#"{'model': 'm', 'prompt': 'hi'}"#, "line 1, column 2: a single quote"),
        (#"{model: "m"}"#, "line 1, column 2: 'm' where a key in double quotes was expected"),
        (#"{"model": "m", "prompt": "a\qb"}"#, "line 1, column 28: an invalid escape"),
        ("{\"model\": \"m\", \"prompt\": \"a\tb\"}", "line 1, column 28: a control character (U+0009)"),
        (#"{"model": "m", "prompt": "hi", "options": {"seed": 01}}"#, "line 1, column 52: an invalid number (a leading zero)"),
        (#"{"model": "m", "prompt": "hi""#, "line 1, column 30: unexpected end of the file"),
        ("", "line 1, column 1: the file is empty"),
        (#"{"model": "m", "prompt": "x\"#, "line 1, column 26: a string that is never closed"),
    ] as [(String, String)])
    func invalidJSONIsRefusedNamingLineAndColumn(text: String, fragment: String) throws {
        let error = try #require(invalid(text), "\(text) should be invalid")
        #expect(error.field == nil)
        #expect(error.message.hasPrefix("the file is not valid JSON ("))
        #expect(error.message.contains(fragment), "\(error.message)")
        #expect(JobRequest.salvage(Array(text.utf8)).id == nil)
    }

    @Test func theErrorIsTheParsersWithItsLineAndColumn() throws {
        let text = "{\n  \"model\": \"m\",\n  \"prompt\": \"hi\" \"x\"\n}"
        let error = try #require(invalid(text))
        #expect(error.message == "the file is not valid JSON (line 3, column 18: '\"' where ',' or '}' was expected)")
    }

    @Test(arguments: [
        #"{"model":"m","prompt":"x"}"#,
        "\u{FEFF}{\"model\":\"m\",\"prompt\":\"x\"}",
        " \n\t{ \"model\" : \"m\" , \"prompt\" : \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\" } \r\n",
        #"{"model":"m","prompt":"x","options":{"a":[],"b":{},"c":[-0,0.5,1e3,-2.5E-3,true,false,null],"d":[[[]]]}}"#,
        #"{"model":"m","prompt":"héllo wörld ✓ 😀"}"#,
    ])
    func validJSONPasses(text: String) throws {
        _ = try JobRequest.parse(Array(text.utf8))
    }

    @Test func deepNestingIsRefusedWithoutOverflowingTheStack() throws {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        let error = try #require(invalid(#"{"model": "m", "prompt": "x", "metadata": "# + deep + "}"))
        #expect(error.message.contains("nesting deeper than 512 levels"), "\(error.message)")
    }

    @Test func salvageStillReadsAValidFile() {
        let salvaged = JobRequest.salvage(Array(#"{"model": 5, "prompt": "x", "id": "keep"}"#.utf8))
        #expect(salvaged.id == "keep")
    }
}
