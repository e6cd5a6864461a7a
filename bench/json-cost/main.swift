//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

// The reading side of the JSON stack, one case a run, for `bench/json-cost/run` to count under
// callgrind: `main CASE N` reads the case's input N times. Compiled with the sources it
// measures (see `run`); `-D BEFORE` picks the calls of the tree before the one-parser change.

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A batch line of about 300 bytes (OpenAI's chat body).
let batchLine = Array(#"{"custom_id": "request-000123", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "llama3.2", "messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Say hello to line 123 in one short sentence."}], "max_tokens": 64, "temperature": 0.2}}"#.utf8)

/// A request file of about 2 KB, laid out as a person writes one.
let requestFile: [UInt8] = {
    var text = "{\n  \"model\": \"llama3.2\",\n  \"id\": \"report-2026-12-07\",\n  \"priority\": 5,\n  \"options\": {\"temperature\": 0.7, \"num_predict\": 512, \"stop\": [\"###\", \"\\n\\n\"]},\n"
    text += "  \"metadata\": {\"user\": \"ana\", \"ticket\": 4711, \"tags\": [\"weekly\", \"summary\"]},\n  \"messages\": [\n"
    text += "    {\"role\": \"system\", \"content\": \"You summarise reports in plain English, in at most five sentences.\"},\n"
    let paragraph = "The team shipped the spool worker's batch support this week; pickup latency held under a millisecond at the 99th percentile, and the error envelopes now name the field at fault. "
    text += "    {\"role\": \"user\", \"content\": \"" + String(repeating: paragraph, count: 9) + "\"}\n  ]\n}\n"
    return Array(text.utf8)
}()

/// A stream line with one token, as Ollama writes it.
let streamLine = Array(#"{"model":"llama3.2","created_at":"2026-12-07T14:20:31.123456789Z","message":{"role":"assistant","content":" hello"},"done":false}"#.utf8)

/// A whole (not streamed) reply.
let wholeReply = Array(#"{"model":"llama3.2","created_at":"2026-12-07T14:20:31.123456789Z","message":{"role":"assistant","content":"Hello! How can I help you today? I can summarise, translate or answer questions."},"done":true,"done_reason":"stop","total_duration":1234567890,"load_duration":12345678,"prompt_eval_count":26,"prompt_eval_duration":23456789,"eval_count":298,"eval_duration":987654321}"#.utf8)

#if BEFORE
enum FileName {
    static func hex(_ byte: UInt8) -> String { String(byte, radix: 16) }
}

/// What `OllamaProvider.decodeChatReply` did before (it lives in a file that needs NIO).
func decodeChatReply(_ line: UnsafeRawBufferPointer) -> OllamaWire.ChatReply? {
    if let reply = OllamaLineScanner.reply(line) { return reply }
    return JSONValue.parse(utf8: line).flatMap(OllamaWire.ChatReply.init(json:))
}
#endif

@inline(never) func run(_ name: String, _ count: Int) -> Int {
    var sink = 0
    var text: [UInt8] = []
    var thinking: [UInt8] = []
    text.reserveCapacity(4096)
    for _ in 0..<count {
        switch name {
        #if BEFORE
        case "batch-line":
            sink &+= JSONValue.parse(utf8: batchLine) == nil ? 0 : 1
        case "request-file":
            guard StrictJSON.firstError(in: requestFile) == nil else { fatalError() }
            sink &+= (try? JSONDecoder().decode(JSONValue.self, from: Data(requestFile))) == nil ? 0 : 1
        case "stream-line":
            sink &+= streamLine.withUnsafeBytes { OllamaLineScanner.scan($0, text: &text, thinking: &thinking) } == nil ? 0 : 1
        case "whole-reply":
            sink &+= wholeReply.withUnsafeBytes { decodeChatReply($0) }?.message?.content.utf8.count ?? 0
        #else
        case "batch-line":
            sink &+= (try? JSONValue.parse(utf8: batchLine)) == nil ? 0 : 1
        case "request-file":
            sink &+= (try? JSONValue.parse(utf8: requestFile)) == nil ? 0 : 1
        case "stream-line":
            // What the stream reader does with a token line: read it, append its text.
            let reply = streamLine.withUnsafeBytes { try? OllamaWire.ChatReply.read($0) }
            text.append(contentsOf: reply?.message?.content.utf8 ?? "".utf8)
        case "whole-reply":
            sink &+= (wholeReply.withUnsafeBytes { try? OllamaWire.ChatReply.read($0) })?.message?.content.utf8.count ?? 0
        #endif
        default: fatalError("no case \(name)")
        }
        if text.count > 2048 { text.removeAll(keepingCapacity: true) }
    }
    return sink &+ text.count &+ thinking.count
}

let arguments = CommandLine.arguments
print(run(arguments[1], Int(arguments[2])!))
