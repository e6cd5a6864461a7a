//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Foundation
import SpoolTestSupport
import Testing
import VibesModels
@testable import VibesSpool

/// The whole-file check before anything runs, and the chunked line reader under it.
@Suite struct BatchValidatorTests {
    func validate(_ text: String, limits: BatchLimits = .init()) throws -> Result<Int, InvalidBatch> {
        let spool = try TestSpool()
        defer { spool.cleanUp() }
        let path = "\(spool.base)/in.jsonl"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        return try BatchValidator.validate(fd: fd, path: path, limits: limits)
    }

    func invalid(_ text: String, limits: BatchLimits = .init()) throws -> InvalidBatch {
        guard case .failure(let invalid) = try validate(text, limits: limits) else {
            Issue.record("expected the file to fail")
            return InvalidBatch(message: "", lines: [], count: 0)
        }
        return invalid
    }

    @Test func aValidFileCountsItsLines() throws {
        let lines = [
            TestSpool.line("a"), TestSpool.line("b", url: "/v1/embeddings"), TestSpool.line("c", url: "/api/chat"),
            TestSpool.line("d", url: "/api/embed"),
        ]
        #expect(try validate(lines.joined(separator: "\n") + "\n") == .success(4))
        #expect(try validate(lines.joined(separator: "\n")) == .success(4), "a last line without its newline is a line")
        #expect(try validate(lines.joined(separator: "\r\n") + "\r\n") == .success(4), "CRLF endings are fine")
    }

    @Test func eachKindOfBadLineIsNamedWithItsNumber() throws {
        let text = [
            TestSpool.line("ok"),
            "not json",
            "[1,2]",
            #"{"method":"POST","url":"/v1/chat/completions","body":{}}"#,
            #"{"custom_id":7,"method":"POST","url":"/v1/chat/completions","body":{}}"#,
            #"{"custom_id":"g","method":"GET","url":"/v1/chat/completions","body":{}}"#,
            #"{"custom_id":"u","method":"POST","url":"/v1/completions","body":{}}"#,
            #"{"custom_id":"b","method":"POST","url":"/api/chat","body":"text"}"#,
            TestSpool.line("ok"),
            "",
        ].joined(separator: "\n") + "\n"
        let result = try invalid(text)
        #expect(result.count == 9)
        #expect(result.lines == [2, 3, 4, 5, 6])
        #expect(result.message.hasPrefix("9 of the batch file's 10 lines are not a valid batch request"))
        #expect(result.message.contains("line 2: not valid JSON"))
        #expect(result.message.contains("line 3: expected a JSON object, found an array"))
        #expect(result.message.contains("line 4: `custom_id`: required, expected a string, found nothing"))
        #expect(result.message.contains("line 5: `custom_id`: expected a string, found a number"))
        #expect(result.message.contains(#"line 6: `method`: expected "POST", found "GET""#))
        #expect(result.message.hasSuffix("; and 4 more. Nothing was run."), "\(result.message)")
        let tail = try invalid(text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(6).joined(separator: "\n"))
        #expect(tail.message.contains(#"line 1: `url`: expected one of /v1/chat/completions, /v1/embeddings, /api/chat, /api/embed, found "/v1/completions""#))
        #expect(tail.message.contains("line 2: `body`: expected an object, found a string"))
        #expect(tail.message.contains("line 3: `custom_id` \"ok\" repeats") == false)
        #expect(tail.message.contains("line 4: a blank line"))
    }

    @Test func aLineThatIsNotJSONNamesTheColumnAndWhy() throws {
        let text = TestSpool.line("a") + "\n" + #"{"custom_id": "b", "method": "POST",}"# + "\n"
        let result = try invalid(text)
        #expect(result.lines == [2])
        #expect(result.message.contains("line 2: not valid JSON (column 36: a trailing comma before '}')"), "\(result.message)")
    }

    @Test func aRepeatedCustomIDNamesBothLines() throws {
        let result = try invalid([TestSpool.line("x"), TestSpool.line("y"), TestSpool.line("x")].joined(separator: "\n"))
        #expect(result.lines == [3])
        #expect(result.message.contains(#"line 3: `custom_id` "x" repeats line 1"#))
    }

    @Test func everyRepeatIsCountedAndTheFirstFewNamed() throws {
        // 3 distinct custom_ids, then each again 3 times: 9 repeats, 5 of them named.
        let ids = ["a", "b", "c"] + Array(repeating: ["c", "a", "b"], count: 3).flatMap { $0 }
        let result = try invalid(ids.map { TestSpool.line($0) }.joined(separator: "\n"))
        #expect(result.count == 9)
        #expect(result.lines == [4, 5, 6, 7, 8])
        #expect(result.message.contains(#"line 4: `custom_id` "c" repeats line 3"#))
        #expect(result.message.contains(#"line 8: `custom_id` "a" repeats line 1"#))
        #expect(result.message.hasSuffix("; and 4 more. Nothing was run."), "\(result.message)")
        #expect(try validate((1...500).map { TestSpool.line("id-\($0)") }.joined(separator: "\n")) == .success(500))
    }

    @Test func blankLinesInsideAreRefusedButTheFinalNewlineIsNot() throws {
        #expect(try invalid(TestSpool.line("a") + "\n\n" + TestSpool.line("b") + "\n").lines == [2])
        #expect(try invalid(TestSpool.line("a") + "\n   \n").lines == [2])
        #expect(try invalid("").message.contains("empty"))
        #expect(try invalid("\n").lines == [1])
    }

    @Test func overTheLineLimitFailsWithoutNamingLines() throws {
        let line = TestSpool.line("x")
        var text = ""
        for index in 0..<50_001 { text += line.replacingOccurrences(of: #""x""#, with: "\"\(index)\"") + "\n" }
        let result = try invalid(text)
        #expect(result.message == "the batch file has more than 50000 lines, the limit (--max-batch-lines). Nothing was run.")
        #expect(try validate(text.split(separator: "\n").suffix(3).joined(separator: "\n"), limits: BatchLimits(maxLines: 3)) == .success(3))
    }

    @Test func overTheByteLimitsFails() throws {
        let text = [TestSpool.line("a"), TestSpool.line("b")].joined(separator: "\n")
        #expect(try invalid(text, limits: BatchLimits(maxBytes: 100)).message.contains("over the limit of 100 bytes (--max-batch-bytes)"))
        let long = TestSpool.line("long", body: #"{"model":"m","prompt":"\#(String(repeating: "x", count: 5000))"}"#)
        let result = try invalid([TestSpool.line("a"), long, TestSpool.line("c")].joined(separator: "\n"), limits: BatchLimits(maxLineBytes: 1000))
        #expect(result.lines == [2])
        #expect(result.message.contains("line 2: over 1000 bytes"))
    }

    @Test func theReaderSplitsLinesAcrossTinyChunks() throws {
        let spool = try TestSpool()
        defer { spool.cleanUp() }
        let path = "\(spool.base)/lines"
        let text = "alpha\nbé\n\n" + String(repeating: "z", count: 40) + "\nlast"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var reader = LineReader(fd: fd, path: path, maxLineBytes: 20, chunkSize: 3)
        var lines: [LineReader.Line] = []
        while let line = try reader.next() { lines.append(line) }
        #expect(lines == [
            .line(number: 1, bytes: Array("alpha".utf8), terminated: true), .line(number: 2, bytes: Array("bé".utf8), terminated: true),
            .line(number: 3, bytes: [], terminated: true), .tooLong(number: 4), .line(number: 5, bytes: Array("last".utf8), terminated: false),
        ])
        #expect(reader.consumedOffset == off_t(text.utf8.count))
    }
}
