import NIOCore
import RawJSON

/// SentinelOne's error body: `{"errors":[{"code":4010010,"detail":"…","title":"…"}],"data":null}`.
enum ErrorEnvelope {
    /// `title: detail` of the first error, when the body is such an envelope.
    static func detail(in body: ByteBuffer) -> String? {
        body.withUnsafeReadableBytes { bytes -> String? in
            var scanner = JSONScanner(bytes)
            var found: String?
            try? scanner.forEachMember { scanner, key in
                guard key.matches("errors"), (try? scanner.peekKind()) == .array else { return }
                try scanner.forEachElement { scanner in
                    guard found == nil, (try? scanner.peekKind()) == .object else { return }
                    var title: String?
                    var detail: String?
                    try scanner.forEachMember { scanner, key in
                        if key.matches("title") { title = try scanner.readStringOrNull() }
                        if key.matches("detail") { detail = try scanner.readStringOrNull() }
                    }
                    found = [title, detail].compactMap { $0 }.joined(separator: ": ")
                }
            }
            return found.flatMap { $0.isEmpty ? nil : String($0.prefix(300)) }
        }
    }
}
