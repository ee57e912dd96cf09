/// A JSON value that keeps what the text said: numbers stay as their literal (so integers beyond 2^53 and
/// decimals like `1.50` survive), and object members keep their order and duplicates.
///
/// The pipeline itself never decodes API values into this type; the emulator builds its data with it, and tests
/// use it to compare what was served with what was written.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number, as the literal that stood in the text.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// The value of the first member named `key`, when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// Parses one JSON text.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBytes { buffer in
            var scanner = JSONScanner(buffer)
            let value = try read(&scanner)
            try scanner.expectEnd()
            return value
        }
    }

    /// Reads the value the scanner stands on.
    public static func read(_ scanner: inout JSONScanner) throws -> JSONValue {
        switch try scanner.peekKind() {
        case .null:
            try scanner.skipValue()
            return .null
        case .bool:
            let span = try scanner.skipValue()
            return .bool(span.count == 4)
        case .number:
            let span = try scanner.skipValue()
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: scanner.bytes[span]), as: UTF8.self))
        case .string:
            return .string(try scanner.readString())
        case .array:
            var elements: [JSONValue] = []
            try scanner.forEachElement { scanner in elements.append(try read(&scanner)) }
            return .array(elements)
        case .object:
            var members: [JSONMember] = []
            try scanner.forEachMember { scanner, key in
                members.append(JSONMember(key.decoded(), try read(&scanner)))
            }
            return .object(members)
        }
    }

    /// Writes the value as compact JSON text.
    public func write(to output: inout [UInt8]) {
        switch self {
        case .null: output.append(contentsOf: Self.nullBytes)
        case .bool(let value): output.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
        case .number(let literal): output.append(contentsOf: literal.utf8)
        case .string(let value): JSONSplicer.appendString(value, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONSplicer.appendString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                member.value.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// The value as compact JSON text.
    public var serialized: [UInt8] {
        var output: [UInt8] = []
        write(to: &output)
        return output
    }

    private static let nullBytes = Array("null".utf8)
    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
}

/// One member of a JSON object.
public struct JSONMember: Equatable, Sendable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByStringInterpolation, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    /// Members in the order written.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(elements.map { JSONMember($0.0, $0.1) })
    }
}
