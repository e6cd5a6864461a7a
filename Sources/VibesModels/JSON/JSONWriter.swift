//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Writes JSON member by member, in the order given: files whose keys keep a documented order
/// (envelopes, batch output lines, a batch's progress file) and the chat body sent to Ollama.
/// Values go through ``JSONValue``'s writer. Compact, slashes not escaped.
package struct JSONWriter: Sendable {
    /// What is written so far; a caller writing to a file may take it and empty it.
    package var bytes: [UInt8] = []
    /// Whether the next member or element needs a comma before it.
    private var afterValue = false

    package init() {}

    /// `"name":` (after a comma when a member came before); the value is the caller's to write.
    package mutating func key(_ name: String) {
        if afterValue { bytes.append(UInt8(ascii: ",")) }
        JSONValue.write(string: name, into: &bytes)
        bytes.append(UInt8(ascii: ":"))
        afterValue = false
    }

    package mutating func member(_ name: String, _ value: JSONValue) {
        key(name)
        value.write(into: &bytes)
        afterValue = true
    }

    /// The member, unless `value` is `nil` (left out, as `Encodable` leaves out a `nil`).
    package mutating func member(_ name: String, ifPresent value: JSONValue?) {
        if let value { member(name, value) }
    }

    /// Opens an object: a member's value when `name` is given, else a top-level value or an
    /// array's element.
    package mutating func beginObject(_ name: String? = nil) {
        open(name, UInt8(ascii: "{"))
    }

    package mutating func endObject() {
        close(UInt8(ascii: "}"))
    }

    package mutating func beginArray(_ name: String? = nil) {
        open(name, UInt8(ascii: "["))
    }

    package mutating func endArray() {
        close(UInt8(ascii: "]"))
    }

    /// Marks a value the caller wrote itself after ``key(_:)`` (such as a string streamed in).
    package mutating func endValue() {
        afterValue = true
    }

    private mutating func open(_ name: String?, _ bracket: UInt8) {
        if let name {
            key(name)
        } else if afterValue {
            bytes.append(UInt8(ascii: ","))
        }
        bytes.append(bracket)
        afterValue = false
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        afterValue = true
    }
}
