/// An object member's name as it stands in the text, compared without allocating when it has no escapes.
public struct JSONKey {
    /// The bytes between the quotes, escapes not decoded.
    public let rawBytes: UnsafeRawBufferPointer
    /// Whether the name contains a backslash escape (then it must be decoded to compare).
    public let hasEscapes: Bool

    /// True when the decoded name equals `literal`.
    public func matches(_ literal: StaticString) -> Bool {
        if hasEscapes { return decoded() == literal.description }
        let count = literal.utf8CodeUnitCount
        guard rawBytes.count == count else { return false }
        return literal.withUTF8Buffer { expected in
            for index in 0..<count where rawBytes[index] != expected[index] { return false }
            return true
        }
    }

    /// The decoded name.
    public func decoded() -> String {
        if !hasEscapes { return String(decoding: rawBytes, as: UTF8.self) }
        var scanner = JSONScanner(rawBytes)
        return scanner.decodeStringBody(length: rawBytes.count)
    }
}
