//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Walking an object member by member without building it: how the reader of Ollama's replies
/// keeps the fields it knows as it meets them.
extension JSONParser {
    /// Skips whitespace, then takes `byte` if it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Whether only whitespace is left.
    mutating func atEnd() -> Bool {
        skipSpace()
        return index == bytes.count
    }

    /// Reads an object at `index` member by member: `member` gets each key and reads its value
    /// (`false`: an error, recorded with ``fail(_:at:)`` or by the step that found it). Grammar
    /// errors as ``object(depth:)`` reports them. `false` when the object could not be read.
    mutating func forEachMember(_ member: (inout JSONParser, JSONKey) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else {
            endOrUnexpected("an object")
            return false
        }
        if take(UInt8(ascii: "}")) { return true }
        var comma: Int?
        while true {
            skipSpace()
            let quote = index
            // A key of plain ASCII is compared where it stands; any other is read as a string.
            var end = index + 1
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20, bytes[end] < 0x80 {
                end += 1
            }
            let name: JSONKey
            if quote < bytes.count, bytes[quote] == UInt8(ascii: "\""), end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                name = JSONKey(bytes: UnsafeRawBufferPointer(rebasing: bytes[(quote + 1)..<end]))
                index = end + 1
                guard take(UInt8(ascii: ":")) else {
                    endOrUnexpected("':'")
                    return false
                }
            } else {
                guard let key = key(after: comma) else { return false }
                name = JSONKey(text: key)
            }
            guard member(&self, name) else { return false }
            guard let more = separator(closing: UInt8(ascii: "}")) else { return false }
            if !more { return true }
            comma = index - 1
        }
    }
}

/// An object's key as ``JSONParser/forEachMember(_:)`` hands it over: its bytes as they stand
/// in the text when they need no unescaping, else the key read as a string.
struct JSONKey {
    private let bytes: UnsafeRawBufferPointer?
    private let text: String?

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.text = nil
    }

    init(text: String) {
        self.bytes = nil
        self.text = text
    }

    /// For `switch key { case "model": … }`.
    @inline(__always) static func ~= (word: StaticString, key: JSONKey) -> Bool { key == word }

    @inline(__always) static func == (key: JSONKey, word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard let bytes = key.bytes else { return key.text!.utf8.elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: count)) }
        guard bytes.count == count else { return false }
        for offset in 0..<count where bytes[offset] != word.utf8Start[offset] { return false }
        return true
    }
}
