import Pipeline
import RawJSON

/// Reads a page of `GET /web/api/v2.1/threats`: each list item is located, its `id` and `threatInfo.updatedAt`
/// read, and its bytes copied compact — values are never decoded.
enum ThreatListResponse {
    static func parse(_ response: APIResponse, path: String) throws(SentinelOneError) -> ThreatPage {
        var threats: [ListedThreat] = []
        let envelope = try ResponseEnvelope.scan(response, path: path) { scanner in
            guard try scanner.peekKind() == .array else { throw ShapeError(description: "data is not an array") }
            try scanner.forEachElement { scanner in
                guard try scanner.peekKind() == .object else {
                    throw ShapeError(description: "threat \(threats.count) is not an object")
                }
                let start = scanner.position
                let looseBefore = scanner.looseByteCount
                var id: String?
                var updatedAt: String?
                try scanner.forEachMember { scanner, key in
                    if key.matches("id") {
                        id = try readIdentifier(&scanner)
                    } else if key.matches("threatInfo"), try scanner.peekKind() == .object {
                        try scanner.forEachMember { scanner, key in
                            if key.matches("updatedAt"), try scanner.peekKind() == .string {
                                updatedAt = try scanner.readString()
                            }
                        }
                    }
                }
                guard let id, !id.isEmpty else {
                    throw ShapeError(description: "threat \(threats.count) has no id")
                }
                var json: [UInt8] = []
                JSONSplicer.appendCompact(
                    scanner.bytes,
                    span: start..<scanner.position,
                    isCompact: scanner.looseByteCount == looseBefore,
                    to: &json
                )
                threats.append(ListedThreat(id: id, updatedAt: updatedAt, json: json))
            }
        }
        return ThreatPage(threats: threats, nextCursor: envelope.nextCursor, totalItems: envelope.totalItems)
    }

    /// An id as a string; a number literal is taken as written.
    static func readIdentifier(_ scanner: inout JSONScanner) throws -> String? {
        switch try scanner.peekKind() {
        case .string: return try scanner.readString()
        case .number:
            let span = try scanner.skipValue()
            return String(decoding: UnsafeRawBufferPointer(rebasing: scanner.bytes[span]), as: UTF8.self)
        default: return nil
        }
    }
}
