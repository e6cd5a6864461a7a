//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VibesModels

/// `JSONValue.write(into:)`: compact, keys sorted, and read back as the same value by
/// Foundation's own decoder, whatever the strings hold.
@Suite struct JSONWriterTests {
    @Test func writesCompactSortedJSON() {
        let value: JSONValue = ["b": [1, 2.5, "x", nil, true], "a": ["z": false, "y": .object([:])], "c": .array([])]
        #expect(value.compactJSON == #"{"a":{"y":{},"z":false},"b":[1,2.5,"x",null,true],"c":[]}"#)
    }

    @Test(arguments: [
        "plain", "", "quote \" backslash \\ slash /", "new\nline\ttab\rreturn", "\u{0}\u{1}\u{8}\u{c}\u{1f}\u{7f}",
        "é, 中文, emoji 👍🏽, RTL ‮", "a \u{2028} b \u{2029}", String(repeating: "long ", count: 2000),
    ])
    func stringsRoundTrip(_ text: String) throws {
        let value: JSONValue = ["text": .string(text), "list": [.string(text)]]
        let back = try JSONDecoder().decode(JSONValue.self, from: Data(value.jsonBytes))
        #expect(back == value)
    }

    @Test func controlCharactersAreEscapedAsJSONDoes() {
        #expect(JSONValue.string("\u{0}\u{1f}\n\t\u{8}\u{c}\r").compactJSON == #""\u0000\u001f\n\t\b\f\r""#)
    }

    @Test func numbersKeepTheirValue() throws {
        let values: [JSONValue] = [.int(0), .int(-7), .int(.max), .int(.min), .double(0.1), .double(-2.5e-300), .double(1e300), .double(3.0), .double(-0.0)]
        for value in values {
            let back = try JSONDecoder().decode(JSONValue.self, from: Data(value.jsonBytes))
            #expect(back.doubleValue == value.doubleValue, "\(value) → \(value.compactJSON)")
        }
        #expect(JSONValue.double(.nan).compactJSON == "null", "JSON has no NaN")
        #expect(JSONValue.double(.infinity).compactJSON == "null")
    }

    // JSONWriter: members one by one, in order.

    /// Members in the order given (not sorted), commas between members and elements at every
    /// depth, a value the caller streams itself after `key`.
    @Test func writesMembersInOrderWithCommasAtEveryDepth() throws {
        var json = JSONWriter()
        json.beginObject()
        json.member("z", "last first")
        json.beginObject("usage")
        json.member("prompt_tokens", 7)
        json.member("completion_tokens", nil)
        json.endObject()
        json.beginArray("calls")
        for name in ["a", "b"] {
            json.beginObject()
            json.member("name", .string(name))
            json.endObject()
        }
        json.endArray()
        json.key("text")
        json.bytes += #""stream\"ed""#.utf8
        json.endValue()
        json.member("a", ["k": 1])
        json.endObject()
        let text = String(decoding: json.bytes, as: UTF8.self)
        #expect(text == #"{"z":"last first","usage":{"prompt_tokens":7,"completion_tokens":null},"calls":[{"name":"a"},{"name":"b"}],"text":"stream\"ed","a":{"k":1}}"#)
        #expect(try JSONValue.parse(utf8: json.bytes)["usage"]?["prompt_tokens"] == 7)
    }
}
