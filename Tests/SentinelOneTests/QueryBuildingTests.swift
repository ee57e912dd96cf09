import Testing

@testable import SentinelOne

@Suite struct QueryBuildingTests {
    @Test func threatQueryKeepsFiltersOnEveryPageAndEncodesValues() throws {
        let query = try ThreatListQuery(
            filters: QueryFilter.parse(["siteIds=1,2", "query=a&b c/é", "updatedAt__gte=2024-01-01T00:00:00+01:00"], catalog: .threats),
            pageSize: 500
        )
        let first = query.queryString(cursor: nil)
        #expect(first == "siteIds=1,2&query=a%26b%20c%2F%C3%A9&updatedAt__gte=2024-01-01T00%3A00%3A00%2B01%3A00&limit=500")
        let next = query.queryString(cursor: "YWJj+/=")
        #expect(next.hasPrefix(first + "&"))
        #expect(next.hasSuffix("&skipCount=true&cursor=YWJj%2B%2F%3D"))
    }

    @Test(arguments: [0, 1001, -5])
    func pageSizeOutsideTheAPIsRangeIsRejected(_ size: Int) {
        #expect(throws: FilterError.self) { try ThreatListQuery(pageSize: size) }
        #expect(throws: FilterError.self) { try ExploreEventsQuery(pageSize: size) }
    }

    @Test func eventsQueryAsksForTheTotalOnlyWhenCappedAndNeverMoreThanRemain() throws {
        let uncapped = try ExploreEventsQuery(pageSize: 1000)
        #expect(uncapped.queryString(cursor: nil, remaining: nil) == "limit=1000&skipCount=true")
        let capped = try ExploreEventsQuery(pageSize: 1000, maximumEvents: 5)
        #expect(capped.queryString(cursor: nil, remaining: 5) == "limit=5")
        #expect(capped.queryString(cursor: "c", remaining: 2) == "limit=2&skipCount=true&cursor=c")
    }

    @Test func consoleURLIsCheckedAndNormalised() throws {
        #expect(try ConsoleURL("https://usea1.sentinelone.net/").base == "https://usea1.sentinelone.net")
        #expect(try ConsoleURL(" HTTPS://x.example:8443/web/api/v2.1 ").base == "https://x.example:8443")
        #expect(try ConsoleURL("http://127.0.0.1:8080").url(path: "/a", query: "b=1") == "http://127.0.0.1:8080/a?b=1")
        for bad in ["", "usea1.sentinelone.net", "ftp://x", "https://", "https://x?y=1", "http://x:99999", "http://u@x"] {
            #expect(throws: ConsoleURLError.self, "\(bad)") { try ConsoleURL(bad) }
        }
    }

    @Test func tokenNeverShowsInText() throws {
        let token = try #require(APIToken("  s3cr3t-token\n"))
        #expect("\(token)" == "<redacted>")
        #expect(String(reflecting: token) == "<redacted>")
        #expect(token.authorization == "ApiToken s3cr3t-token")
        #expect(APIToken(" \n") == nil)
    }
}
