//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

import VibesModels

/// A cursor page of objects, as OpenAI lists them: `{"object": "list", "data", "first_id",
/// "last_id", "has_more"}`.
package struct ListPage: Sendable, Equatable {
    package var data: [JSONValue]
    package var ids: [String]
    package var hasMore: Bool

    package init(data: [JSONValue], ids: [String], hasMore: Bool) {
        self.data = data
        self.ids = ids
        self.hasMore = hasMore
    }

    package var json: JSONValue {
        [
            "object": "list", "data": .array(data), "has_more": .bool(hasMore),
            "first_id": ids.first.map(JSONValue.string) ?? .null, "last_id": ids.last.map(JSONValue.string) ?? .null,
        ]
    }

    /// Which of `ids` (sorted newest first, that is descending: ids begin with their time) a
    /// page shows: those older than `after` (a cursor that need not exist any more), at most
    /// `limit`, and whether more follow.
    package static func window(_ ids: [String], after: String?, limit: Int) -> (ids: ArraySlice<String>, hasMore: Bool) {
        let start = after.map { cursor in ids.firstIndex { $0 < cursor } ?? ids.endIndex } ?? ids.startIndex
        let end = min(ids.endIndex, start + limit)
        return (ids[start..<end], end < ids.endIndex)
    }
}
