//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import Testing
@testable import VibesModels

@Suite struct DecodingTests {
    @Test(arguments: [
        ("2025-01-02T03:04:05Z", 1_735_787_045.0),
        ("2025-01-02T03:04:05.5Z", 1_735_787_045.5),
        ("2025-01-02T03:04:05.123456789Z", 1_735_787_045.123456789),
        ("2025-01-02T05:04:05.25+02:00", 1_735_787_045.25),
        ("2025-01-01T20:04:05.1234-07:00", 1_735_787_045.1234),
        ("2023-08-04T08:52:19.385406455-07:00", 1_691_164_339.385406455),
    ])
    func parsesTimestampsWithAnyFractionAndOffset(text: String, seconds: Double) throws {
        let date = try #require(RFC3339.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6)
    }

    @Test func formatsUTCWithMillisecondsAndTheBasicForm() throws {
        let date = try #require(RFC3339.parse("2025-01-02T05:04:05.25+02:00"))
        #expect(RFC3339.format(date) == "2025-01-02T03:04:05.250Z")
        #expect(RFC3339.format(date, basic: true) == "20250102T030405Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z", "leap day")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
        for text in ["1999-12-31T23:59:59.999Z", "2024-02-29T12:00:00.000Z", "2026-11-25T04:15:00.123Z"] {
            #expect(RFC3339.format(try #require(RFC3339.parse(text))) == text)
        }
    }

    @Test(arguments: ["", "2025-01-02", "2025-01-02T03:04:05", "2025-13-02T03:04:05Z", "2025-01-02T03:04:05.Z", "garbage"])
    func rejectsMalformedTimestamps(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func streamLineToleratesMissingMetricsAndUnknownFields() throws {
        let line = ByteBuffer(string: #"{"model":"m","created_at":"2025-01-02T03:04:05Z","message":{"role":"assistant","content":"hi","images":null,"surprise":1},"done":true,"brand_new_field":{"x":[1,2]}}"#)
        let chunk = try OllamaProvider.decodeChatReply(line).chunk
        #expect(chunk.textDelta == "hi")
        #expect(chunk.done)
        #expect(chunk.stopReason == .stop)
        #expect(chunk.usage == Usage(promptTokens: nil, completionTokens: nil))
        #expect(chunk.createdAt != nil)
    }

    @Test func errorLineIsAServerErrorEvenAt200() {
        let line = ByteBuffer(string: #"{"error":"an error was encountered while running the model: unexpected EOF"}"#)
        #expect(throws: ModelError.serverError(status: 200, message: "an error was encountered while running the model: unexpected EOF", midStream: true)) {
            try OllamaProvider.decodeChatReply(line).chunk
        }
    }

    @Test func requestBodyCarriesOllamaSettingsAndNeutralFields() throws {
        let request = ChatRequest(
            model: "qwen3", messages: [.system("be brief"), ChatMessage(role: .user, content: "hi", images: ["aGk="])],
            temperature: 0.5, maxTokens: 7, stop: ["\n"], seed: 42,
            tools: [ToolDefinition(name: "f", description: "d", parameters: ["type": "object"])],
            ollama: OllamaSettings(options: ["num_ctx": 4096, "seed": 1], format: .schema(["type": "object"]), keepAlive: .duration("5m"), think: .level("low")))
        let data = try JSONEncoder().encode(OllamaWire.ChatBody(request, stream: false))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["stream"] as? Bool == false)
        #expect(json["keep_alive"] as? String == "5m")
        #expect(json["think"] as? String == "low")
        let options = try #require(json["options"] as? [String: Any])
        #expect(options["num_ctx"] as? Int == 4096)
        #expect(options["num_predict"] as? Int == 7)
        #expect(options["seed"] as? Int == 42)
        #expect(options["temperature"] as? Double == 0.5)
        let messages = try #require(json["messages"] as? [[String: Any]])
        #expect(messages.count == 2)
        #expect(messages[1]["images"] as? [String] == ["aGk="])
        let tools = try #require(json["tools"] as? [[String: Any]])
        #expect((tools[0]["function"] as? [String: Any])?["name"] as? String == "f")
    }

    @Test func modelIDKeepsEveryLaterColon() {
        let info = ModelInfo(provider: "ollama", name: "llama3:latest", contextWindow: 8192, capabilities: [.chat], local: true)
        #expect(info.id == "ollama:llama3:latest")
        #expect(ModelInfo.split(id: "ollama:llama3:latest")! == ("ollama", "llama3:latest"))
        #expect(ModelInfo.split(id: "llama3") == nil)
    }

    @Test func errorsSayWhatToDo() {
        #expect(ModelError.notRunning(baseURL: "http://127.0.0.1:11434", cause: "refused").description
            == "Ollama not running at http://127.0.0.1:11434. Start it with `ollama serve`.")
        #expect(ModelError.modelNotInstalled(model: "llama3.2", detail: nil).description
            == "Model 'llama3.2' is not installed. Run `ollama pull llama3.2`.")
        #expect(ModelError.streamInterrupted(bytesReceived: 12, cause: "EOF").description.contains("12 bytes"))
        #expect(ModelError.timeout(.idle, seconds: 120).description.contains("idle timeout between chunks of 120 s"))
        #expect(ModelError.serverError(status: 500, message: "boom", midStream: false).description.contains("HTTP 500: boom"))
        #expect(ModelError.notAnOllamaAPI(baseURL: "http://x:1", status: 404, body: "404 page not found").description.contains("http://x:1 is not an Ollama API"))
    }

    @Test func retryabilityFollowsTheContract() {
        #expect(ModelError.notRunning(baseURL: "u", cause: "").isRetryable)
        #expect(ModelError.streamInterrupted(bytesReceived: 0, cause: "").isRetryable)
        #expect(ModelError.serverError(status: 503, message: "busy", midStream: false).isRetryable)
        #expect(ModelError.serverError(status: 500, message: "loading", midStream: false).isRetryable)
        #expect(ModelError.serverError(status: 200, message: "x", midStream: true).isRetryable)
        #expect(!ModelError.serverError(status: 400, message: "bad", midStream: false).isRetryable)
        #expect(!ModelError.modelNotInstalled(model: "m", detail: nil).isRetryable)
        #expect(!ModelError.notAnOllamaAPI(baseURL: "u", status: 404, body: "").isRetryable)
        #expect(!ModelError.timeout(.deadline, seconds: 1).isRetryable)
    }
}

@Suite struct LineSplitterTests {
    @Test func splitsLinesAcrossAndWithinChunksAtEveryBoundary() throws {
        let text = "{\"a\":\"héllo 世界 🎉\"}\n{\"b\":2}\n\n{\"c\":3}\r\n"
        let bytes = Array(text.utf8)
        // Every way of cutting the stream in two, including inside each multi-byte character.
        for cut in 0...bytes.count {
            var splitter = NDJSONLineSplitter()
            var lines = try splitter.append(ByteBuffer(bytes: bytes[..<cut]))
            lines += try splitter.append(ByteBuffer(bytes: bytes[cut...]))
            #expect(splitter.finish() == nil)
            #expect(lines.map { String(buffer: $0) } == ["{\"a\":\"héllo 世界 🎉\"}", "{\"b\":2}", "{\"c\":3}"], "cut at \(cut)")
        }
        // One byte at a time.
        var splitter = NDJSONLineSplitter()
        var lines: [ByteBuffer] = []
        for byte in bytes { lines += try splitter.append(ByteBuffer(bytes: [byte])) }
        #expect(lines.count == 3)
        #expect(String(buffer: lines[0]) == "{\"a\":\"héllo 世界 🎉\"}")
    }

    @Test func keepsAnUnterminatedLastLineForFinish() throws {
        var splitter = NDJSONLineSplitter()
        #expect(try splitter.append(ByteBuffer(string: "{\"x\":1}\n{\"y\"")).count == 1)
        #expect(try splitter.append(ByteBuffer(string: ":2}")).isEmpty)
        #expect(splitter.finish().map { String(buffer: $0) } == "{\"y\":2}")
    }

    @Test func refusesEndlessLines() {
        var splitter = NDJSONLineSplitter(maxLineBytes: 10)
        #expect(throws: ModelError.self) { try splitter.append(ByteBuffer(string: "0123456789abc")) }
    }
}
