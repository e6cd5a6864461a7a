//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
import VibesModels
@testable import VibesSpool

@Suite struct JobRequestTests {
    func parse(_ text: String) throws -> JobRequest { try JobRequest.parse(Array(text.utf8)) }

    func invalid(_ text: String) -> InvalidRequest? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error as? InvalidRequest
        }
    }

    @Test func ollamasOwnChatBodyIsValidAsItStands() throws {
        let request = try parse(#"""
            {"model":"llama3.2","messages":[{"role":"system","content":"s"},{"role":"user","content":"hi","images":["aGk="]},
             {"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"x":1}}}]},{"role":"tool","content":"42","tool_name":"f"}],
             "stream":true,"options":{"num_predict":3,"temperature":0},"format":{"type":"object"},"keep_alive":"5m","think":"low",
             "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}
            """#)
        #expect(request.chat.model == "llama3.2")
        #expect(request.chat.messages.map(\.role) == [.system, .user, .assistant, .tool])
        #expect(request.chat.messages[1].images == ["aGk="])
        #expect(request.chat.messages[2].toolCalls.first?.name == "f")
        #expect(request.chat.messages[3].toolName == "f")
        #expect(request.chat.ollama.options["num_predict"] == 3)
        #expect(request.chat.ollama.format == .schema(["type": "object"]))
        #expect(request.chat.ollama.keepAlive == .duration("5m"))
        #expect(request.chat.ollama.think == .level("low"))
        #expect(request.chat.tools.first?.name == "f")
    }

    @Test func promptAndSystemBecomeMessages() throws {
        let request = try parse(#"{"model":"m","system":"be brief","prompt":"hello","id":"job-1","timeout":"1m30s","metadata":{"a":[1]}}"#)
        #expect(request.chat.messages == [.system("be brief"), .user("hello")])
        #expect(request.id == "job-1")
        #expect(request.timeout == .seconds(90))
        #expect(request.metadata == ["a": [1]])
    }

    @Test(arguments: [
        ("not json", nil, "not valid JSON"),
        ("[1,2]", nil, "expected a JSON object, found an array"),
        (#"{"prompt":"x"}"#, "model", "`model`: required"),
        (#"{"model":5,"prompt":"x"}"#, "model", "`model`: expected a string, found a number"),
        (#"{"model":"m"}"#, "messages", "found neither"),
        (#"{"model":"m","prompt":"x","messages":[]}"#, "prompt", "found both"),
        (#"{"model":"m","prompt":7}"#, "prompt", "`prompt`: expected a string, found a number"),
        (#"{"model":"m","messages":{}}"#, "messages", "`messages`: expected an array of messages, found an object"),
        (#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#, "messages[0].role", "found \"robot\""),
        (#"{"model":"m","messages":[{"role":"user","content":1}]}"#, "messages[0].content", "expected a string, found a number"),
        (#"{"model":"m","prompt":"x","options":[]}"#, "options", "`options`: expected an object, found an array"),
        (#"{"model":"m","prompt":"x","format":"xml"}"#, "format", "found the string \"xml\""),
        (#"{"model":"m","prompt":"x","think":"max"}"#, "think", "found \"max\""),
        (#"{"model":"m","prompt":"x","keep_alive":true}"#, "keep_alive", "found a boolean"),
        (#"{"model":"m","prompt":"x","timeout":"soon"}"#, "timeout", "found \"soon\""),
        (#"{"model":"m","prompt":"x","timeout":-1}"#, "timeout", "found -1"),
        (#"{"model":"m","prompt":"x","id":"../../x"}"#, "id", "found \"../../x\""),
        (#"{"model":"m","prompt":"x","id":".hidden"}"#, "id", "not starting with '.'"),
        (#"{"model":"m","prompt":"x","id":3}"#, "id", "`id`: expected a string, found a number"),
    ] as [(String, String?, String)])
    func invalidRequestsNameTheFieldAndWhatWasFound(text: String, field: String?, fragment: String) throws {
        let error = try #require(invalid(text), "\(text) should be invalid")
        #expect(error.field == field)
        #expect(error.message.contains(fragment), "\(error.message)")
    }

    @Test(arguments: [("30s", 30.0), ("5m", 300), ("1h30m", 5400), ("1.5h", 5400), ("250ms", 0.25), ("45", 45)])
    func durations(text: String, seconds: Double) {
        #expect(JobRequest.parseDuration(text) == seconds)
    }

    @Test func validIDs() {
        #expect(JobRequest.isValidID("a-b_c.1"))
        #expect(JobRequest.isValidID(String(repeating: "x", count: 128)))
        #expect(!JobRequest.isValidID(String(repeating: "x", count: 129)))
        #expect(!JobRequest.isValidID(""))
        #expect(!JobRequest.isValidID("a/b"))
        #expect(!JobRequest.isValidID("a b"))
        #expect(!JobRequest.isValidID(".a"))
    }
}
