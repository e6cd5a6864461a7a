//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
@testable import VibesSpool

/// Which files a prune removes, from a listing: plain values.
@Suite struct PrunePlanTests {
    func file(_ name: String, _ mtime: Double = 0, size: Int64 = 10) -> ListedFile { ListedFile(name: name, size: size, mtime: mtime) }

    @Test func eachRecordTakesItsOwnFilesAndGoesFirst() {
        let done = PrunePlan.entries(folder: "done", [
            file("a.txt"), file("a.json"), file("a.result.json", 5),
            file("b.output.jsonl"), file("b.batch.json", 6), file("b.jsonl"), file("b.errors.jsonl"),
            file("c.json"), file("c.txt"),  // a commit under way: no record yet
            file(".d.result.json.tmp"), file("d.json"),
            file("a.b.result.json", 7), file("a.b.json"),
        ])
        #expect(done.map(\.id) == ["a", "b", "a.b"])
        #expect(done[0].files.map(\.name) == ["a.result.json", "a.json", "a.txt"])
        #expect(done[1].files.map(\.name) == ["b.batch.json", "b.jsonl", "b.output.jsonl", "b.errors.jsonl"])
        #expect(done[2].files.map(\.name) == ["a.b.result.json", "a.b.json"])
        #expect(done[0].bytes == 30)
        let failed = PrunePlan.entries(folder: "failed", [file("x.error.json", 1), file("x.json"), file("x.partial"), file("y.jsonl"), file("y.error.json", 2)])
        #expect(failed.map { $0.files.map(\.name) } == [["x.error.json", "x.json", "x.partial"], ["y.error.json", "y.jsonl"]])
        #expect(PrunePlan.entries(folder: "failed", [file(".error.json"), file("z.result.json")]).isEmpty)
    }

    @Test func onlyEntriesOlderThanTheAgeAreSelected() {
        let entries = PrunePlan.entries(folder: "done", [file("old.result.json", 100), file("new.result.json", 950)])
        #expect(PrunePlan.select(entries, olderThan: 500, now: 1000).map(\.id) == ["old"])
        #expect(PrunePlan.select(entries, olderThan: 0, now: 1000).map(\.id) == ["old", "new"])
    }

    @Test func durations() {
        #expect(PrunePlan.seconds("30d") == 2_592_000)
        #expect(PrunePlan.seconds("12h") == 43200)
        #expect(PrunePlan.seconds("90m") == 5400)
        #expect(PrunePlan.seconds("45s") == 45)
        #expect(PrunePlan.seconds("2w") == 1_209_600)
        #expect(PrunePlan.seconds("10") == 10)
        #expect(PrunePlan.seconds("0s") == 0)
        #expect(PrunePlan.seconds("1d12h") == 129_600)
        for bad in ["", "d", "-1d", "1y", "abc", "nan"] { #expect(PrunePlan.seconds(bad) == nil, "\(bad)") }
    }
}
