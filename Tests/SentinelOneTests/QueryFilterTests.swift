import Testing

@testable import SentinelOne

@Suite struct QueryFilterTests {
    @Test func catalogueHoldsEveryDocumentedThreatParameter() {
        let catalog = FilterCatalog.threats
        #expect(catalog.parameters.count == 102)
        #expect(catalog.parameters["siteIds"] == .array)
        #expect(catalog.parameters["resolved"] == .boolean)
        #expect(catalog.parameters["limit"] == .number)
        #expect(catalog.parameters["updatedAt__gte"] == .string)
        #expect(catalog.parameters["k8sPodLabels__contains"] == .array)
        #expect(Set(catalog.managed.keys).isSubset(of: Set(catalog.parameters.keys)))
        #expect(FilterCatalog.exploreEvents.parameters.count == 11)
    }

    @Test func typesValuesFromTheCatalogue() throws {
        let filters = try QueryFilter.parse(
            ["siteIds=1, 2", "resolved=TRUE", "updatedAt__gte=2024-05-01T00:00:00Z", "query=a,b c", "siteIds=3"],
            catalog: .threats
        )
        #expect(filters == [
            QueryFilter(name: "siteIds", value: "1,2,3"),
            QueryFilter(name: "resolved", value: "true"),
            QueryFilter(name: "updatedAt__gte", value: "2024-05-01T00:00:00Z"),
            QueryFilter(name: "query", value: "a,b c"),
        ])
    }

    @Test(arguments: [
        ("siteId=1", "did you mean 'siteIds'?"),
        ("confidenceLevel=malicious", "did you mean 'confidenceLevels'?"),
        ("updatedat__gte=2024-01-01T00:00:00Z", "did you mean 'updatedAt__gte'?"),
        ("nonsenseparameter=1", "unknown filter 'nonsenseparameter'"),
        ("resolved=yes", "takes true or false"),
        ("skipCount=true", "set by threatpipe"),
        ("limit=5", "use --page-size"),
        ("cursor=abc", "set by threatpipe"),
        ("createdAt__gt=yesterday", "RFC 3339"),
        ("sortOrder=up", "asc or desc"),
        ("siteIds=1,,2", "non-empty"),
        ("noequals", "expected name=value"),
        ("displayName=", "needs a value"),
    ])
    func rejectsBadFiltersClearly(_ option: String, _ message: String) {
        let error = #expect(throws: FilterError.self) { try QueryFilter.parse([option], catalog: .threats) }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "no error")")
    }

    @Test func singleValuedFilterGivenTwiceIsAnError() {
        #expect(throws: FilterError.self) {
            try QueryFilter.parse(["sortBy=createdAt", "sortBy=updatedAt"], catalog: .threats)
        }
    }

    @Test func eventFiltersUseTheirOwnCatalogue() throws {
        let filters = try QueryFilter.parse(["eventTypes=Process Creation,File Creation"], catalog: .exploreEvents)
        #expect(filters == [QueryFilter(name: "eventTypes", value: "Process Creation,File Creation")])
        #expect(throws: FilterError.self) { try QueryFilter.parse(["siteIds=1"], catalog: .exploreEvents) }
    }
}
