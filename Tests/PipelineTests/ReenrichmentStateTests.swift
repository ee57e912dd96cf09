import Pipeline
import RawJSON
import Testing

/// The checkpoint's list of versions to enrich again: filled by delivered incomplete records, emptied by the
/// complete record of the same version or by a newer version, kept across restarts in the checkpoint document.
struct ReenrichmentStateTests {
    let t1 = "2026-01-01T00:00:01.000000Z"
    let t2 = "2026-01-01T00:00:02.000000Z"

    @Test func anIncompleteDeliveredVersionIsPendingUntilItsCompleteRecordIsDelivered() throws {
        var state = CheckpointProgress(resumingFrom: nil, reenrichmentDelay: .zero)
        state.recordFetched(sequence: 0, id: "a", updatedAt: t1)
        state.recordFetched(sequence: 1, id: "b", updatedAt: t1)
        state.markIncomplete(sequence: 1)
        // Not delivered yet: nothing is pending (a crash re-lists it anyway).
        #expect(state.checkpoint?.pendingEnrichment == nil)
        state.fold(toWatermark: 2)
        let pending = try #require(state.checkpoint?.pendingEnrichment)
        #expect(pending.map(\.id) == ["b"] && pending[0].updatedAt == t1 && pending[0].attempts == 0)
        // It survives a restart through the checkpoint.
        var resumed = CheckpointProgress(resumingFrom: state.checkpoint, reenrichmentDelay: .zero)
        let due = resumed.dueEnrichments(now: .now, limit: 10)
        #expect(due.map(\.id) == ["b"])
        // A failed attempt pushes it back and counts.
        resumed.enrichmentFailedAgain(id: "b", notBefore: RFC3339Timestamp(microseconds: RFC3339Timestamp.now.microseconds + 60_000_000))
        #expect(resumed.dueEnrichments(now: .now, limit: 10).isEmpty)
        #expect(resumed.checkpoint?.pendingEnrichment?.first?.attempts == 1)
        // The re-enriched record of the same version, delivered, ends it; the checkpoint itself does not move back.
        resumed.recordFetched(sequence: 0, id: "b", updatedAt: t1, reenrichment: true)
        resumed.fold(toWatermark: 1)
        #expect(resumed.checkpoint?.pendingEnrichment == nil)
        #expect(resumed.checkpoint?.updatedAt == t1 && resumed.checkpoint?.idsAtUpdatedAt == ["a", "b"])
    }

    @Test func aNewerVersionSupersedesAPendingOneAndTheListIsBounded() {
        var state = CheckpointProgress(resumingFrom: nil)
        state.recordFetched(sequence: 0, id: "a", updatedAt: t1)
        state.markIncomplete(sequence: 0)
        state.fold(toWatermark: 1)
        #expect(state.checkpoint?.pendingEnrichment?.count == 1)
        // Not due before the delay.
        #expect(state.dueEnrichments(now: .now, limit: 10).isEmpty)
        state.recordFetched(sequence: 1, id: "a", updatedAt: t2)
        state.fold(toWatermark: 2)
        #expect(state.checkpoint?.pendingEnrichment == nil, "the newer version replaced it")
        // Beyond the bound the oldest are dropped, and counted.
        let count = CheckpointProgress.maximumPendingEnrichments + 3
        for index in 0..<count {
            let sequence = UInt64(2 + index)
            state.recordFetched(sequence: sequence, id: "t\(index)", updatedAt: RFC3339Timestamp(microseconds: 1_800_000_000_000_000 + Int64(index)).description)
            state.markIncomplete(sequence: sequence)
        }
        state.fold(toWatermark: UInt64(2 + count))
        #expect(state.checkpoint?.pendingEnrichment?.count == CheckpointProgress.maximumPendingEnrichments)
        #expect(state.droppedEnrichments == 3)
        #expect(state.checkpoint?.pendingEnrichment?.first?.id == "t3", "the oldest went")
    }
}
