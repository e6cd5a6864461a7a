//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
@testable import VibesAPI
@testable import VibesSpool

/// The decisions on plain values: ids, windows, keys, listen addresses, the batch status.
@Suite struct DecisionTests {
    @Test func idsAreOnlyOfTheirOwnShape() {
        let hex = APIID.newHex(microseconds: 1_765_000_000_000_000)
        #expect(hex.count == 24 && APIID.parseFile("file-\(hex)") == .upload(hex: hex))
        #expect(APIID.parseFile("file-\(hex)-output") == .output(batchHex: hex))
        #expect(APIID.parseBatch("batch_\(hex)") == .batch(hex: hex))
        for bad in ["", "file-", "file-../../etc/passwd", "file-\(hex)/..", "file-\(hex.uppercased())", "batch_\(hex)x", "file-\(hex)-outputs",
            "../file-\(hex)", "batch_../../\(hex.prefix(18))", "file-\(hex.prefix(23))"]
        {
            #expect(APIID.parseFile(bad) == nil && APIID.parseBatch(bad) == nil, "\(bad)")
        }
        #expect(APIID.newHex(microseconds: 2) > APIID.newHex(microseconds: 1), "ids sort by time")
    }

    @Test func completionWindowsFrom1hTo7d() {
        #expect(BatchCreateRequest.window("24h") == 86400 && BatchCreateRequest.window("1h") == 3600 && BatchCreateRequest.window("7d") == 604_800)
        for bad in ["", "h", "0h", "59m", "8d", "169h", "-1h", "1.5h", "24", "24H"] { #expect(BatchCreateRequest.window(bad) == nil, "\(bad)") }
    }

    @Test func keysMatchWholeAndOnlyAfterBearer() {
        let keys = APIKeys(fileText: "# keys\nsk-one\n\n  sk-two  \n")
        #expect(keys.accepts(authorization: "Bearer sk-one") && keys.accepts(authorization: "Bearer sk-two"))
        for bad in [nil, "", "Bearer ", "Bearer sk-on", "Bearer sk-one2", "Basic sk-one", "sk-one", "Bearer # keys"] {
            #expect(!keys.accepts(authorization: bad), "\(bad ?? "nil")")
        }
        #expect(!APIKeys(keys: []).accepts(authorization: "Bearer "))
    }

    @Test func withoutKeysOnlyLoopback() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:11435") == ListenAddress(host: "127.0.0.1", port: 11435))
        #expect(try ListenAddress(parsing: "[::1]:80") == ListenAddress(host: "::1", port: 80))
        for loopback in ["127.0.0.1:1", "127.1.2.3:1", "localhost:1", "[::1]:1"] {
            #expect(throws: Never.self) { try ListenAddress(parsing: loopback).check(hasKeys: false) }
        }
        for open in ["0.0.0.0:1", "192.168.1.2:1", "[::]:1", "example.org:1", "127.0.0.1.example.org:1"] {
            #expect(throws: ListenError.self) { try ListenAddress(parsing: open).check(hasKeys: false) }
            #expect(throws: Never.self) { try ListenAddress(parsing: open).check(hasKeys: true) }
        }
        for bad in ["", "host", ":1", "h:70000", "[::1]1"] { #expect(throws: ListenError.self) { try ListenAddress(parsing: bad) } }
    }

    @Test func formHeadersAreRead() {
        #expect(FormDisposition("form-data; name=\"file\"; filename=\"a;b \\\"c\\\".jsonl\"") == FormDisposition(name: "file", filename: "a;b \"c\".jsonl"))
        #expect(FormDisposition("form-data; name=purpose")?.name == "purpose")
        #expect(FormDisposition("attachment; name=\"x\"") == nil && FormDisposition("form-data") == nil)
        #expect(multipartBoundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(multipartBoundary(contentType: "Multipart/Form-Data; charset=x; boundary=\"a b\"") == "a b")
        #expect(multipartBoundary(contentType: "application/json") == nil && multipartBoundary(contentType: "multipart/form-data") == nil)
    }

    func record(cancel: String? = nil) -> APIBatchRecord {
        APIBatchRecord(id: "batch_\(APIID.newHex(microseconds: 1))", inputFileID: "file-x", endpoint: "/v1/embeddings", completionWindow: "24h",
            metadata: nil, createdAt: 100, expiresAt: 86500, model: nil, spoolID: "s", cancellingAt: cancel == nil ? nil : 200, cancelReason: cancel)
    }

    /// A progress file as the worker writes it, read as serve reads it; completed at 300 s.
    func progress(_ status: String, total: Int, completed: Int, failed: Int) -> BatchCounts {
        let text = "{\"id\": \"x\", \"status\": \"\(status)\", \"request_counts\": {\"total\": \(total), \"completed\": \(completed), \"failed\": \(failed)}, "
            + "\"completed_at\": \"1970-01-01T00:05:00Z\"}"
        return BatchCounts(progressFile: Array(text.utf8))!
    }

    @Test func statusFromTheSpool() {
        typealias S = BatchObject.Status
        let cases: [(SpoolBatchState, String?, S)] = [
            (.queued, nil, .validating), (.running(nil), nil, .validating), (.running(progress("validating", total: 0, completed: 0, failed: 0)), nil, .validating),
            (.running(progress("in_progress", total: 4, completed: 1, failed: 1)), nil, .inProgress),
            (.running(progress("in_progress", total: 4, completed: 3, failed: 1)), nil, .finalizing),
            (.running(progress("in_progress", total: 4, completed: 1, failed: 0)), "user", .cancelling), (.queued, "expired", .cancelling),
            (.finished(progress("completed", total: 2, completed: 2, failed: 0)), nil, .completed),
            (.finished(progress("completed", total: 2, completed: 2, failed: 0)), "user", .completed),
            (.finished(progress("cancelled", total: 2, completed: 1, failed: 1)), "user", .cancelled),
            (.finished(progress("expired", total: 2, completed: 0, failed: 2)), "expired", .expired),
            (.failedWhole(message: "the batch file is empty", at: 5), nil, .failed), (.missing, nil, .failed),
        ]
        for (state, cancel, expected) in cases {
            #expect(BatchObject(record: record(cancel: cancel), state: state).status == expected, "\(state) \(cancel ?? "-")")
        }
        let done = BatchObject(record: record(), state: .finished(progress("completed", total: 3, completed: 3, failed: 0)))
        #expect(done.outputFileID != nil && done.errorFileID == nil && done.completedAt == 300)
        let allFailed = BatchObject(record: record(), state: .finished(progress("completed", total: 3, completed: 0, failed: 3)))
        #expect(allFailed.outputFileID == nil && allFailed.errorFileID != nil)
    }

    @Test func wholeFileErrorsNameTheirLines() {
        let errors = BatchObject.lineErrors("2 of the batch file's 9 lines are not valid ({…}): line 2: no `body`; line 7: `url` is x. Nothing was run.")
        #expect(errors.map(\.line) == [2, 7] && errors.map(\.message) == ["no `body`", "`url` is x"])
        #expect(BatchObject.lineErrors("the batch file is empty").map(\.line) == [nil])
    }

    @Test func pagesAreWindowsOfNewestFirst() {
        let ids = ["e", "d", "c", "b", "a"]
        #expect(ListPage.window(ids, after: nil, limit: 2) == (["e", "d"], true))
        #expect(ListPage.window(ids, after: "d", limit: 2) == (["c", "b"], true))
        #expect(ListPage.window(ids, after: "b", limit: 2) == (["a"], false))
        #expect(ListPage.window(ids, after: "cc", limit: 9) == (["c", "b", "a"], false), "a cursor that is gone")
    }

    @Test func theStatusPageEscapesAndShowsEveryBatch() {
        var status = SpoolStatus(spool: "/s<p>")
        status.batches = [.init(id: "b\"1", total: 4, completed: 2, failed: 1)]
        let html = StatusPage.html(status)
        #expect(html.contains("/s&lt;p&gt;") && !html.contains("/s<p>"))
        #expect(html.contains("data-batch=\"b&quot;1\"") && html.contains("75%") && html.contains("http-equiv=\"refresh\""))
    }
}
