//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization
import VibesModels

/// What a batch line asks to run.
package enum BatchWork: Sendable {
    case chat(ChatRequest)
    case embed(EmbedRequest)
    /// The body breaks the request rules: the line fails alone with `invalid_request`.
    case invalid(InvalidRequest)
}

extension BatchLine {
    /// The line's body read by its `url`'s rules: `/api/chat` as a request file
    /// (``JobRequest``; `stream` is ignored, lines always run whole), `/api/embed` as Ollama's
    /// embed body, `/v1/…` translated from OpenAI's shapes (``OpenAIChat``, ``OpenAIEmbeddings``).
    package var work: BatchWork {
        do {
            switch url {
            case .ollamaChat: return .chat(try JobRequest(object: body).chat)
            case .chatCompletions: return .chat(try OpenAIChat.request(from: body))
            case .embeddings: return .embed(try OpenAIEmbeddings.request(from: body))
            case .ollamaEmbed: return .embed(try OllamaEmbedBody.request(from: body))
            }
        } catch let invalid as InvalidRequest {
            return .invalid(invalid)
        } catch {
            return .invalid(InvalidRequest(field: nil, "\(error)"))
        }
    }
}

/// How one line ended: its reply body for the output file, or its failure for the errors file.
package enum BatchLineResult: Sendable {
    /// `body`: OpenAI's `chat.completion` or embedding `list` for `/v1/…` lines, Ollama's own
    /// non-streamed reply for `/api/…` lines.
    case succeeded(body: JSONValue, usage: Usage)
    case failed(JobFailure)

    /// A failure from what an attempt threw: a ``ModelError`` keeps its kind and message (the
    /// contract's error table); anything else is an `ollama_error` with its description.
    package static func failure(_ error: any Error) -> BatchLineResult {
        if let error = error as? ModelError { return .failed(JobFailure(error)) }
        if let invalid = error as? InvalidRequest { return .failed(JobFailure(invalid)) }
        return .failed(JobFailure(kind: .ollamaError, message: "\(error)"))
    }
}

/// Runs one attempt of one line, not streamed: the body's chat or embedding on `provider`.
///
/// Retries, hosts and pauses are the caller's: a ``ModelError`` is thrown as it is (retry it
/// when ``ModelError/isRetryable``, else record ``BatchLineResult/failure(_:)``), as is
/// `CancellationError`. A body that breaks the request rules returns `.failed` with
/// `invalid_request` at once, without a request to the provider.
/// `work`: the line's ``BatchLine/work`` when the caller has it already (it is read once).
package func runLine(
    _ line: BatchLine, work: BatchWork? = nil, provider: any ModelProvider, now: @escaping @Sendable () -> Date = { Date() }
) async throws -> BatchLineResult {
    try await lineReply(line, work: work, provider: provider, now: now).result
}

/// ``runLine(_:work:provider:now:)`` with a chat's output body not built yet (see ``LineReply``).
/// `embedder`: where an embedding line's call goes instead of `provider` (a member of a group).
package func lineReply(
    _ line: BatchLine, work: BatchWork? = nil, provider: any ModelProvider, embedder: Embedder? = nil, now: @Sendable () -> Date = { Date() }
) async throws -> LineReply {
    let openAI = line.url.isOpenAI
    switch work ?? line.work {
    case .invalid(let invalid):
        return .result(.failed(JobFailure(invalid)))
    case .chat(let request):
        return .chat(try await provider.chat(request), openAI: openAI, created: now())
    case .embed(let request):
        let response = if let embedder { try await embedder(request) } else { try await provider.embed(request) }
        return .embedded(response, openAI: openAI)
    }
}

/// A line's reply as ``lineReply(_:work:provider:now:)`` gives it: a chat's output body is built
/// from its response only when asked (``result``), where the line is encoded (for the worker: on
/// the file-system threads, with the line's group).
package enum LineReply: Sendable {
    case result(BatchLineResult)
    /// `openAI`: OpenAI's `chat.completion` (a `/v1/…` line), else Ollama's own reply.
    case chat(ChatResponse, openAI: Bool, created: Date)

    /// An embedding line's reply: OpenAI's `list` (a `/v1/…` line), else Ollama's own.
    package static func embedded(_ response: EmbedResponse, openAI: Bool) -> LineReply {
        let body = openAI ? OpenAIEmbeddings.list(response) : response.ollamaJSON
        return .result(.succeeded(body: body, usage: Usage(promptTokens: response.promptTokens, completionTokens: nil)))
    }

    package var result: BatchLineResult {
        switch self {
        case .result(let result):
            return result
        case .chat(let response, let openAI, let created):
            let body = openAI ? OpenAIChat.completion(response, id: BatchIDs.make("chatcmpl-"), now: created) : response.ollamaJSON(now: created)
            return .succeeded(body: body, usage: response.usage)
        }
    }

    /// A success's usage; `nil` for a failure.
    package var usage: Usage? {
        switch self {
        case .result(.succeeded(_, let usage)): return usage
        case .result(.failed): return nil
        case .chat(let response, _, _): return response.usage
        }
    }
}

/// Random ids in OpenAI's style (`batch_req_…`, `req_…`, `chatcmpl-…`): a prefix and 24 hex digits.
///
/// Two random 64-bit keys drawn once per process, and a counter mixed into each by SplitMix64's
/// finalizer (a bijection): distinct within a process, unpredictable across processes, and no
/// system call per id (a batch makes three ids a line).
enum BatchIDs {
    private static let keys = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next() as UInt64, generator.next() as UInt64)
    }()
    private static let counter = Atomic<UInt64>(0)

    static func make(_ prefix: String) -> String {
        let count = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let high = mix(keys.0 &+ count)
        let low = mix(keys.1 ^ count)
        // 16 hex digits of `high`, then the first 8 of `low`, written straight into the string.
        let digits: StaticString = "0123456789abcdef"
        let prefixBytes = prefix.utf8
        return String(unsafeUninitializedCapacity: prefixBytes.count + 24) { buffer in
            var index = buffer.initialize(fromContentsOf: prefixBytes)
            func hex(_ value: UInt64, digits count: Int) {
                for shift in stride(from: (count - 1) * 4, through: 0, by: -4) {
                    buffer[index] = digits.utf8Start[Int((value >> UInt64(shift)) & 0xF)]
                    index += 1
                }
            }
            hex(high, digits: 16)
            hex(low >> 32, digits: 8)
            return index
        }
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
