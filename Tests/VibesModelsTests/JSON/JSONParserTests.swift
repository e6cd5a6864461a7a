//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VibesModels

/// `JSONValue.parse(utf8:)`: the same values as Foundation's decoder for valid JSON, and `nil`
/// for anything RFC 8259 refuses.
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
        #expect(JSONValue.parse(utf8: Array(text.utf8)) == foundation)
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, "[01]", "[1.]", "[.5]", "[1e]", "[+1]", "[-]", "NaN", "[Infinity]", "[1e400]",
        "tru", "nul", "[true false]", #"{"a" 1}"#, #"{a:1}"#, "{'a':1}", #"["a"#, #"["\x"]"#, #"["\u12"]"#, #"["\ud800"]"#,
        #"["\udc00\ud800"]"#, "[\"tab\there\"]", "[\"line\nbreak\"]", "// comment\n{}", "{} {}", "[1] x",
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(JSONValue.parse(utf8: Array(text.utf8)) == nil, "\(text)")
    }

    @Test func aByteOrderMarkIsSkipped() {
        #expect(JSONValue.parse(utf8: [0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8)) == ["a": 1])
    }

    @Test func refusesInvalidUTF8AndDeepNesting() {
        #expect(JSONValue.parse(utf8: Array(#"["a"#.utf8) + [0xFF, 0x22, 0x5D]) == nil)
        #expect(JSONValue.parse(utf8: Array(repeating: UInt8(ascii: "["), count: 600) + Array(repeating: UInt8(ascii: "]"), count: 600)) == nil)
        let deepButAllowed = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(JSONValue.parse(utf8: Array(deepButAllowed.utf8)) != nil)
    }
}
