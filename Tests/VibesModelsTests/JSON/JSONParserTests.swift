//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VibesModels

/// `JSONValue.parse(utf8:)`: the same values as Foundation's decoder for valid JSON, and an
/// error naming the line, column and reason for anything RFC 8259 refuses.
@Suite struct JSONParserTests {
    @Test(arguments: [
        #"{"custom_id":"line-1","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"hi"}]}}"#,
        #"  {"a" : [ 1 , -2 , 3.5 , -0.25e-3 , 1E3 , 1.0 , -0 , 9223372036854775807 , -9223372036854775808 , 18446744073709551616 ] }  "#,
        #"{"s":"quote \" backslash \\ slash \/ \b\f\n\r\t \u0041\u00e9\u4e2d \ud83d\udc4d end","e":"","raw":"é 中 👍"}"#,
        #"[true,false,null,{},[],[[[]]],{"":{"":""}}]"#,
        #""just a string""#, "42", "-7.5", "null",
    ])
    func sameValueAsFoundation(_ text: String) throws {
        let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect((try? JSONValue.parse(utf8: Array(text.utf8))) == foundation)
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, "[01]", "[1.]", "[.5]", "[1e]", "[+1]", "[-]", "NaN", "[Infinity]", "[1e400]",
        "tru", "nul", "[true false]", #"{"a" 1}"#, #"{a:1}"#, "{'a':1}", #"["a"#, #"["\x"]"#, #"["\u12"]"#, #"["\ud800"]"#,
        #"["\udc00\ud800"]"#, "[\"tab\there\"]", "[\"line\nbreak\"]", "// comment\n{}", "{} {}", "[1] x",
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect((try? JSONValue.parse(utf8: Array(text.utf8))) == nil, "\(text)")
    }

    @Test func aByteOrderMarkIsSkipped() {
        #expect((try? JSONValue.parse(utf8: [0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8))) == ["a": 1])
    }

    @Test func refusesInvalidUTF8AndDeepNesting() {
        #expect((try? JSONValue.parse(utf8: Array(#"["a"#.utf8) + [0xFF, 0x22, 0x5D])) == nil)
        #expect((try? JSONValue.parse(utf8: Array(repeating: UInt8(ascii: "["), count: 600) + Array(repeating: UInt8(ascii: "]"), count: 600))) == nil)
        let deepButAllowed = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? JSONValue.parse(utf8: Array(deepButAllowed.utf8))) != nil)
    }

    func syntaxError(_ bytes: [UInt8]) -> JSONSyntaxError? {
        do {
            _ = try JSONValue.parse(utf8: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        ("[1,]", 1, 3, "a trailing comma before ']'"),
        ("{\n  \"a\": [1,\n  2,]}", 3, 4, "a trailing comma before ']'"),
        (#"{"é": 1,}"#, 1, 8, "a trailing comma before '}'"),
        (#"{"a": 1 // c"#, 1, 9, "'/' (a comment? JSON has none) where ',' or '}' was expected"),
        (#"{'a': 1}"#, 1, 2, "a single quote (JSON strings use double quotes) where a key in double quotes was expected"),
        (#"[NaN]"#, 1, 2, "'N' where a value was expected"),
        (#"{a: 1}"#, 1, 2, "'a' where a key in double quotes was expected"),
        ("[\"a\tb\"]", 1, 4, "a control character (U+0009) in a string; write it escaped (\\n, \\t, \\u00XX)"),
        (#"["a\qb"]"#, 1, 4, "an invalid escape in a string (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"),
        (#"["x\ud800y"]"#, 1, 4, "a lone surrogate (\\ud800) in a string; a \\uD800…\\uDBFF must be followed by a \\uDC00…\\uDFFF"),
        ("", 1, 1, "the file is empty"),
        ("[1", 1, 3, "unexpected end of the file"),
        ("[1] x", 1, 5, "'x' after the end of the JSON value"),
        ("[1e400]", 1, 2, "a number too large for a 64-bit double"),
    ] as [(String, Int, Int, String)])
    func anErrorNamesItsLineColumnAndReason(text: String, line: Int, column: Int, reason: String) throws {
        let error = try #require(syntaxError(Array(text.utf8)), "\(text)")
        #expect(error == JSONSyntaxError(line: line, column: column, reason: reason))
    }

    @Test func invalidUTF8AndDeepNestingAreNamedWhereTheyAre() throws {
        let utf8 = try #require(syntaxError(Array("[\"é".utf8) + [0xFF, 0x22, 0x5D]))
        #expect(utf8 == JSONSyntaxError(line: 1, column: 4, reason: "invalid UTF-8 in a string (the byte 0xff)"))
        let deep = try #require(syntaxError(Array(repeating: UInt8(ascii: "["), count: 600)))
        #expect(deep == JSONSyntaxError(line: 1, column: 513, reason: "nesting deeper than 512 levels"))
    }
}
