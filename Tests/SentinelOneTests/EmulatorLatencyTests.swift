import AsyncHTTPClient
import Emulator
import NIOCore
import RawJSON
import TestSupport
import Testing
import NIOHTTP1

/// `--latency-ms`: every answer leaves the emulator no sooner than the latency after its request arrived, whole and
/// in order, on kept-alive connections and on ones the client asks to close.
@Suite struct EmulatorLatencyTests {
    static let latency = Duration.milliseconds(150)

    private func withEmulator(_ body: (RunningEmulator, HTTPClient) async throws -> Void) async throws {
        try await withEmulatorAndHTTPClient(threats: 20, latency: Self.latency, body)
    }

    private func get(
        _ path: String, on emulator: RunningEmulator, with httpClient: HTTPClient, token: String? = nil, close: Bool = false
    ) async throws -> (status: UInt, json: JSONValue, elapsed: Duration) {
        var request = HTTPClientRequest(url: emulator.url + path)
        request.headers.add(name: "Authorization", value: "ApiToken " + (token ?? emulator.token))
        if close { request.headers.add(name: "Connection", value: "close") }
        let started = ContinuousClock.now
        let response = try await httpClient.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 24)
        let elapsed = ContinuousClock.now - started
        return (response.status.code, try JSONValue.parse(Array(buffer: body)), elapsed)
    }

    @Test func answersOnKeptAliveConnectionsAreWholeAndNotEarly() async throws {
        try await withEmulator { emulator, httpClient in
            let dataset = emulator.api.dataset
            for index in 0..<3 {
                let answer = try await get("/web/api/v2.1/private/threats/\(dataset.id(at: index))/analysis", on: emulator, with: httpClient)
                #expect(answer.status == 200)
                #expect(answer.json["data"] == dataset.analysis(at: index))
                #expect(answer.elapsed >= Self.latency)
            }
            let list = try await get("/web/api/v2.1/threats?limit=20", on: emulator, with: httpClient)
            #expect(list.json["data"]?.arrayValue?.count == 20)
            #expect(list.elapsed >= Self.latency)
        }
    }

    @Test func concurrentAnswersEachWaitTheirOwnLatency() async throws {
        try await withEmulator { emulator, httpClient in
            let dataset = emulator.api.dataset
            try await withThrowingTaskGroup(of: (Int, JSONValue?, Duration).self) { group in
                for index in (0..<10).filter({ !dataset.isDeleted(at: $0) }) {
                    group.addTask {
                        let answer = try await get("/web/api/v2.1/threats/\(dataset.id(at: index))/explore/events?limit=1000", on: emulator, with: httpClient)
                        return (index, answer.json["data"], answer.elapsed)
                    }
                }
                for try await (index, data, elapsed) in group {
                    #expect(data?.arrayValue?.count == min(dataset.eventCount(at: index), 1000))
                    #expect(elapsed >= Self.latency)
                }
            }
        }
    }

    @Test func errorsAndClosingConnectionsAreDelayedToo() async throws {
        try await withEmulator { emulator, httpClient in
            let refused = try await get("/web/api/v2.1/threats", on: emulator, with: httpClient, token: "wrong-token")
            #expect(refused.status == 401)
            #expect(refused.json["errors"]?.arrayValue?.count == 1)
            #expect(refused.elapsed >= Self.latency)
            let closing = try await get("/web/api/v2.1/threats?limit=5", on: emulator, with: httpClient, close: true)
            #expect(closing.status == 200)
            #expect(closing.json["data"]?.arrayValue?.count == 5)
            #expect(closing.elapsed >= Self.latency)
        }
    }
}
