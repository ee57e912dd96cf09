import Testing

@testable import RawJSON

@Suite struct JSONScannerTests {
    private func validate(_ text: String) throws {
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBytes { buffer in
            var scanner = JSONScanner(buffer)
            try scanner.skipValue()
            try scanner.expectEnd()
        }
    }

    @Test(arguments: [
        "{}", "[]", "null", "true", "false", "0", "-0", "1.50", "6.02E-23", "1e+9", "123456789012345678901234567890",
        "\"\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83e\\udda0\"", " { \"a\" : [ 1 , 2 , { } ] } ",
        "\"ünïcödé 🦠 \u{2028}\"", "[[[[[]]]]]", "{\"a\":{\"b\":{\"c\":null}}}",
    ])
    func acceptsValidJSON(_ text: String) throws {
        try validate(text)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul",
        "\"unterminated", "\"bad \\x escape\"", "\"\\u12G4\"", "\"raw\nnewline\"", "\"tab\there\"", "[1] [2]",
        "NaN", "Infinity", "'single'",
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try validate(text) }
    }

    @Test func wordAtATimeCheckFindsEverySpecialByteAtEveryPosition() {
        for position in 0..<8 {
            for value in 0...255 {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 8)
                bytes[position] = UInt8(value)
                let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                let plain = (0x20..<0x80).contains(value) && value != 0x22 && value != 0x5C
                #expect(JSONScanner.arePlainStringBytes(word) == plain, "byte \(value) at \(position)")
            }
        }
    }

    @Test func findsTheEndOfAStringAndBadBytesAtAnyOffset() throws {
        for offset in 0..<20 {
            let prefix = String(repeating: "x", count: offset)
            try validate("[\"\(prefix)\", \"\(prefix)\\\"\(prefix)\"]")
            #expect(throws: JSONSyntaxError.self) { try validate("\"\(prefix)\u{01}\(prefix)\"") }
            #expect(throws: JSONSyntaxError.self) { try validate("\"\(prefix)") }
        }
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [
            [0x22, 0xC3, 0x22], [0x22, 0xC0, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], [0x22, 0xE2, 0x80, 0x22], [0x22, 0xFF, 0x22],
        ] {
            #expect(throws: JSONSyntaxError.self) {
                try bytes.withUnsafeBytes { buffer in
                    var scanner = JSONScanner(buffer)
                    try scanner.skipValue()
                }
            }
        }
    }

    @Test func rejectsNestingDeeperThanTheLimit() throws {
        let deep = String(repeating: "[", count: JSONScanner.maximumDepth + 1)
            + String(repeating: "]", count: JSONScanner.maximumDepth + 1)
        #expect(throws: JSONSyntaxError.self) { try validate(deep) }
        let allowed = String(repeating: "[", count: JSONScanner.maximumDepth)
            + String(repeating: "]", count: JSONScanner.maximumDepth)
        try validate(allowed)
    }

    @Test func reportsSpansAndMembersInOrder() throws {
        let text = #"{"id" : "42", "n":  123456789012345678901 ,"nested":{"updatedAt":"2024-01-01T00:00:00Z"},"x":[1,2]}"#
        let bytes = Array(text.utf8)
        var seen: [String] = []
        var spans: [String: String] = [:]
        try bytes.withUnsafeBytes { buffer in
            var scanner = JSONScanner(buffer)
            try scanner.forEachMember { scanner, key in
                seen.append(key.decoded())
                if key.matches("n") || key.matches("x") {
                    let span = try scanner.skipValue()
                    spans[key.decoded()] = String(decoding: buffer[span], as: UTF8.self)
                } else if key.matches("id") {
                    spans["id"] = try scanner.readString()
                }
            }
        }
        #expect(seen == ["id", "n", "nested", "x"])
        #expect(spans == ["id": "42", "n": "123456789012345678901", "x": "[1,2]"])
    }

    @Test func matchesKeysWrittenWithEscapes() throws {
        let bytes = Array(#"{"\u0069d":1,"i\"d":2}"#.utf8)
        var matched: [Bool] = []
        try bytes.withUnsafeBytes { buffer in
            var scanner = JSONScanner(buffer)
            try scanner.forEachMember { _, key in matched.append(key.matches("id")) }
        }
        #expect(matched == [true, false])
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let bytes = Array(#""a\"\\\n\u00e9\ud83e\udda0""#.utf8)
        let decoded = try bytes.withUnsafeBytes { buffer in
            var scanner = JSONScanner(buffer)
            return try scanner.readString()
        }
        #expect(decoded == "a\"\\\né🦠")
    }
}
