//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VibesModels

/// OpenAI's chat and embeddings shapes, as documented in its API reference, both ways.
@Suite struct OpenAITranslationTests {
    func body(_ text: String) throws -> [String: JSONValue] {
        try #require((try? JSONValue.parse(text))?.objectValue, "not a JSON object: \(text)")
    }

    func refusal(_ text: String) throws -> InvalidRequest? {
        do {
            _ = try OpenAIChat.request(from: try body(text))
            return nil
        } catch let error as InvalidRequest {
            return error
        }
    }

    // MARK: chat request

    @Test func aFullChatBodyMapsFieldByField() throws {
        let request = try OpenAIChat.request(from: body(#"""
            {"model": "llama3.2", "messages": [
               {"role": "developer", "content": "Be brief."},
               {"role": "user", "content": [{"type": "text", "text": "What is in"}, {"type": "text", "text": "this image?"},
                  {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}]},
               {"role": "assistant", "content": null, "tool_calls": [{"id": "call_abc", "type": "function",
                  "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
               {"role": "tool", "tool_call_id": "call_abc", "content": "18 C"}],
             "max_tokens": 100, "temperature": 0.2, "top_p": 0.9, "seed": 42, "stop": "END",
             "frequency_penalty": 0.5, "presence_penalty": -0.5, "response_format": {"type": "json_object"},
             "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}}],
             "reasoning_effort": "high", "n": 1, "stream": false, "logprobs": false, "user": "u1", "store": false}
            """#))
        #expect(request.model == "llama3.2")
        #expect(request.messages.map(\.role) == [.system, .user, .assistant, .tool])
        #expect(request.messages[0].content == "Be brief.")
        #expect(request.messages[1].content == "What is in\nthis image?")
        #expect(request.messages[1].images == ["iVBORw0KGgo="])
        #expect(request.messages[2].content == "")
        #expect(request.messages[2].toolCalls == [ToolCall(id: "call_abc", name: "get_weather", arguments: ["city": "Paris"])])
        #expect(request.messages[3].toolName == "get_weather")
        #expect(request.messages[3].content == "18 C")
        #expect(request.maxTokens == 100)
        #expect(request.temperature == 0.2)
        #expect(request.seed == 42)
        #expect(request.stop == ["END"])
        #expect(request.ollama.options == ["top_p": 0.9, "frequency_penalty": 0.5, "presence_penalty": -0.5])
        #expect(request.ollama.format == .json)
        #expect(request.ollama.think == .level("high"))
        #expect(request.tools.map(\.name) == ["get_weather"])
        #expect(request.tools.first?.parameters == ["type": "object"])
    }

    @Test func maxCompletionTokensWinsAndStopListsStay() throws {
        let request = try OpenAIChat.request(from: body(#"""
            {"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":5,"max_completion_tokens":7,"stop":["a","b"],
             "response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true,"schema":{"type":"object","properties":{"a":{"type":"string"}}}}},
             "reasoning_effort":"minimal","tool_choice":"none","tools":[{"type":"function","function":{"name":"f"}}]}
            """#))
        #expect(request.maxTokens == 7)
        #expect(request.stop == ["a", "b"])
        #expect(request.ollama.format == .schema(["type": "object", "properties": ["a": ["type": "string"]]]))
        #expect(request.ollama.think == .enabled(false))
        #expect(request.tools.isEmpty, "tool_choice none sends no tools")
    }

    @Test(arguments: [
        (#""n":2"#, "n"), (#""stream":true"#, "stream"), (#""logprobs":true"#, "logprobs"), (#""top_logprobs":3"#, "top_logprobs"),
        (#""logit_bias":{"50256":-100}"#, "logit_bias"), (#""modalities":["text","audio"]"#, "modalities"),
        (#""functions":[]"#, "functions"), (#""tool_choice":"required""#, "tool_choice"), (#""max_tokens":"ten""#, "max_tokens"),
        (#""response_format":{"type":"yaml"}"#, "response_format.type"), (#""reasoning_effort":"extreme""#, "reasoning_effort"),
        (#""temperature":"hot""#, "temperature"),
    ])
    func refusedFieldsNameTheField(extra: String, field: String) throws {
        let error = try #require(try refusal(#"{"model":"m","messages":[{"role":"user","content":"hi"}],\#(extra)}"#))
        #expect(error.field == field)
        #expect(error.message.hasPrefix("`\(field)`"), "\(error.message)")
    }

    @Test func refusedMessagesSayWhy() throws {
        let remote = try #require(try refusal(#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}"#))
        #expect(remote.field == "messages[0].content[0].image_url.url")
        #expect(remote.message.contains("remote image URLs are not fetched"))
        let audio = try #require(try refusal(#"{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}"#))
        #expect(audio.field == "messages[0].content[0].type")
        let noModel = try #require(try refusal(#"{"messages":[{"role":"user","content":"hi"}]}"#))
        #expect(noModel.message == "`model`: required, expected a string naming an Ollama model, found nothing")
        let noMessages = try #require(try refusal(#"{"model":"m","messages":[]}"#))
        #expect(noMessages.field == "messages")
        let badRole = try #require(try refusal(#"{"model":"m","messages":[{"role":"function","content":"x"}]}"#))
        #expect(badRole.field == "messages[0].role")
        let badArguments = try #require(try refusal(#"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}"#))
        #expect(badArguments.field == "messages[0].tool_calls[0].function.arguments")
        let notData = try #require(try refusal(#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,rawbytes"}}]}]}"#))
        #expect(notData.message.contains("base64"))
    }

    // MARK: chat.completion

    @Test func aReplyBecomesAChatCompletion() throws {
        let response = ChatResponse(
            model: "llama3.2", createdAt: Date(timeIntervalSince1970: 1_741_569_952), message: ChatMessage(role: .assistant, content: "Hello!", thinking: "hmm"),
            stopReason: .stop, usage: Usage(promptTokens: 19, completionTokens: 10))
        let completion = OpenAIChat.completion(response, id: "chatcmpl-1")
        #expect(completion == [
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_741_569_952, "model": "llama3.2", "system_fingerprint": "fp_ollama",
            "choices": [["index": 0, "message": ["role": "assistant", "content": "Hello!", "reasoning": "hmm"], "finish_reason": "stop", "logprobs": nil]],
            "usage": ["prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29],
        ])
    }

    @Test func finishReasonsAndToolCalls() throws {
        var response = ChatResponse(model: "m", message: .assistant("cut"), stopReason: .length)
        #expect(OpenAIChat.completion(response, id: "c")["choices"]?.arrayValue?.first?["finish_reason"] == "length")
        response.stopReason = .other("unload")
        #expect(OpenAIChat.completion(response, id: "c")["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        response = ChatResponse(
            model: "m", message: ChatMessage(role: .assistant, content: "", toolCalls: [ToolCall(name: "get_weather", arguments: ["city": "Paris"])]),
            stopReason: .stop)
        let choice = try #require(OpenAIChat.completion(response, id: "c")["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["content"] == .null)
        #expect(choice["message"]?["tool_calls"] == [["id": "call_0", "type": "function", "function": ["name": "get_weather", "arguments": #"{"city":"Paris"}"#]]])
        let usage = try #require(OpenAIChat.completion(response, id: "c")["usage"])
        #expect(usage == ["prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0], "unreported counts are 0, as the type requires integers")
    }

    // MARK: embeddings

    @Test func embeddingsRequestBothInputForms() throws {
        let one = try OpenAIEmbeddings.request(from: body(#"{"model":"nomic-embed-text","input":"The food was delicious","encoding_format":"float","user":"u"}"#))
        #expect(one == EmbedRequest(model: "nomic-embed-text", input: ["The food was delicious"]))
        let many = try OpenAIEmbeddings.request(from: body(#"{"model":"nomic-embed-text","input":["a","b"],"dimensions":256}"#))
        #expect(many == EmbedRequest(model: "nomic-embed-text", input: ["a", "b"], dimensions: 256))
        for (text, field) in [
            (#"{"model":"m","input":[[1,2,3]]}"#, "input"), (#"{"model":"m","input":[]}"#, "input"), (#"{"model":"m"}"#, "input"),
            (#"{"model":"m","input":"x","encoding_format":"base64"}"#, "encoding_format"), (#"{"input":"x"}"#, "model"),
            (#"{"model":"m","input":"x","dimensions":0}"#, "dimensions"),
        ] {
            #expect(throws: InvalidRequest.self, "\(text)") { try OpenAIEmbeddings.request(from: try body(text)) }
            do { _ = try OpenAIEmbeddings.request(from: try body(text)) } catch let error as InvalidRequest { #expect(error.field == field, "\(text)") }
        }
    }

    @Test func ollamasEmbedBodyKeepsItsOptions() throws {
        let request = try OllamaEmbedBody.request(from: body(#"{"model":"all-minilm","input":["x"],"truncate":false,"options":{"num_ctx":512},"keep_alive":30,"dimensions":64}"#))
        #expect(request == EmbedRequest(model: "all-minilm", input: ["x"], options: ["num_ctx": 512], keepAlive: .seconds(30), truncate: false, dimensions: 64))
    }

    @Test func anEmbedResponseBecomesAnEmbeddingList() {
        let list = OpenAIEmbeddings.list(EmbedResponse(model: "nomic-embed-text", embeddings: [[0.0023064255, -0.009327292], [0.5, 1.5]], promptTokens: 8))
        #expect(list == [
            "object": "list", "model": "nomic-embed-text",
            "data": [["object": "embedding", "index": 0, "embedding": [0.0023064255, -0.009327292]], ["object": "embedding", "index": 1, "embedding": [0.5, 1.5]]],
            "usage": ["prompt_tokens": 8, "total_tokens": 8],
        ])
    }

    @Test func aReplyAsOllamasOwnChatJSON() {
        let response = ChatResponse(
            model: "llama3.2", createdAt: Date(timeIntervalSince1970: 0), message: ChatMessage(role: .assistant, content: "Hi", toolCalls: [ToolCall(name: "f", arguments: ["x": 1])]),
            stopReason: .stop, usage: Usage(promptTokens: 3, completionTokens: 2), timings: OllamaTimings(totalDuration: 9, evalDuration: 4))
        #expect(response.ollamaJSON() == [
            "model": "llama3.2", "created_at": "1970-01-01T00:00:00.000Z", "done": true, "done_reason": "stop",
            "message": ["role": "assistant", "content": "Hi", "tool_calls": [["function": ["name": "f", "arguments": ["x": 1]]]]],
            "total_duration": 9, "prompt_eval_count": 3, "eval_count": 2, "eval_duration": 4,
        ])
    }
}
