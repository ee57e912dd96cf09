/// The console API token. Its description is redacted so that it cannot reach a log line or an error message.
public struct APIToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let secret: String

    /// - Parameter secret: the token; surrounding whitespace (a file's trailing newline) is removed.
    public init?(_ secret: String) {
        let trimmed = secret.filter { !$0.isWhitespace }
        guard !trimmed.isEmpty else { return nil }
        self.secret = trimmed
    }

    /// Whether every byte is visible ASCII (0x21…0x7E), the only bytes a header value carries safely.
    public var isHeaderSafe: Bool { secret.utf8.allSatisfy { (0x21...0x7E).contains($0) } }

    /// The `Authorization` header value.
    var authorization: String { "ApiToken " + secret }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
