import RawJSON
import NIOCore

extension SentinelOneClient {
    /// How many threats `query`'s filters match: one `countOnly` request, read from `pagination.totalItems`; nil when
    /// the answer does not say. Throws like any request (401, unreachable…).
    public func countThreats(_ query: ThreatListQuery) async throws(SentinelOneError) -> Int? {
        let response = try await get(SentinelOneThreatSource.threatsPath, query: query.countQueryString)
        guard case .number(let total)? = (try? JSONValue.parse(response.body.readableBytesView))?["pagination"]?["totalItems"]
        else { return nil }
        return Int(total)
    }
}
