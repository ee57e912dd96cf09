import Foundation
import NIOCore
import Pipeline
import RawJSON
import Testing

@testable import SentinelOne

@Suite struct ResponseParsingTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    private func response(_ text: String) -> APIResponse {
        APIResponse(status: 200, body: ByteBuffer(string: text), requestID: "rq-1")
    }

    private func fixture(_ name: String) throws -> String {
        try String(contentsOf: Self.fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    @Test func listPageKeepsEachItemExactlyAndReadsItsIdentity() throws {
        let body = """
            {"data": [
              {"id": "225494730938493804", "threatInfo": {"updatedAt": "2018-02-27T04:49:26.257525Z", "n": 123456789012345678901},
               "unknownNew": {"x": [1.50, null, "a\\nb"]}},
              {"threatInfo": null, "id": 42}
            ], "pagination": {"totalItems": 580, "nextCursor": "YWdlbnRfaWQ6NTgwMjkzODE="}, "errors": null}
            """
        let page = try ThreatListResponse.parse(response(body), path: "/threats")
        #expect(page.nextCursor == "YWdlbnRfaWQ6NTgwMjkzODE=")
        #expect(page.totalItems == 580)
        #expect(page.threats.map(\.id) == ["225494730938493804", "42"])
        #expect(page.threats[0].updatedAt == "2018-02-27T04:49:26.257525Z")
        #expect(page.threats[1].updatedAt == nil)
        #expect(
            String(decoding: page.threats[0].json, as: UTF8.self)
                == #"{"id":"225494730938493804","threatInfo":{"updatedAt":"2018-02-27T04:49:26.257525Z","n":123456789012345678901},"unknownNew":{"x":[1.50,null,"a\nb"]}}"#
        )
    }

    /// A key twice in the envelope would splice two values into one record: a malformed answer instead.
    @Test func envelopeWithAKeyTwiceIsMalformed() throws {
        let analysis = { (body: String) throws(SentinelOneError) in _ = try AnalysisResponse.parse(self.response(body), path: "/a") }
        let list = { (body: String) throws(SentinelOneError) in _ = try ThreatListResponse.parse(self.response(body), path: "/t") }
        for (body, parse) in [
            (#"{"data":{"a":1},"data":{"a":2}}"#, analysis),
            (#"{"data":null,"data":{"a":2}}"#, analysis),
            (#"{"data":[],"data":[]}"#, list),
            (#"{"data":[],"pagination":{"nextCursor":"x"},"pagination":{"nextCursor":null}}"#, list),
        ] {
            let error = #expect(throws: SentinelOneError.self) { try parse(body) }
            #expect(error?.code == .malformedResponse)
            #expect(error?.message.contains("twice") == true, "\(String(describing: error))")
        }
    }

    @Test func lastPageHasNoCursor() throws {
        let page = try ThreatListResponse.parse(response(#"{"data":[],"pagination":{"nextCursor":null,"totalItems":0}}"#), path: "/t")
        #expect(page.nextCursor == nil)
        #expect(page.threats.isEmpty)
    }

    @Test(arguments: [
        ("{\"data\":[{\"id\":\"1\"}", "malformed"),
        ("<html><body>502 Bad Gateway</body></html>", "malformed"),
        ("{\"pagination\":{\"nextCursor\":null}}", "has no data"),
        ("{\"data\":null}", "has no data"),
        ("{\"data\":{\"id\":\"1\"}}", "not an array"),
        ("{\"data\":[{\"name\":\"x\"}]}", "has no id"),
        ("{\"data\":[]} trailing", "malformed"),
    ])
    func malformedListPagesAreErrorsWithContext(_ body: String, _ message: String) {
        let error = #expect(throws: SentinelOneError.self) { try ThreatListResponse.parse(response(body), path: "/t") }
        #expect(error?.code == .malformedResponse)
        #expect(error?.requestID == "rq-1")
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test func analysisCaptureIsSplicedWithItsValuesUnchanged() throws {
        let text = try fixture("analysis-capture.json")
        let json = try AnalysisResponse.parse(response(text), path: "/analysis")
        #expect(!json.contains(0x0A))
        let expected = try #require(JSONValue.parse(Array(text.utf8))["data"])
        #expect(try JSONValue.parse(json) == expected)
        #expect(try JSONValue.parse(json)["threatInfo"]?["threatId"] == .string("1311010474425970168"))
    }

    @Test func eventsCaptureIsJoinedAndCapped() throws {
        let text = try fixture("explore-events-capture.json")
        var events = ThreatEvents()
        let page = try EventsPageResponse.append(response(text), path: "/events", to: &events, limit: nil)
        #expect(events.count == 2)
        #expect(page.nextCursor == nil)
        #expect(page.totalItems == 2)
        let joined = try JSONValue.parse(Array("[".utf8) + events.joinedJSON + Array("]".utf8))
        #expect(try joined == JSONValue.parse(Array(text.utf8))["data"])

        var capped = ThreatEvents()
        let cappedPage = try EventsPageResponse.append(response(text), path: "/events", to: &capped, limit: 1)
        #expect(capped.count == 1)
        #expect(cappedPage.droppedAny)
    }

    @Test func errorEnvelopeDetailIsReported() {
        let body = ByteBuffer(string: #"{"errors":[{"code":4010010,"detail":"Authentication failed.","title":"Authentication Failed"}],"data":null}"#)
        let error = SentinelOneClient.statusError(status: 401, path: "/threats", body: body, requestID: "r")
        #expect(error.code == .unauthorized)
        #expect(error.message.contains("Authentication Failed: Authentication failed."))
        #expect(SentinelOneClient.statusError(status: 404, path: "/x", body: ByteBuffer(), requestID: nil).code == .notFound)
        #expect(SentinelOneClient.statusError(status: 503, path: "/x", body: ByteBuffer(), requestID: nil).code == .unavailable)
        #expect(SentinelOneClient.statusError(status: 400, path: "/x", body: ByteBuffer(), requestID: nil).code == .rejected)
    }
}
