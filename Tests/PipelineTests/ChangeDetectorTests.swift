import NIOConcurrencyHelpers
import RawJSON
import Testing

@testable import Pipeline

/// What a version says changed: compared exactly as the console sent the values, against the version delivered
/// before, new only after the state began, and the same when a version is delivered again.
@Suite struct ChangeDetectorTests {
    static let detector = ChangeDetector(tracked: .defaults)
    static let horizon = RFC3339Timestamp("2026-06-01T00:00:00Z")

    static func threat(
        _ updatedAt: String, created: String = "2026-07-01T00:00:00Z", status: String = "unresolved", verdict: String = "undefined",
        confidence: String = "\"malicious\"", extra: String = ""
    ) -> ListedThreat {
        let json = """
            {"id":"t1","mitigationStatus":[{"action":"kill","status":"success"}],"threatInfo":{"createdAt":"\(created)","updatedAt":"\(updatedAt)",\
            "incidentStatus":"\(status)","analystVerdict":"\(verdict)","confidenceLevel":\(confidence)\(extra)},"agentRealtimeInfo":{"agentNetworkStatus":"connected"}}
            """
        return ListedThreat(id: "t1", updatedAt: updatedAt, json: Array(json.utf8))
    }

    static func text(_ field: ThreatChange.Field) -> String {
        "\(field.path):\(field.from.map { String(decoding: $0, as: UTF8.self) } ?? "absent")->\(field.to.map { String(decoding: $0, as: UTF8.self) } ?? "absent")"
    }

    @Test func aThreatIsNewOnlyWhenCreatedSinceTheStateBeganAndUnknownOtherwise() {
        let created = Self.detector.detect(Self.threat("2026-07-01T00:00:00Z"), previous: nil, horizon: Self.horizon, now: 0)
        #expect(created.change.kind == .new)
        let older = Self.detector.detect(Self.threat("2026-07-01T00:00:00Z", created: "2026-01-01T00:00:00Z"), previous: nil, horizon: Self.horizon, now: 0)
        #expect(older.change.kind == .unknown)
        let noHorizon = Self.detector.detect(Self.threat("2026-07-01T00:00:00Z"), previous: nil, horizon: nil, now: 0)
        #expect(noHorizon.change.kind == .unknown)
    }

    @Test func aTrackedFieldThatDiffersIsSaidWithItsValuesAsServedAndTheTransitionToResolvedClosesOnce() {
        let first = Self.detector.detect(Self.threat("2026-07-01T00:00:00Z"), previous: nil, horizon: Self.horizon, now: 0)
        let verdict = Self.detector.detect(Self.threat("2026-07-02T00:00:00Z", verdict: "true_positive"), previous: first.entry, horizon: Self.horizon, now: 0)
        #expect(verdict.change.kind == .changed)
        #expect(verdict.change.previousUpdatedAt == "2026-07-01T00:00:00Z")
        #expect(verdict.change.fields.map(Self.text) == [#"threatInfo.analystVerdict:"undefined"->"true_positive""#])
        #expect(!verdict.change.closes)
        let resolved = Self.detector.detect(
            Self.threat("2026-07-03T00:00:00Z", status: "resolved", verdict: "true_positive"), previous: verdict.entry, horizon: Self.horizon, now: 0
        )
        #expect(resolved.change.closes)
        #expect(resolved.change.fields.map(Self.text) == [#"threatInfo.incidentStatus:"unresolved"->"resolved""#])
        let later = Self.detector.detect(
            Self.threat("2026-07-04T00:00:00Z", status: "resolved", verdict: "true_positive", extra: #","note":"x""#), previous: resolved.entry,
            horizon: Self.horizon, now: 0
        )
        #expect(later.change.kind == .unchanged, "an untracked field only")
        #expect(!later.change.closes, "Close once, not on every later version")
    }

    @Test func valuesAreComparedExactlyAsSentNotAsNumbersOrStrings() {
        let first = Self.detector.detect(Self.threat("2026-07-01T00:00:00Z", confidence: "1.50"), previous: nil, horizon: Self.horizon, now: 0)
        let same = Self.detector.detect(Self.threat("2026-07-02T00:00:00Z", confidence: "1.50"), previous: first.entry, horizon: Self.horizon, now: 0)
        #expect(same.change.kind == .unchanged)
        let respelled = Self.detector.detect(Self.threat("2026-07-03T00:00:00Z", confidence: "1.5"), previous: same.entry, horizon: Self.horizon, now: 0)
        #expect(respelled.change.fields.map(Self.text) == ["threatInfo.confidenceLevel:1.50->1.5"])
        let null = Self.detector.detect(Self.threat("2026-07-04T00:00:00Z", confidence: "null"), previous: respelled.entry, horizon: Self.horizon, now: 0)
        #expect(null.change.fields.map(Self.text) == ["threatInfo.confidenceLevel:1.5->null"], "null is a value, not absent")
    }

    @Test func theSameVersionDeliveredAgainSaysTheChangeItSaid() {
        let first = Self.detector.detect(Self.threat("2026-07-01T00:00:00Z"), previous: nil, horizon: Self.horizon, now: 0)
        let second = Self.detector.detect(Self.threat("2026-07-02T00:00:00Z", status: "in_progress"), previous: first.entry, horizon: Self.horizon, now: 5)
        let again = Self.detector.detect(Self.threat("2026-07-02T00:00:00Z", status: "in_progress"), previous: second.entry, horizon: Self.horizon, now: 9)
        #expect(again.change == second.change)
        #expect(again.entry.lastSeen == 9)
    }

    /// The issue's console: `…:01Z`, then `…:01.500000Z` (resolved), then `…:02.000000Z` (a note only). The same
    /// instant written with more or fewer decimals is the same version; the third says nothing changed.
    @Test func theSameInstantWrittenWithOtherDecimalsIsTheSameVersion() {
        let first = Self.detector.detect(Self.threat("2026-07-01T00:00:01Z"), previous: nil, horizon: Self.horizon, now: 0)
        let resolved = Self.detector.detect(Self.threat("2026-07-01T00:00:01.500000Z", status: "resolved"), previous: first.entry, horizon: Self.horizon, now: 1)
        #expect(resolved.change.closes)
        let note = Self.detector.detect(Self.threat("2026-07-01T00:00:02.000000Z", status: "resolved"), previous: resolved.entry, horizon: Self.horizon, now: 2)
        #expect(note.change.kind == .unchanged && !note.change.closes)
        #expect(note.change.previousUpdatedAt == "2026-07-01T00:00:01.500000Z")
        // Delivered again with fewer decimals (and more): the change it said, not a new comparison.
        let again = Self.detector.detect(Self.threat("2026-07-01T00:00:01.5Z", status: "resolved"), previous: resolved.entry, horizon: Self.horizon, now: 3)
        #expect(again.change == resolved.change)
        let padded = Self.detector.detect(Self.threat("2026-07-01T00:00:02.000000000Z", status: "resolved"), previous: note.entry, horizon: Self.horizon, now: 4)
        #expect(padded.change == note.change)
    }

    /// A 256 KiB verdict (the issue saw 6 MB; any size over the cap takes the same path, and a smaller one keeps the test quick under the sanitizer): kept, compared and said by size and SHA-256, so neither the entry nor the change repeats it.
    @Test func aValueOverTheCapIsKeptComparedAndSaidByItsSizeAndDigest() throws {
        let huge = String(repeating: "x", count: 256 << 10)
        let first = Self.detector.detect(Self.threat("2026-07-01T00:00:00Z"), previous: nil, horizon: Self.horizon, now: 0)
        let big = Self.detector.detect(Self.threat("2026-07-02T00:00:00Z", verdict: huge), previous: first.entry, horizon: Self.horizon, now: 1)
        #expect(big.entry.encoded.count < 4096, "the entry keeps the digest, not the value")
        var json: [UInt8] = []
        big.change.appendJSON(to: &json)
        #expect(json.count < 4096, "the change says sizes and digests")
        let field = try #require(JSONValue.parse(json)["fields"]?.arrayValue?.first)
        #expect(field["path"]?.stringValue == "threatInfo.analystVerdict")
        #expect(field["truncated"] == .bool(true))
        #expect(field["fromSize"] == .number("11") && field["fromSha256"]?.stringValue == TrackedValueDigest.sha256Hex(Array("\"undefined\"".utf8)))
        #expect(field["toSize"] == .number("\((256 << 10) + 2)"))
        #expect(field["toSha256"]?.stringValue == TrackedValueDigest.sha256Hex(Array("\"\(huge)\"".utf8)))
        #expect(field["from"] == nil && field["to"] == nil)
        // SHA-256 itself, against the standard's test vector.
        #expect(TrackedValueDigest.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")

        // Stored and read back: the same value again is unchanged, another one of the same size is a change.
        let stored = try ThreatStateEntry(decoding: big.entry.encoded)
        #expect(stored == big.entry)
        let same = Self.detector.detect(Self.threat("2026-07-03T00:00:00Z", verdict: huge), previous: stored, horizon: Self.horizon, now: 2)
        #expect(same.change.kind == .unchanged)
        let other = Self.detector.detect(
            Self.threat("2026-07-04T00:00:00Z", verdict: String(repeating: "y", count: 256 << 10)), previous: stored, horizon: Self.horizon, now: 3
        )
        #expect(other.change.fields.map(\.path) == ["threatInfo.analystVerdict"])
        // Back under the cap: the new value whole on one side, the digest on the other.
        let small = Self.detector.detect(Self.threat("2026-07-05T00:00:00Z", verdict: "true_positive"), previous: other.entry, horizon: Self.horizon, now: 4)
        var smallJSON: [UInt8] = []
        small.change.appendJSON(to: &smallJSON)
        let back = try #require(JSONValue.parse(smallJSON)["fields"]?.arrayValue?.first)
        #expect(back["truncated"] == .bool(true) && back["toSize"] == .number("15"))
        // An entry stored before values were bounded, holding the value whole: compared as its digest.
        let legacy = ThreatStateEntry(
            id: "t1", updatedAt: "2026-07-02T00:00:00Z", paths: stored.paths,
            values: stored.values.merging(["threatInfo.analystVerdict": Array("\"\(huge)\"".utf8)]) { $1 },
            resolved: stored.resolved, change: stored.change, lastSeen: 1
        )
        #expect(Self.detector.detect(Self.threat("2026-07-03T00:00:00Z", verdict: huge), previous: legacy, horizon: Self.horizon, now: 2).change.kind == .unchanged)
    }

    @Test func aPathTrackedSinceTheEntryWasStoredIsNotComparedAndTrackReplacesTheDefaults() throws {
        let narrow = ChangeDetector(tracked: try TrackedFields(["threatInfo.incidentStatus"]))
        let first = narrow.detect(Self.threat("2026-07-01T00:00:00Z"), previous: nil, horizon: Self.horizon, now: 0)
        let verdict = narrow.detect(Self.threat("2026-07-02T00:00:00Z", verdict: "true_positive"), previous: first.entry, horizon: Self.horizon, now: 0)
        #expect(verdict.change.kind == .unchanged, "the verdict is not tracked")
        let wide = Self.detector.detect(Self.threat("2026-07-03T00:00:00Z", verdict: "false_positive"), previous: verdict.entry, horizon: Self.horizon, now: 0)
        #expect(wide.change.kind == .unchanged, "the verdict was not in the stored entry: not compared")
        #expect(throws: TrackedFieldsError.self) { try TrackedFields(["threatInfo..x"]) }
        #expect(throws: TrackedFieldsError.self) { try TrackedFields([]) }
    }

    @Test func anEntryRoundTripsThroughItsDocument() throws {
        let first = Self.detector.detect(Self.threat("2026-07-01T00:00:00Z"), previous: nil, horizon: Self.horizon, now: 0)
        let second = Self.detector.detect(Self.threat("2026-07-02T00:00:00Z", status: "resolved", confidence: "null"), previous: first.entry, horizon: Self.horizon, now: 7)
        let decoded = try ThreatStateEntry(decoding: second.entry.encoded)
        #expect(decoded.encoded == second.entry.encoded)
        #expect(decoded.values == second.entry.values && decoded.change.closes == second.entry.change.closes)
        #expect(throws: ThreatStateError.self) { try ThreatStateEntry(decoding: Array("{\"v\":2}".utf8)) }
        var json: [UInt8] = []
        second.change.appendJSON(to: &json)
        #expect(String(decoding: json, as: UTF8.self) == #"{"kind":"changed","previousUpdatedAt":"2026-07-01T00:00:00Z","fields":[{"path":"threatInfo.incidentStatus","from":"unresolved","to":"resolved"},{"path":"threatInfo.confidenceLevel","from":"malicious","to":null}]}"#)
    }
}

/// The ledger stores a version's entry only once every sink acknowledged it, and a pass that fails forgets what it
/// did not deliver.
@Suite struct ChangeLedgerTests {
    actor MemoryStateStore: ThreatStateStore {
        var entries: [String: ThreatStateEntry] = [:]
        var saves = 0
        nonisolated var location: String { "memory" }
        func open() async throws -> RFC3339TimestampText { "2026-06-01T00:00:00Z" }
        func entry(for id: String) async throws -> ThreatStateEntry? { entries[id] }
        func save(_ saved: [ThreatStateEntry]) async throws {
            saves += 1
            for entry in saved { entries[entry.id] = entry }
        }
        func forget(notSeenSince lastSeen: Int64) async throws -> Int { 0 }
        func count() async throws -> Int { entries.count }
        func close() async {}
    }

    @Test func anEntryIsStoredOnlyOnceItsVersionIsAcknowledgedAndTheNextVersionComparesWithTheOneInFlight() async throws {
        let store = MemoryStateStore()
        let ledger = ChangeLedger(store: store, tracked: .defaults, emit: .all, retention: .seconds(86_400))
        try await ledger.open()
        var first = ChangeDetectorTests.threat("2026-07-01T00:00:00Z")
        first.sequence = 0
        var second = ChangeDetectorTests.threat("2026-07-02T00:00:00Z", status: "resolved")
        second.sequence = 1
        #expect(try await ledger.detect(first).change.kind == .new)
        #expect(try await ledger.detect(second).change.fields.count == 1, "compared with the version handed to the sinks before")
        try await ledger.persist()
        #expect(await store.entries.isEmpty, "nothing acknowledged: nothing stored")
        ledger.acknowledged(below: 1)
        try await ledger.persist()
        #expect(await store.entries["t1"]?.updatedAt == "2026-07-01T00:00:00Z")
        // The pass fails before the second version is acknowledged: the next pass compares with the first again.
        try await ledger.endPass()
        #expect(ledger.heldCount == 0)
        second.sequence = 0
        let again = try await ledger.detect(second)
        #expect(again.change.previousUpdatedAt == "2026-07-01T00:00:00Z")
        ledger.acknowledged(below: 1)
        try await ledger.endPass()
        #expect(await store.entries["t1"]?.updatedAt == "2026-07-02T00:00:00Z")
    }

    /// A listed threat `id` with sequence number `sequence`.
    static func threat(_ id: String, sequence: UInt64) -> ListedThreat {
        let json = """
            {"id":"\(id)","threatInfo":{"createdAt":"2026-07-01T00:00:00Z","updatedAt":"2026-07-01T00:00:00Z","incidentStatus":"unresolved"}}
            """
        var threat = ListedThreat(id: id, updatedAt: "2026-07-01T00:00:00Z", json: Array(json.utf8))
        threat.sequence = sequence
        return threat
    }

    /// Enrichment finishes out of order: records reach the sinks as 5, 0, 1, 2, 3, 4. With the watermark at 5 every
    /// entry below it is stored — they were left behind 5 (and lost to a kill, or to a failed pass) when the ledger
    /// kept them in write order.
    @Test func entriesWrittenOutOfOrderAreStoredOnceTheWatermarkPassesThem() async throws {
        let store = MemoryStateStore()
        let ledger = ChangeLedger(store: store, tracked: .defaults, emit: .all, retention: .seconds(86_400))
        try await ledger.open()
        for sequence in [5, 0, 1, 2, 3, 4] as [UInt64] { _ = try await ledger.detect(Self.threat("t\(sequence)", sequence: sequence)) }
        ledger.acknowledged(below: 5)
        try await ledger.persist()
        #expect(await Set(store.entries.keys) == ["t0", "t1", "t2", "t3", "t4"])
        // A failed pass keeps what was acknowledged and covered, forgets only what was not delivered.
        for sequence in [7, 6] as [UInt64] { _ = try await ledger.detect(Self.threat("t\(sequence)", sequence: sequence)) }
        ledger.acknowledged(below: 7)
        try await ledger.endPass()
        #expect(await Set(store.entries.keys) == ["t0", "t1", "t2", "t3", "t4", "t5", "t6"])
        #expect(ledger.heldCount == 0)
    }

    /// Two versions of one threat in one pass, the later acknowledged first, then a crash: the later one's entry is
    /// stored at its acknowledgement (above the watermark), so delivered again it says the change it said — against
    /// the earlier version — not the two changes folded into one.
    @Test func aLaterVersionAcknowledgedFirstIsStoredAndSaysItsChangeAgainAfterACrash() async throws {
        let store = MemoryStateStore()
        let ledger = ChangeLedger(store: store, tracked: .defaults, emit: .all, retention: .seconds(86_400))
        try await ledger.open()
        var base = ChangeDetectorTests.threat("2026-07-01T00:00:00Z")
        base.sequence = 0
        _ = try await ledger.detect(base)
        ledger.acknowledged(below: 1)
        try await ledger.endPass()
        var first = ChangeDetectorTests.threat("2026-07-02T00:00:00Z", verdict: "true_positive")
        first.sequence = 0
        var second = ChangeDetectorTests.threat("2026-07-03T00:00:00Z", status: "resolved", verdict: "true_positive")
        second.sequence = 1
        _ = try await ledger.detect(first)
        let said = try await ledger.detect(second).change
        #expect(said.fields.map(\.path) == ["threatInfo.incidentStatus"])
        ledger.acknowledged(sequences: [1])
        try await ledger.persist()
        // The process dies here: the first version was never acknowledged.
        let restarted = ChangeLedger(store: store, tracked: .defaults, emit: .all, retention: .seconds(86_400))
        try await restarted.open()
        second.sequence = 0
        #expect(try await restarted.detect(second).change == said, "the change it said, not verdict and status folded")
    }

    /// A store whose saves fail until healed; says each attempt.
    actor FailingStateStore: ThreatStateStore {
        var entries: [String: ThreatStateEntry] = [:]
        var failing = true
        let attempts: AsyncStream<Void>
        private let attempted: AsyncStream<Void>.Continuation
        init() { (attempts, attempted) = AsyncStream.makeStream() }
        nonisolated var location: String { "the full disk" }
        func open() async throws -> RFC3339TimestampText { "2026-06-01T00:00:00Z" }
        func entry(for id: String) async throws -> ThreatStateEntry? { entries[id] }
        func save(_ saved: [ThreatStateEntry]) async throws {
            defer { attempted.yield() }
            if failing { throw ThreatStateError(message: "disk full") }
            for entry in saved { entries[entry.id] = entry }
        }
        func heal() { failing = false }
        func forget(notSeenSince lastSeen: Int64) async throws -> Int { 0 }
        func count() async throws -> Int { entries.count }
        func close() async {}
    }

    /// While state saves fail, no record goes to the sinks (the next one waits in ``ChangeLedger/detect(_:)``), the
    /// save is tried again every second, and delivery resumes when it succeeds; after the limit the run stops with
    /// an error that names the store (exit 65).
    @Test(.timeLimit(.minutes(1))) func aFailingSavePausesDeliveryUntilItHealsOrTheLimitStopsTheRun() async throws {
        let store = FailingStateStore()
        let ledger = ChangeLedger(store: store, tracked: .defaults, emit: .all, retention: .seconds(86_400), saveFailureLimit: .seconds(30))
        try await ledger.open()
        _ = try await ledger.detect(Self.threat("t0", sequence: 0))
        ledger.acknowledged(below: 1)
        var attempts = store.attempts.makeAsyncIterator()
        await #expect(throws: ThreatStateError.self) { try await ledger.persist() }
        _ = await attempts.next()
        #expect(ledger.isPaused)
        let handed = NIOLockedValueBox(false)
        let next = Task {
            defer { handed.withLockedValue { $0 = true } }
            return try await ledger.detect(Self.threat("t1", sequence: 1))
        }
        _ = await attempts.next()  // the paused detect's own retry, a second later: still failing
        #expect(!handed.withLockedValue { $0 }, "no record handed to the sinks while saves fail")
        #expect(ledger.isPaused)
        await store.heal()
        _ = try await next.value
        #expect(!ledger.isPaused)
        #expect(await store.entries["t0"] != nil, "the acknowledged entry kept in memory was stored once the save healed")

        let stuck = FailingStateStore()
        let stopping = ChangeLedger(store: stuck, tracked: .defaults, emit: .all, retention: .seconds(86_400), saveFailureLimit: .milliseconds(1500))
        try await stopping.open()
        _ = try await stopping.detect(Self.threat("t0", sequence: 0))
        stopping.acknowledged(below: 1)
        await #expect(throws: ThreatStateError.self) { try await stopping.persist() }
        let error = await #expect(throws: ThreatStateError.self) { try await stopping.detect(Self.threat("t1", sequence: 1)) }
        #expect(error?.kind == .storage)
        #expect(error?.message.contains("the full disk") == true, "\(String(describing: error))")
    }
}
