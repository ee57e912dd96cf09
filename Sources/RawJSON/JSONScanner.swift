/// A validating, allocation-free reader of JSON text (RFC 8259) that walks values and reports their byte spans.
///
/// It is the basis of threatpipe's fidelity: the API's values are never decoded into numbers or dictionaries, only
/// located, so they can be copied to the output exactly. The scanner reads borrowed memory; use it inside
/// `withUnsafeBytes` and do not let it escape.
public struct JSONScanner {
    /// The whole text being read.
    public let bytes: UnsafeRawBufferPointer
    /// Offset of the next byte to read.
    public private(set) var position: Int = 0
    /// How many bytes read so far a compact copy has to rewrite: insignificant whitespace, and raw U+2028/U+2029 in
    /// strings (see ``JSONSplicer``). A value during which this did not grow can be copied as it is.
    public private(set) var looseByteCount = 0
    private var depth = 0

    /// Deeper nesting than this is rejected rather than risking the stack.
    public static let maximumDepth = 512

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    // MARK: - Reading values

    /// The kind of the next value, after whitespace; does not consume it.
    public mutating func peekKind() throws -> JSONValueKind {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw error("unexpected character \(describe(bytes[position])), expected a value")
        }
    }

    /// Validates and consumes one value; returns its span (without surrounding whitespace) and whether it is
    /// already compact (``JSONSplicer/appendCompact(_:span:isCompact:to:)`` then copies it without a second look).
    public mutating func skipCompactValue() throws -> (span: Range<Int>, isCompact: Bool) {
        _ = try peekKind()
        let looseBefore = looseByteCount
        let span = try skipValue()
        return (span, looseByteCount == looseBefore)
    }

    /// Validates and consumes one value; returns its span (without surrounding whitespace).
    @discardableResult
    public mutating func skipValue() throws -> Range<Int> {
        let kind = try peekKind()
        let start = position
        switch kind {
        case .object: try forEachMember { _, _ in }
        case .array: try forEachElement { _ in }
        case .string: try skipString()
        case .number: try skipNumber()
        case .bool:
            if !consumeLiteral("true") && !consumeLiteral("false") { throw error("invalid literal") }
        case .null:
            if !consumeLiteral("null") { throw error("invalid literal") }
        }
        return start..<position
    }

    /// Reads a string value and decodes it.
    public mutating func readString() throws -> String {
        guard try peekKind() == .string else { throw error("expected a string") }
        let start = position + 1
        let hasEscapes = try skipString()
        let end = position - 1
        let body = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        if !hasEscapes { return String(decoding: body, as: UTF8.self) }
        var decoder = JSONScanner(body)
        return decoder.decodeStringBody(length: body.count)
    }

    /// Reads a string, or `null` as nil.
    public mutating func readStringOrNull() throws -> String? {
        if try peekKind() == .null {
            try skipValue()
            return nil
        }
        return try readString()
    }

    /// Reads a non-negative integer literal, or `null` as nil. Larger than `Int.max` is an error.
    public mutating func readIntegerOrNull() throws -> Int? {
        let kind = try peekKind()
        if kind == .null { _ = try skipValue(); return nil }
        guard kind == .number else { throw error("expected a number") }
        let span = try skipValue()
        guard let value = Int(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[span]), as: UTF8.self)) else {
            throw JSONSyntaxError(offset: span.lowerBound, reason: "expected an integer")
        }
        return value
    }

    /// Walks an object: `body` gets each member's key with the scanner placed on its value. A value `body` leaves
    /// unread is validated and skipped.
    public mutating func forEachMember(_ body: (inout JSONScanner, JSONKey) throws -> Void) throws {
        guard try peekKind() == .object else { throw error("expected an object") }
        try enterContainer()
        position += 1
        skipWhitespace()
        if peekByte() == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            guard peekByte() == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let keyStart = position + 1
            let hasEscapes = try skipString()
            let key = JSONKey(
                rawBytes: UnsafeRawBufferPointer(rebasing: bytes[keyStart..<(position - 1)]),
                hasEscapes: hasEscapes
            )
            skipWhitespace()
            guard peekByte() == UInt8(ascii: ":") else { throw error("expected ':' after a member name") }
            position += 1
            skipWhitespace()
            let valueStart = position
            try body(&self, key)
            if position == valueStart { try skipValue() }
            skipWhitespace()
            switch peekByte() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                depth -= 1
                return
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    /// Walks an array: `body` gets the scanner placed on each element. An element `body` leaves unread is
    /// validated and skipped.
    public mutating func forEachElement(_ body: (inout JSONScanner) throws -> Void) throws {
        guard try peekKind() == .array else { throw error("expected an array") }
        try enterContainer()
        position += 1
        skipWhitespace()
        if peekByte() == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            let elementStart = position
            try body(&self)
            if position == elementStart { try skipValue() }
            skipWhitespace()
            switch peekByte() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                depth -= 1
                return
            default: throw error("expected ',' or ']' in an array")
            }
        }
    }

    /// Checks that nothing but whitespace follows.
    public mutating func expectEnd() throws {
        skipWhitespace()
        if position != bytes.count { throw error("unexpected data after the JSON value") }
    }

    // MARK: - Internals

    @inline(__always)
    mutating func skipWhitespace() {
        let start = position
        scan: while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: break scan
            }
        }
        looseByteCount &+= position - start
    }

    @inline(__always)
    private func peekByte() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func enterContainer() throws {
        depth += 1
        if depth > Self.maximumDepth { throw error("nesting deeper than \(Self.maximumDepth)") }
    }

    private mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let matched = literal.withUTF8Buffer { expected in
            for index in 0..<count where bytes[position + index] != expected[index] { return false }
            return true
        }
        if matched { position += count }
        return matched
    }

    /// Consumes a string starting at its opening quote; returns whether it had escapes.
    @discardableResult
    private mutating func skipString() throws -> Bool {
        position += 1
        var hasEscapes = false
        while position < bytes.count {
            // Eight plain bytes at a time: printable ASCII other than '"' and '\\' (most of any string).
            while position + 8 <= bytes.count, Self.arePlainStringBytes(bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)) {
                position += 8
            }
            guard position < bytes.count else { break }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return hasEscapes
            } else if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                try skipEscape()
            } else if byte < 0x20 {
                throw error("unescaped control character \(describe(byte)) in a string")
            } else if byte < 0x80 {
                position += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw error("unterminated string")
    }

    /// Whether none of the eight bytes in `word` ends a string, starts an escape, is a control character or is
    /// outside ASCII (the classic "has a zero byte" / "has a byte less than n" bit tricks, exact for the question
    /// "any?").
    @inline(__always)
    static func arePlainStringBytes(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        let control = (word &- ones &* 0x20) & ~word
        let quote = (quotes &- ones) & ~quotes
        let backslash = (backslashes &- ones) & ~backslashes
        return (word | control | quote | backslash) & highBits == 0
    }

    private mutating func skipEscape() throws {
        guard position + 1 < bytes.count else { throw error("unterminated escape") }
        switch bytes[position + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
            UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 2
        case UInt8(ascii: "u"):
            guard position + 6 <= bytes.count else { throw error("truncated \\u escape") }
            for index in (position + 2)..<(position + 6) where hexValue(bytes[index]) == nil {
                throw JSONSyntaxError(offset: index, reason: "invalid hex digit in \\u escape")
            }
            position += 6
        default:
            throw error("invalid escape \\\(describe(bytes[position + 1]))")
        }
    }

    private mutating func skipUTF8Sequence() throws {
        let lead = bytes[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw error("invalid UTF-8 lead byte \(describe(lead))")
        }
        guard position + length <= bytes.count else { throw error("truncated UTF-8 sequence") }
        guard secondRange.contains(bytes[position + 1]) else { throw error("invalid UTF-8 sequence") }
        if lead == 0xE2, bytes[position + 1] == 0x80, bytes[position + 2] == 0xA8 || bytes[position + 2] == 0xA9 {
            looseByteCount &+= 1  // U+2028 or U+2029, which a compact copy escapes
        }
        for index in (position + 2)..<(position + length) where bytes[index] & 0xC0 != 0x80 {
            throw JSONSyntaxError(offset: index, reason: "invalid UTF-8 continuation byte")
        }
        position += length
    }

    private mutating func skipNumber() throws {
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard let first = peekByte(), isDigit(first) else { throw error("expected a digit") }
        position += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if peekByte() == UInt8(ascii: ".") {
            position += 1
            guard let digit = peekByte(), isDigit(digit) else { throw error("expected a digit after '.'") }
            skipDigits()
        }
        if let exponent = peekByte(), exponent == UInt8(ascii: "e") || exponent == UInt8(ascii: "E") {
            position += 1
            if let sign = peekByte(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { position += 1 }
            guard let digit = peekByte(), isDigit(digit) else { throw error("expected a digit in an exponent") }
            skipDigits()
        }
    }

    @inline(__always)
    private mutating func skipDigits() {
        while let byte = peekByte(), isDigit(byte) { position += 1 }
    }

    /// Decodes a validated string body (between the quotes) of `length` bytes starting at `position`.
    mutating func decodeStringBody(length: Int) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(length)
        let end = position + length
        while position < end {
            let byte = bytes[position]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                position += 1
                continue
            }
            let escaped = bytes[position + 1]
            position += 2
            switch escaped {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = readHex4()
                if (0xD800...0xDBFF).contains(scalar), position + 6 <= end,
                    bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                {
                    let saved = position
                    position += 2
                    let low = readHex4()
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        position = saved
                    }
                }
                let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                output.append(contentsOf: Array(String(unicode).utf8))
            default: output.append(escaped)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private mutating func readHex4() -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            value = value << 4 | UInt32(hexValue(bytes[position]) ?? 0)
            position += 1
        }
        return value
    }

    private func error(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: position, reason: reason)
    }
}

/// The six kinds of JSON value.
public enum JSONValueKind: Sendable, Equatable {
    case object, array, string, number, bool, null
}

@inline(__always)
private func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

@inline(__always)
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

private func describe(_ byte: UInt8) -> String {
    if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    let hex = String(byte, radix: 16, uppercase: true)
    return "0x" + (hex.count == 1 ? "0" + hex : hex)
}
