import NIOConcurrencyHelpers
import RawJSON

/// The three endpoints' answers, independent of the HTTP server: query parameters in, status and JSON bytes out.
public final class EmulatorAPI: Sendable {
    /// The console as it started; live mode adds threats after these.
    public let initialDataset: ThreatDataset
    /// The largest `limit` accepted, as on a real console.
    public let maximumPageSize = 1000
    let live: LiveChanges
    private let counters = NIOLockedValueBox(RequestCounts())
    private let waiters = NIOLockedValueBox<[(until: @Sendable (RequestCounts) -> Bool, continuation: CheckedContinuation<Void, Never>)]>([])

    /// The hostile console's data-shape faults (cursor cycles, large analyses).
    let faults: FaultPlan

    public init(dataset: ThreatDataset, versionsLogPath: String? = nil, faults: FaultPlan = FaultPlan()) {
        self.initialDataset = dataset
        self.faults = faults
        self.live = LiveChanges(initialCount: dataset.count, versionsLogPath: versionsLogPath)
    }

    /// The console now: the initial threats plus those added since.
    public var dataset: ThreatDataset { ThreatDataset(count: live.count, seed: initialDataset.seed) }

    /// A threat's current `updatedAt`.
    public func updatedAt(at index: Int) -> RFC3339Timestamp {
        live.override(at: index)?.updatedAt ?? initialDataset.updatedAt(at: index)
    }

    /// A threat's current list item: the generated one, with the latest live update applied.
    public func listItem(at index: Int) -> JSONValue {
        applyingLiveVersion(to: dataset.listItem(at: index), version: live.override(at: index), addedAt: live.addedAt(index))
    }

    /// Adds and updates threats (live mode); stamped with `now`, the `late` updates `lateBy` earlier.
    public func change(added: Int, updated: Int, now: RFC3339Timestamp, late: Int = 0, lateBy: Duration = .seconds(2)) {
        live.change(added: added, updated: updated, now: now, late: late, lateBy: lateBy, seed: initialDataset.seed)
    }

    /// Updates the threat at `index` (its next version in a live threat's life: a verdict, in progress, resolved,
    /// then versions that change nothing tracked), stamped with `now`.
    public func update(at index: Int, now: RFC3339Timestamp = .now) {
        live.update(index, now: now)
    }

    /// Deletes threats from the console (by position): they are no longer listed and their analysis and events
    /// answer 404 — what `audit` reports as deleted upstream.
    public func delete(at indices: [Int]) { live.remove(indices) }

    /// Stops live changes.
    public func freeze() { live.freeze() }

    /// Every (id, updatedAt) version served in a list answer so far.
    public var servedVersions: Set<ServedVersion> { live.served }

    private func applyingLiveVersion(to value: JSONValue, version: (number: Int, updatedAt: RFC3339Timestamp)?, addedAt: RFC3339Timestamp?) -> JSONValue {
        guard let version, case .object(var members) = value,
            let infoIndex = members.firstIndex(where: { $0.key == "threatInfo" }),
            case .object(var info) = members[infoIndex].value
        else { return value }
        // A live threat's life, version by version: created (1), a verdict set (2), in progress (3), resolved (4);
        // later versions change nothing tracked.
        let status = version.number <= 2 ? "unresolved" : version.number == 3 ? "in_progress" : "resolved"
        for position in info.indices {
            switch info[position].key {
            case "updatedAt": info[position].value = .string(version.updatedAt.description)
            case "incidentStatus": info[position].value = .string(status)
            case "createdAt": if let addedAt { info[position].value = .string(addedAt.description) }
            case "analystVerdict": info[position].value = .string(version.number >= 2 ? "true_positive" : "undefined")
            default: break
            }
        }
        members[infoIndex].value = .object(info)
        return .object(members)
    }

    /// Requests answered so far, by endpoint.
    public var requestCounts: RequestCounts { counters.withLockedValue { $0 } }

    /// Returns once the emulator has answered at least `count` requests in all: lets a test act at a point of an
    /// export's progress (take a broker down after the 500th request) without guessing times.
    public func waitForRequests(atLeast count: Int) async {
        await wait(for: count, listOnly: false)
    }

    /// Returns once at least `count` passes over the threat list began (list requests without a cursor).
    public func waitForListPasses(atLeast count: Int) async {
        await wait(for: count, listOnly: true)
    }

    /// Returns once at least `count` passes over the threat list filtered to each of `siteIDs` began (list requests
    /// without a cursor whose `siteIds` is that site): a pass of a shard begins only after its previous one ended, so
    /// two passes of every shard's site say each shard finished its first.
    public func waitForListPasses(atLeast count: Int, ofEachSite siteIDs: [String]) async {
        await wait { counts in siteIDs.allSatisfy { counts.firstPagesBySite[$0, default: 0] >= count } }
    }

    private func wait(for count: Int, listOnly: Bool) async {
        await wait { counts in (listOnly ? counts.firstPages : counts.total) >= count }
    }

    private func wait(until reached: @escaping @Sendable (RequestCounts) -> Bool) async {
        await withCheckedContinuation { continuation in
            let already = waiters.withLockedValue { waiters -> Bool in
                if reached(requestCounts) { return true }
                waiters.append((reached, continuation))
                return false
            }
            if already { continuation.resume() }
        }
    }

    private func count(_ update: (inout RequestCounts) -> Void) {
        let counts = counters.withLockedValue { counts -> RequestCounts in
            update(&counts)
            return counts
        }
        let ready = waiters.withLockedValue { waiters -> [CheckedContinuation<Void, Never>] in
            let ready = waiters.filter { $0.until(counts) }.map(\.continuation)
            waiters.removeAll { $0.until(counts) }
            return ready
        }
        ready.forEach { $0.resume() }
    }

    /// Counts a request refused before reaching an endpoint (a wrong token).
    func recordRejected() {
        count { $0.rejected += 1 }
    }

    /// A request answered 429 by the `limit=R` fault (not counted among the endpoints' requests).
    func recordThrottled() {
        counters.withLockedValue { $0.throttled += 1 }
    }

    /// `GET /web/api/v2.1/threats`.
    func threats(_ parameters: [(String, String)]) throws(EmulatorRequestError) -> [UInt8] {
        let isFirstPage = value("cursor", in: parameters) == nil
        count {
            $0.threats += 1
            if isFirstPage {
                $0.firstPages += 1
                if let sites = value("siteIds", in: parameters) { $0.firstPagesBySite[sites, default: 0] += 1 }
            }
        }
        let selection = try ThreatListSelection(parameters: parameters)
        let limit = try pageLimit(parameters, defaultLimit: 10)
        let snapshot = live.snapshot()
        let dataset = ThreatDataset(count: snapshot.count, seed: initialDataset.seed)
        let updatedAt = { (index: Int) in snapshot.overrides[index]?.updatedAt ?? self.initialDataset.updatedAt(at: index) }
        let selected = selection.select(from: dataset, updatedAt: updatedAt).filter { !snapshot.removed.contains($0.index) }
        let queryHash = EmulatorCursor.hash(selection.fingerprint)
        var start = 0
        if let text = value("cursor", in: parameters) {
            guard let cursor = EmulatorCursor(encoded: text), cursor.queryHash == queryHash else {
                throw .invalid("cursor: invalid or expired cursor")
            }
            start = selection.position(after: cursor, in: selected)
        }
        let end = min(start + limit, selected.count)
        var body = Array("{\"data\":[".utf8)
        var served: [(version: ServedVersion, created: RFC3339Timestamp?)] = []
        for position in start..<end {
            if position > start { body.append(UInt8(ascii: ",")) }
            let index = selected[position].index
            applyingLiveVersion(to: dataset.listItem(at: index), version: snapshot.overrides[index], addedAt: live.addedAt(index)).write(to: &body)
            served.append((ServedVersion(id: dataset.id(at: index), updatedAt: updatedAt(index).description), snapshot.created[index]))
        }
        live.recordServed(served)
        var nextCursor: String?
        if end < selected.count, end > start {
            let last = selected[end - 1]
            nextCursor = EmulatorCursor(sortValue: last.value, index: last.index, queryHash: queryHash).encoded
        }
        if faults.has(.cursorCycle), start >= 2 * limit, limit <= selected.count {
            // A→B→A: from the third page on, the next cursor is the one that led to the second page.
            let first = selected[limit - 1]
            nextCursor = EmulatorCursor(sortValue: first.value, index: first.index, queryHash: queryHash).encoded
        }
        let total = value("skipCount", in: parameters) == "true" ? nil : selected.count
        appendPagination(nextCursor: nextCursor, totalItems: total, to: &body)
        return body
    }

    /// `GET /web/api/v2.1/private/threats/{id}/analysis`.
    func analysis(threatID: String) throws(EmulatorRequestError) -> [UInt8] {
        count { $0.analysis += 1 }
        let index = try liveIndex(threatID)
        var body = Array("{\"data\":".utf8)
        var analysis = applyingLiveVersion(to: dataset.analysis(at: index), version: live.override(at: index), addedAt: live.addedAt(index))
        if faults.enlargesAnalysis(ofThreatAt: index), case .object(var members) = analysis {
            members.append(JSONMember("padding", .string(String(repeating: "x", count: 2 * 1024 * 1024))))
            analysis = .object(members)
        }
        analysis.write(to: &body)
        body.append(UInt8(ascii: "}"))
        return body
    }

    /// `GET /web/api/v2.1/threats/{id}/explore/events`.
    func events(threatID: String, _ parameters: [(String, String)]) throws(EmulatorRequestError) -> [UInt8] {
        count { $0.events += 1 }
        let index = try liveIndex(threatID)
        let limit = try pageLimit(parameters, defaultLimit: 10)
        var numbers = Array(0..<dataset.eventCount(at: index))
        if let types = value("eventTypes", in: parameters) {
            let wanted = Set(types.split(separator: ",").map(String.init))
            numbers = numbers.filter { wanted.contains(dataset.event(threat: index, number: $0)["eventType"]?.stringValue ?? "") }
        }
        var start = 0
        if let text = value("cursor", in: parameters) {
            guard let cursor = EmulatorCursor(encoded: text), cursor.queryHash == UInt64(index),
                cursor.index <= numbers.count
            else {
                throw .invalid("cursor: invalid or expired cursor")
            }
            start = cursor.index
        }
        let end = min(start + limit, numbers.count)
        var body = Array("{\"data\":[".utf8)
        for position in start..<end {
            if position > start { body.append(UInt8(ascii: ",")) }
            dataset.event(threat: index, number: numbers[position]).write(to: &body)
        }
        var nextCursor = end < numbers.count
            ? EmulatorCursor(sortValue: 0, index: end, queryHash: UInt64(index)).encoded : nil
        if faults.has(.eventsCursorCycle), start >= 2 * limit {
            nextCursor = EmulatorCursor(sortValue: 0, index: limit, queryHash: UInt64(index)).encoded
        }
        let total = value("skipCount", in: parameters) == "true" ? nil : numbers.count
        appendPagination(nextCursor: nextCursor, totalItems: total, to: &body)
        return body
    }

    private func liveIndex(_ threatID: String) throws(EmulatorRequestError) -> Int {
        guard let index = dataset.index(ofID: threatID), !dataset.isDeleted(at: index), !live.isRemoved(index) else {
            throw .notFound(threatID)
        }
        return index
    }

    private func pageLimit(_ parameters: [(String, String)], defaultLimit: Int) throws(EmulatorRequestError) -> Int {
        guard let text = value("limit", in: parameters) else { return defaultLimit }
        guard let limit = Int(text), (1...maximumPageSize).contains(limit) else {
            throw .invalid("limit: must be between 1 and \(maximumPageSize)")
        }
        return limit
    }

    private func value(_ name: String, in parameters: [(String, String)]) -> String? {
        parameters.last { $0.0 == name }?.1
    }

    private func appendPagination(nextCursor: String?, totalItems: Int?, to body: inout [UInt8]) {
        body.append(contentsOf: "],\"pagination\":{\"nextCursor\":".utf8)
        if let nextCursor { JSONSplicer.appendString(nextCursor, to: &body) } else { body.append(contentsOf: "null".utf8) }
        body.append(contentsOf: ",\"totalItems\":".utf8)
        body.append(contentsOf: (totalItems.map(String.init) ?? "null").utf8)
        body.append(contentsOf: "}}".utf8)
    }

    /// The body of an error answer.
    static func errorBody(_ error: EmulatorRequestError) -> [UInt8] {
        var body = Array("{\"errors\":[{\"code\":\(error.code),\"detail\":".utf8)
        JSONSplicer.appendString(error.detail, to: &body)
        body.append(contentsOf: ",\"title\":".utf8)
        JSONSplicer.appendString(error.title, to: &body)
        body.append(contentsOf: "}],\"data\":null,\"pagination\":null}".utf8)
        return body
    }
}

/// Requests answered by endpoint.
public struct RequestCounts: Sendable, Equatable {
    public var threats = 0
    public var analysis = 0
    public var events = 0
    public var rejected = 0
    /// Requests answered 429 by the `limit=R` fault.
    public var throttled = 0
    /// List requests without a cursor: each starts a pass over the list (a poll, in `run`).
    public var firstPages = 0
    /// Of those, by the request's `siteIds` filter (as sent).
    public var firstPagesBySite: [String: Int] = [:]

    public init(threats: Int = 0, analysis: Int = 0, events: Int = 0, rejected: Int = 0, firstPages: Int = 0) {
        self.firstPages = firstPages
        self.threats = threats
        self.analysis = analysis
        self.events = events
        self.rejected = rejected
    }

    public var total: Int { threats + analysis + events + rejected }
}
