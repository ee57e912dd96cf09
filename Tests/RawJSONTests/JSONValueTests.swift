import Testing

@testable import RawJSON

@Suite struct JSONValueTests {
    @Test func roundTripsKeepingNumberLiteralsAndMemberOrder() throws {
        let text = #"{"z":1,"a":[null,true,false,-0,1.50,123456789012345678901234567890],"m":{"k":"v"},"z":2}"#
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(String(decoding: value.serialized, as: UTF8.self) == text)
        #expect(value["a"]?.arrayValue?[5] == .number("123456789012345678901234567890"))
        #expect(value["z"] == .number("1"))
    }

    @Test func differentLiteralsAreDifferentValues() throws {
        #expect(try JSONValue.parse(Array("1.5".utf8)) != JSONValue.parse(Array("1.50".utf8)))
    }
}
