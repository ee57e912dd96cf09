import Testing

@testable import Pipeline

@Suite struct CheckpointStateTests {
    let t1 = "2026-01-01T00:00:01.000000Z"
    let t2 = "2026-01-01T00:00:02.000000Z"
    let t3 = "2026-01-01T00:00:03Z"

    @Test func checkpointFollowsTheWatermarkAndCollectsTies() {
        var state = CheckpointState(resumingFrom: nil)
        for (sequence, version) in [("a", t1), ("b", t1), ("c", t2), ("d", t2), ("e", t3)].enumerated() {
            state.recordFetched(sequence: UInt64(sequence), id: version.0, updatedAt: version.1)
        }
        #expect(state.advance(toWatermark: 0) == nil)
        #expect(state.advance(toWatermark: 2) == Checkpoint(updatedAt: t1, idsAtUpdatedAt: ["a", "b"]))
        #expect(state.advance(toWatermark: 3) == Checkpoint(updatedAt: t2, idsAtUpdatedAt: ["c"]))
        #expect(state.advance(toWatermark: 4) == Checkpoint(updatedAt: t2, idsAtUpdatedAt: ["c", "d"]))
        #expect(state.covers(id: "d", updatedAt: t2))
        #expect(!state.covers(id: "x", updatedAt: t2), "another threat at the same instant is new")
        #expect(!state.covers(id: "e", updatedAt: t3))
        #expect(state.covers(id: "z", updatedAt: t1), "older versions are covered")
        #expect(state.advance(toWatermark: 5) == Checkpoint(updatedAt: t3, idsAtUpdatedAt: ["e"]))
    }

    @Test func resumesFromALoadedCheckpoint() {
        var state = CheckpointState(resumingFrom: Checkpoint(updatedAt: t2, idsAtUpdatedAt: ["c"]))
        #expect(state.covers(id: "c", updatedAt: "2026-01-01T00:00:02Z"), "the same instant written differently")
        #expect(!state.covers(id: "d", updatedAt: t2))
        state.recordFetched(sequence: 0, id: "d", updatedAt: t2)
        #expect(state.advance(toWatermark: 1) == Checkpoint(updatedAt: t2, idsAtUpdatedAt: ["c", "d"]))
    }

    @Test func versionsWithoutATimestampDoNotMoveTheCheckpoint() {
        var state = CheckpointState(resumingFrom: nil)
        state.recordFetched(sequence: 0, id: "a", updatedAt: nil)
        state.recordFetched(sequence: 1, id: "b", updatedAt: "not a time")
        #expect(state.advance(toWatermark: 2) == nil)
        #expect(state.checkpoint == nil)
    }
}
