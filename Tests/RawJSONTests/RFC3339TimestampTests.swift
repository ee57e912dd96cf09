import Testing

@testable import RawJSON

@Suite struct RFC3339TimestampTests {
    @Test func parsesTheAPIFormsAndFormatsMicroseconds() throws {
        let micro = try #require(RFC3339Timestamp("2022-04-06T08:54:17.194122Z"))
        #expect(micro.description == "2022-04-06T08:54:17.194122Z")
        let seconds = try #require(RFC3339Timestamp("2021-12-14T20:23:46Z"))
        #expect(seconds.description == "2021-12-14T20:23:46.000000Z")
        #expect(seconds.formatted(fractionDigits: 0) == "2021-12-14T20:23:46Z")
        let offset = try #require(RFC3339Timestamp("2021-12-14T21:23:46.5+01:00"))
        #expect(offset.description == "2021-12-14T20:23:46.500000Z")
        #expect(RFC3339Timestamp("1970-01-01T00:00:00Z")?.microseconds == 0)
        #expect(RFC3339Timestamp("2000-02-29T00:00:00Z")?.formatted(fractionDigits: 3) == "2000-02-29T00:00:00.000Z")
    }

    @Test(arguments: ["", "2022-04-06", "2022-13-01T00:00:00Z", "2022-04-06T08:54:17", "yesterday", "2022-04-06T08:54:17.Z"])
    func rejectsOtherText(_ text: String) {
        #expect(RFC3339Timestamp(text) == nil)
    }
}
