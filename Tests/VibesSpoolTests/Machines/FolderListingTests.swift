//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import Testing
@testable import VibesSpool

/// The poller's diffing: a listing against the last one, as a plain value.
@Suite struct FolderListingTests {
    @Test func onlyNamesNotInTheLastListingAreNew() {
        var listing = FolderListing(known: ["a.json", "b.json"])
        #expect(listing.newNames(in: ["a.json", "b.json", "c.json"]) == ["c.json"])
        #expect(listing.newNames(in: ["a.json", "b.json", "c.json"]).isEmpty, "the same listing again: nothing new")
        #expect(listing.newNames(in: ["c.json", "e.json", "d.json"]) == ["e.json", "d.json"], "in the listing's order")
    }

    @Test func aNameThatWentAndCameBackIsNewAgain() {
        var listing = FolderListing(known: ["a.json"])
        #expect(listing.newNames(in: []).isEmpty)
        #expect(listing.newNames(in: ["a.json"]) == ["a.json"], "put back by a worker elsewhere")
    }

    @Test func dotNamesAreNeverNew() {
        var listing = FolderListing()
        #expect(listing.newNames(in: [".a.json.attempts", ".tmp", "x.json"]) == ["x.json"])
        #expect(!listing.known.contains(".tmp"))
    }

    @Test func namesSeenByInotifyOrAScanAreNotNew() {
        var listing = FolderListing()
        listing.saw(["x.json", ".hidden"])
        #expect(listing.newNames(in: ["x.json", "y.json"]) == ["y.json"])
    }

    @Test func aForgottenNameIsNewIfStillListed() {
        // A claim lost to another worker, which may put the job back within one interval.
        var listing = FolderListing(known: ["x.json", "y.json"])
        listing.forget("x.json")
        #expect(listing.newNames(in: ["x.json", "y.json"]) == ["x.json"])
    }

    @Test func duplicatesInAListingCountOnce() {
        var listing = FolderListing()
        #expect(listing.newNames(in: ["x.json", "x.json"]) == ["x.json"])
    }
}
