//===----------------------------------------------------------------------===//
// This source file is part of the vibes-spool project
//===----------------------------------------------------------------------===//

/// A multipart part's `Content-Disposition: form-data; name="file"; filename="x.jsonl"`.
struct FormDisposition: Equatable {
    var name: String
    var filename: String?

    init(name: String, filename: String?) {
        self.name = name
        self.filename = filename
    }

    /// Reads the header's value; `nil` when it is not `form-data` with a name.
    init?(_ value: String) {
        var parameters: [String: String] = [:]
        let items = Self.split(value)
        guard let kind = items.first, kind.trimmingSpaces.lowercased() == "form-data" else { return nil }
        for item in items.dropFirst() {
            guard let equals = item.firstIndex(of: "=") else { continue }
            let key = item[..<equals].trimmingSpaces.lowercased()
            var text = item[item.index(after: equals)...].trimmingSpaces
            if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") {
                text = String(text.dropFirst().dropLast()).replacingEscapes
            }
            parameters[key] = text
        }
        guard let name = parameters["name"] else { return nil }
        self.name = name
        self.filename = parameters["filename"]
    }

    /// Splits at `;` outside quotes.
    private static func split(_ value: String) -> [Substring] {
        var parts: [Substring] = []
        var start = value.startIndex
        var quoted = false
        var escaped = false
        for index in value.indices {
            let character = value[index]
            if escaped { escaped = false; continue }
            if character == "\\" && quoted { escaped = true } else if character == "\"" { quoted.toggle() } else if character == ";" && !quoted {
                parts.append(value[start..<index])
                start = value.index(after: index)
            }
        }
        parts.append(value[start...])
        return parts
    }
}

/// The boundary of `multipart/form-data; boundary=…`; `nil` when the type is another.
func multipartBoundary(contentType: String) -> String? {
    let items = contentType.split(separator: ";")
    guard let kind = items.first, kind.trimmingSpaces.lowercased() == "multipart/form-data" else { return nil }
    for item in items.dropFirst() {
        let pair = item.split(separator: "=", maxSplits: 1)
        guard pair.count == 2, pair[0].trimmingSpaces.lowercased() == "boundary" else { continue }
        var boundary = pair[1].trimmingSpaces
        if boundary.count >= 2, boundary.hasPrefix("\""), boundary.hasSuffix("\"") { boundary = String(boundary.dropFirst().dropLast()) }
        return (1...70).contains(boundary.utf8.count) ? boundary : nil
    }
    return nil
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    /// `\"` and `\\` in a quoted string, unescaped.
    var replacingEscapes: String {
        var out = ""
        var escaped = false
        for character in self {
            if escaped || character != "\\" {
                out.append(character)
                escaped = false
            } else {
                escaped = true
            }
        }
        return out
    }
}
