/// Copies validated JSON values into an output buffer so that each value stays on one line and keeps its exact
/// meaning: insignificant whitespace is dropped, everything else is copied byte for byte, except that U+2028 and
/// U+2029 inside strings are written as `\u2028` / `\u2029` (the same characters; some line readers treat the raw
/// forms as line breaks).
public enum JSONSplicer {
    /// Appends the value in `span` (already validated by ``JSONScanner``) to `output`.
    public static func appendCompact(_ span: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        // Fast path: a value with no whitespace outside strings and no U+2028/2029 is copied as is.
        if isAlreadyCompact(span) {
            output.append(contentsOf: span)
            return
        }
        output.reserveCapacity(output.count + span.count)
        var inString = false
        var index = 0
        let count = span.count
        while index < count {
            let byte = span[index]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    output.append(byte)
                    output.append(span[index + 1])
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") {
                    inString = false
                } else if byte == 0xE2, index + 2 < count, span[index + 1] == 0x80,
                    span[index + 2] == 0xA8 || span[index + 2] == 0xA9
                {
                    output.append(contentsOf: span[index + 2] == 0xA8 ? lineSeparatorEscape : paragraphSeparatorEscape)
                    index += 3
                    continue
                }
                output.append(byte)
            } else {
                switch byte {
                case 0x20, 0x0A, 0x0D, 0x09: break
                case UInt8(ascii: "\""):
                    inString = true
                    output.append(byte)
                default: output.append(byte)
                }
            }
            index += 1
        }
    }

    /// Appends `bytes[span]` compacted; see ``appendCompact(_:to:)``.
    public static func appendCompact(_ bytes: UnsafeRawBufferPointer, span: Range<Int>, to output: inout [UInt8]) {
        appendCompact(UnsafeRawBufferPointer(rebasing: bytes[span]), to: &output)
    }

    /// Appends `bytes[span]` compacted, copying it as it is when the scanner that validated it found it compact
    /// already (``JSONScanner/skipCompactValue()``): no second pass over the bytes.
    public static func appendCompact(
        _ bytes: UnsafeRawBufferPointer,
        span: Range<Int>,
        isCompact: Bool,
        to output: inout [UInt8]
    ) {
        let value = UnsafeRawBufferPointer(rebasing: bytes[span])
        if isCompact { output.append(contentsOf: value) } else { appendCompact(value, to: &output) }
    }

    /// Appends `string` as a JSON string literal (quotes included).
    public static func appendString(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            output.reserveCapacity(output.count + utf8.count + 1)
            var runStart = 0  // bytes copied as they are, in runs
            for index in 0..<utf8.count {
                let byte = utf8[index]
                if byte == 0xE2, index + 2 < utf8.count, utf8[index + 1] == 0x80, utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9 {
                    // U+2028/U+2029: escaped as in appendCompact, so every format keeps a record on one line.
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                    output.append(contentsOf: utf8[index + 2] == 0xA8 ? lineSeparatorEscape : paragraphSeparatorEscape)
                    runStart = index + 3
                    continue
                }
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                output.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(byte)
                case 0x0A: output.append(UInt8(ascii: "n"))
                case 0x0D: output.append(UInt8(ascii: "r"))
                case 0x09: output.append(UInt8(ascii: "t"))
                case 0x08: output.append(UInt8(ascii: "b"))
                case 0x0C: output.append(UInt8(ascii: "f"))
                default:
                    output.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    output.append(hexDigits[Int(byte >> 4)])
                    output.append(hexDigits[Int(byte & 0x0F)])
                }
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        output.append(UInt8(ascii: "\""))
    }

    private static func isAlreadyCompact(_ span: UnsafeRawBufferPointer) -> Bool {
        var inString = false
        var index = 0
        let count = span.count
        while index < count {
            let byte = span[index]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") { inString = false }
                if byte == 0xE2 { return false }
            } else {
                switch byte {
                case 0x20, 0x0A, 0x0D, 0x09: return false
                case UInt8(ascii: "\""): inString = true
                default: break
                }
            }
            index += 1
        }
        return true
    }

    private static let lineSeparatorEscape = Array("\\u2028".utf8)
    private static let paragraphSeparatorEscape = Array("\\u2029".utf8)
    private static let hexDigits = Array("0123456789abcdef".utf8)
}
