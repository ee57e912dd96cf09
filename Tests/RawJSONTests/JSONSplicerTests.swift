import Testing

@testable import RawJSON

@Suite struct JSONSplicerTests {
    private func compact(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        bytes.withUnsafeBytes { JSONSplicer.appendCompact($0, to: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    @Test func dropsWhitespaceOutsideStringsOnly() {
        #expect(compact("{ \"a b\" :\n [ 1 ,\t\"x  y\" ] }") == #"{"a b":[1,"x  y"]}"#)
    }

    @Test func keepsEscapesAndNumbersByteForByte() {
        let text = #"{"s":"q\"\\\n\u0001","n":123456789012345678901234567890,"d":1.50,"e":6.02E-23}"#
        #expect(compact(text) == text)
    }

    @Test func writesLineAndParagraphSeparatorsAsEscapes() throws {
        let output = compact("[\"a\u{2028}b\u{2029}c\"]")
        #expect(output == #"["a\u2028b\u2029c"]"#)
        #expect(try JSONValue.parse(Array(output.utf8)) == .array([.string("a\u{2028}b\u{2029}c")]))
    }

    @Test func escapedQuoteDoesNotEndTheString() {
        #expect(compact(#"["a\" ]  ", 1 ]"#) == #"["a\" ]  ",1]"#)
    }

    @Test func stringWriterEscapesWhatJSONRequires() throws {
        var output: [UInt8] = []
        let text = "q\" b\\ n\n r\r t\t c\u{01} é 🦠 \u{2028}"
        JSONSplicer.appendString(text, to: &output)
        #expect(!output.contains(0x0A))
        #expect(try JSONValue.parse(output) == .string(text))
    }

    /// The mapped formats write strings with this writer: U+2028/U+2029 must come out escaped, as the raw format's
    /// splicer writes them, or line readers that treat them as line breaks split the record.
    @Test func stringWriterEscapesLineAndParagraphSeparators() throws {
        for text in ["\u{2028}", "a\u{2029}b", "LS \u{2028}PS \u{2029}\n", "\u{2027}\u{2028}\u{202A}"] {
            var output: [UInt8] = []
            JSONSplicer.appendString(text, to: &output)
            let written = String(decoding: output, as: UTF8.self)
            #expect(!written.contains("\u{2028}") && !written.contains("\u{2029}"), "\(written)")
            #expect(try JSONValue.parse(output) == .string(text))
        }
        var output: [UInt8] = []
        JSONSplicer.appendString("x\u{2028}y", to: &output)
        #expect(String(decoding: output, as: UTF8.self) == #""x\u2028y""#)
    }

    /// What a response reader does: validate a value with the scanner, then copy it knowing whether it was compact.
    private func scanAndCopy(_ text: String) throws -> (isCompact: Bool, copy: String) {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        let isCompact = try bytes.withUnsafeBytes { raw in
            var scanner = JSONScanner(raw)
            let (span, isCompact) = try scanner.skipCompactValue()
            JSONSplicer.appendCompact(raw, span: span, isCompact: isCompact, to: &output)
            return isCompact
        }
        return (isCompact, String(decoding: output, as: UTF8.self))
    }

    @Test func scannerTellsWhetherAValueNeedsCompacting() throws {
        #expect(try scanAndCopy(#"  {"a":[1,"x  y"],"b":"long string with spaces, commas and \" quotes"}  "#)
            == (true, #"{"a":[1,"x  y"],"b":"long string with spaces, commas and \" quotes"}"#))
        #expect(try scanAndCopy("{\"a\": [1, 2]}") == (false, #"{"a":[1,2]}"#))
        #expect(try scanAndCopy("[\"a long string before the separator \u{2028}\"]")
            == (false, #"["a long string before the separator \u2028"]"#))
        #expect(try scanAndCopy("[\"é and \u{2027} are kept as they are\"]") == (true, "[\"é and \u{2027} are kept as they are\"]"))
    }

    @Test func stringWriterCopiesPlainRunsAndEscapesEachSpecialByte() throws {
        for text in ["", "plain", "\"", "\"\"", "ends with \\", "\u{1F}starts with a control", "mid\u{0}dle"] {
            var output: [UInt8] = []
            JSONSplicer.appendString(text, to: &output)
            #expect(try JSONValue.parse(output) == .string(text))
        }
    }
}
