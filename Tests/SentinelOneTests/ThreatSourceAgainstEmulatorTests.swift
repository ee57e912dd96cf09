import AsyncHTTPClient
import Emulator
import Logging
import Pipeline
import RawJSON
import TestSupport
import Testing

@testable import SentinelOne

/// The client against the emulator over HTTP on loopback.
@Suite struct ThreatSourceAgainstEmulatorTests {
    private func withSource(
        threats: Int,
        token: String? = nil,
        filters: [String] = [],
        pageSize: Int = 1000,
        eventsPageSize: Int = 1000,
        maximumEvents: Int? = nil,
        _ body: (SentinelOneThreatSource, RunningEmulator) async throws -> Void
    ) async throws {
        try await withEmulatorAndHTTPClient(threats: threats) { emulator, httpClient in
            var configuration = SentinelOneClient.Configuration(
                consoleURL: try ConsoleURL(emulator.url),
                token: APIToken(token ?? emulator.token)!
            )
            configuration.maximumAttempts = 1
            let client = SentinelOneClient(configuration: configuration, httpClient: httpClient, logger: Logger(label: "test"))
            let source = SentinelOneThreatSource(
                client: client,
                threatQuery: try ThreatListQuery(filters: QueryFilter.parse(filters, catalog: .threats), pageSize: pageSize),
                eventsQuery: try ExploreEventsQuery(pageSize: eventsPageSize, maximumEvents: maximumEvents)
            )
            try await body(source, emulator)
        }
    }

    private func allThreats(_ source: SentinelOneThreatSource) async throws -> (threats: [ListedThreat], pages: Int) {
        var threats: [ListedThreat] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await source.fetchPage(cursor: cursor)
            threats += page.threats
            pages += 1
            cursor = page.nextCursor
        } while cursor != nil
        return (threats, pages)
    }

    @Test func followsCursorsWithTheSameFiltersOnEveryPage() async throws {
        try await withSource(threats: 700, filters: ["siteIds=1286405255257023125,1286405255257023127", "sortBy=updatedAt"], pageSize: 37) { source, emulator in
            let (threats, pages) = try await allThreats(source)
            let dataset = emulator.api.dataset
            let expected = (0..<700).filter {
                ["1286405255257023125", "1286405255257023127"].contains(dataset.siteID(at: $0))
            }
            #expect(threats.count == expected.count)
            #expect(Set(threats.map(\.id)) == Set(expected.map { dataset.id(at: $0) }))
            #expect(pages == (expected.count + 36) / 37)
            let updated = threats.compactMap { $0.updatedAt.flatMap(RFC3339Timestamp.init) }
            #expect(updated == updated.sorted(), "sorted by updatedAt across pages")
            for threat in threats.prefix(50) {
                let index = try #require(dataset.index(ofID: threat.id))
                #expect(try JSONValue.parse(threat.json) == dataset.listItem(at: index))
            }
        }
    }

    @Test func joinsEveryEventPageInOrder() async throws {
        try await withSource(threats: 10, eventsPageSize: 7) { source, emulator in
            let dataset = emulator.api.dataset
            #expect(dataset.eventCount(at: 5) == 1203)
            let threat = ListedThreat(id: dataset.id(at: 5), updatedAt: nil, json: [])
            let events = try #require(await source.fetchEvents(of: threat).value)
            #expect(events.count == 1203)
            #expect(!events.truncated)
            let joined = try JSONValue.parse(Array("[".utf8) + events.joinedJSON + Array("]".utf8))
            #expect(joined == .array((0..<1203).map { dataset.event(threat: 5, number: $0) }))
            let requests = emulator.api.requestCounts.events
            #expect(requests == (1203 + 6) / 7)
        }
    }

    @Test func capsEventsAndSaysHowManyExist() async throws {
        try await withSource(threats: 10, eventsPageSize: 2, maximumEvents: 5) { source, emulator in
            let threat = ListedThreat(id: emulator.api.dataset.id(at: 5), updatedAt: nil, json: [])
            let events = try #require(await source.fetchEvents(of: threat).value)
            #expect(events.count == 5)
            #expect(events.truncated)
            #expect(events.totalItems == 1203)
            #expect(emulator.api.requestCounts.events == 3)
        }
    }

    @Test func deletedThreatIsNotFoundNotAnError() async throws {
        try await withSource(threats: 10) { source, emulator in
            #expect(emulator.api.dataset.isDeleted(at: 7))
            let threat = ListedThreat(id: emulator.api.dataset.id(at: 7), updatedAt: nil, json: [])
            guard case .notFound(let failure) = await source.fetchAnalysis(of: threat) else {
                Issue.record("expected notFound")
                return
            }
            #expect(failure.httpStatus == 404)
            #expect(failure.requestID != nil)
            guard case .notFound = await source.fetchEvents(of: threat) else {
                Issue.record("expected notFound")
                return
            }
        }
    }

    @Test func wrongTokenIsUnauthorizedAndNotInTheMessage() async throws {
        try await withSource(threats: 10, token: "wrong-token-value") { source, _ in
            let error = await #expect(throws: SentinelOneError.self) { try await source.fetchPage(cursor: nil) }
            #expect(error?.code == .unauthorized)
            #expect(error?.httpStatus == 401)
            #expect(error?.description.contains("wrong-token-value") == false)
            #expect(error?.description.contains("Authentication Failed") == true)
        }
    }

    @Test func cursorSentWithOtherFiltersIsRejected() async throws {
        try await withSource(threats: 50, filters: ["sortBy=createdAt"], pageSize: 10) { source, emulator in
            let first = try await source.fetchPage(cursor: nil)
            let other = SentinelOneThreatSource(
                client: source.client,
                threatQuery: try ThreatListQuery(filters: QueryFilter.parse(["sortBy=updatedAt"], catalog: .threats), pageSize: 10),
                eventsQuery: source.eventsQuery
            )
            let error = await #expect(throws: SentinelOneError.self) { try await other.fetchPage(cursor: first.nextCursor) }
            #expect(error?.code == .rejected)
            #expect(error?.httpStatus == 400)
        }
    }
}
