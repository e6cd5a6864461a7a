//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// A request that cannot be run as it is (a request file, a batch line's body): names the field,
/// what was expected and what was found (or why the field is refused). The spool writes it as
/// an `invalid_request` error.
package struct InvalidRequest: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field at fault (`model`, `messages[1].content[0].image_url.url`), or `nil` for the
    /// request as a whole.
    package var field: String?
    package var message: String

    package init(field: String?, _ message: String) {
        self.field = field
        self.message = message
    }

    package var description: String { message }

    /// "`field`: expected …, found" the value's type (`a number`): a request file's wording.
    package static func wrongType(_ field: String, expected: String, found: JSONValue) -> InvalidRequest {
        InvalidRequest(field: field, "`\(field)`: expected \(expected), found \(found.typeName)")
    }

    /// "`field`: expected …, found" the value itself where it is short (``show(_:)``): an OpenAI
    /// body's wording.
    package static func wrongValue(_ field: String, expected: String, found: JSONValue) -> InvalidRequest {
        InvalidRequest(field: field, "`\(field)`: expected \(expected), found \(show(found))")
    }

    package static func refused(_ field: String, _ why: String) -> InvalidRequest {
        InvalidRequest(field: field, "`\(field)`: \(why)")
    }

    /// A short rendering of a value for messages: strings quoted and clipped, containers by type.
    package static func show(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): "\"\(text.count > 80 ? String(text.prefix(80)) + "…" : text)\""
        case .bool(let flag): "\(flag)"
        case .int(let number): "\(number)"
        case .double(let number): "\(number)"
        default: value.typeName
        }
    }
}
