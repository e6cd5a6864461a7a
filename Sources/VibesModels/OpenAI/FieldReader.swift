//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// Reading typed fields out of a JSON object, failing with ``InvalidRequest``.
struct FieldReader {
    let object: [String: JSONValue]
    /// The prefix for field names in messages (`messages[2].`), empty at the top.
    let path: String

    init(_ object: [String: JSONValue], path: String = "") {
        self.object = object
        self.path = path
    }

    func name(_ key: String) -> String { path + key }

    /// The value, treating JSON `null` as absent.
    func value(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func string(_ key: String) throws(InvalidRequest) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw .wrongValue(name(key), expected: "a string", found: value) }
        return text
    }

    func requiredString(_ key: String, _ what: String) throws(InvalidRequest) -> String {
        guard let text = try string(key) else {
            throw InvalidRequest(field: name(key), "`\(name(key))`: required, expected \(what), found nothing")
        }
        guard !text.trimmingWhitespace().isEmpty else {
            throw InvalidRequest(field: name(key), "`\(name(key))`: expected \(what), found an empty string")
        }
        return text
    }

    func double(_ key: String) throws(InvalidRequest) -> Double? {
        guard let value = value(key) else { return nil }
        guard let number = value.doubleValue else { throw .wrongValue(name(key), expected: "a number", found: value) }
        return number
    }

    func int(_ key: String, minimum: Int = 0) throws(InvalidRequest) -> Int? {
        guard let value = value(key) else { return nil }
        let number: Int64
        switch value {
        case .int(let n): number = n
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: number = Int64(d)
        default: throw .wrongValue(name(key), expected: "an integer", found: value)
        }
        guard number >= minimum else {
            throw InvalidRequest(field: name(key), "`\(name(key))`: expected an integer of at least \(minimum), found \(number)")
        }
        return Int(number)
    }

    func bool(_ key: String) throws(InvalidRequest) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw .wrongValue(name(key), expected: "true or false", found: value) }
        return flag
    }

    func objectValue(_ key: String) throws(InvalidRequest) -> [String: JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .object(let inner) = value else { throw .wrongValue(name(key), expected: "an object", found: value) }
        return inner
    }

    func array(_ key: String, _ what: String = "an array") throws(InvalidRequest) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw .wrongValue(name(key), expected: what, found: value) }
        return items
    }

    /// A string or an array of strings, as a list (`stop`, `input`).
    func stringOrList(_ key: String) throws(InvalidRequest) -> [String]? {
        guard let value = value(key) else { return nil }
        switch value {
        case .string(let text): return [text]
        case .array(let items):
            var texts: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let text) = item else {
                    throw .wrongValue("\(name(key))[\(index)]", expected: "a string", found: item)
                }
                texts.append(text)
            }
            return texts
        default: throw .wrongValue(name(key), expected: "a string or an array of strings", found: value)
        }
    }

    /// `keep_alive`: a duration string or a number of seconds.
    func keepAlive(_ key: String = "keep_alive") throws(InvalidRequest) -> KeepAlive? {
        guard let value = value(key) else { return nil }
        switch value {
        case .string(let text): return .duration(text)
        case .int, .double: return .seconds(value.doubleValue!)
        default: throw .wrongValue(name(key), expected: "a duration string (\"5m\") or a number of seconds", found: value)
        }
    }
}
