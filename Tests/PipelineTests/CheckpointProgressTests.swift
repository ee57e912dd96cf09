import Testing

@testable import Pipeline

@Suite struct CheckpointProgressTests {
    let t1 = "2026-01-01T00:00:01.000000Z"
    let t2 = "2026-01-01T00:00:02.000000Z"
    let t3 = "2026-01-01T00:00:03Z"

    @Test func checkpointFollowsTheWatermarkAndCollectsTies() {
        var state = CheckpointProgress(resumingFrom: nil)
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
        var state = CheckpointProgress(resumingFrom: Checkpoint(updatedAt: t2, idsAtUpdatedAt: ["c"]))
        #expect(state.covers(id: "c", updatedAt: "2026-01-01T00:00:02Z"), "the same instant written differently")
        #expect(!state.covers(id: "d", updatedAt: t2))
        state.recordFetched(sequence: 0, id: "d", updatedAt: t2)
        #expect(state.advance(toWatermark: 1) == Checkpoint(updatedAt: t2, idsAtUpdatedAt: ["c", "d"]))
    }

    @Test func versionsWithoutATimestampDoNotMoveTheCheckpoint() {
        var state = CheckpointProgress(resumingFrom: nil)
        state.recordFetched(sequence: 0, id: "a", updatedAt: nil)
        state.recordFetched(sequence: 1, id: "b", updatedAt: "not a time")
        #expect(state.advance(toWatermark: 2) == nil)
        #expect(state.checkpoint == nil)
    }

    /// With an overlap, a poll starts that long before the checkpoint; of what it lists below the checkpoint, only
    /// versions never delivered (they became visible late) are new — none delivered already comes again.
    @Test func overlapDeliversLateVersionsAndNothingTwice() {
        let t0 = "2026-01-01T00:00:00.000000Z"
        let late = "2026-01-01T00:00:02.500000Z"
        var state = CheckpointProgress(resumingFrom: nil, overlap: .seconds(2))
        for (sequence, version) in [("a", t0), ("b", t1), ("c", t2), ("d", t3)].enumerated() {
            state.recordFetched(sequence: UInt64(sequence), id: version.0, updatedAt: version.1)
        }
        _ = state.fold(toWatermark: 4)
        let checkpoint = state.checkpoint
        #expect(checkpoint?.updatedAt == t3 && checkpoint?.idsAtUpdatedAt == ["d"])
        #expect(checkpoint?.deliveredInOverlap?.map(\.id) == ["b", "c", "d"], "versions within 2s of the checkpoint")
        #expect(state.pollStart == "2026-01-01T00:00:01.000000Z")

        // The next poll, resumed from the saved checkpoint: what it lists again is covered, the late version is not.
        let resumed = CheckpointProgress(resumingFrom: checkpoint, overlap: .seconds(2))
        #expect(resumed.covers(id: "b", updatedAt: t1))
        #expect(resumed.covers(id: "c", updatedAt: t2))
        #expect(resumed.covers(id: "d", updatedAt: t3))
        #expect(!resumed.covers(id: "x", updatedAt: late), "visible late, never delivered: delivered now")
        #expect(!resumed.covers(id: "c", updatedAt: late), "a newer version of a delivered threat is new")
        #expect(resumed.covers(id: "y", updatedAt: t0), "before the window: covered as before")

        // Delivering the late version does not move the checkpoint back; it joins the window's versions.
        var next = resumed
        next.recordFetched(sequence: 0, id: "x", updatedAt: late)
        _ = next.fold(toWatermark: 1)
        #expect(next.checkpoint?.updatedAt == t3)
        #expect(next.checkpoint?.deliveredInOverlap?.contains(Checkpoint.Version(id: "x", updatedAt: late)) == true)
        #expect(CheckpointProgress(resumingFrom: next.checkpoint, overlap: .seconds(2)).covers(id: "x", updatedAt: late))
    }

    /// The checkpoint stored one precision, the console lists another: still the same versions, in both directions.
    @Test func coveredVersionsAreMatchedByInstantWhateverTheirPrecision() {
        var state = CheckpointProgress(resumingFrom: nil, overlap: .seconds(2))
        for (sequence, version) in [("a", "2026-01-01T00:00:01Z"), ("b", "2026-01-01T00:00:01.500000Z"), ("c", "2026-01-01T00:00:02.5Z")].enumerated() {
            state.recordFetched(sequence: UInt64(sequence), id: version.0, updatedAt: version.1)
        }
        _ = state.fold(toWatermark: 3)
        let resumed = CheckpointProgress(resumingFrom: state.checkpoint, overlap: .seconds(2))
        #expect(resumed.covers(id: "a", updatedAt: "2026-01-01T00:00:01.000000Z"), "more decimals")
        #expect(resumed.covers(id: "b", updatedAt: "2026-01-01T00:00:01.5Z"), "fewer decimals")
        #expect(resumed.covers(id: "c", updatedAt: "2026-01-01T00:00:02.500000Z"))
        #expect(!resumed.covers(id: "b", updatedAt: "2026-01-01T00:00:01.6Z"))
        // Sorted by instant: `…:01Z` before `…:01.500000Z` (text order says the reverse).
        #expect(state.checkpoint?.deliveredInOverlap?.map(\.id) == ["a", "b", "c"])
        var pending = Checkpoint.PendingEnrichment(id: "x", updatedAt: "2026-01-01T00:00:01.5Z", attempts: 0, notBefore: "")
        let later = pending
        pending = .init(id: "y", updatedAt: "2026-01-01T00:00:01Z", attempts: 0, notBefore: "")
        #expect(Checkpoint.PendingEnrichment.oldestFirst(pending, later))
    }

    @Test func withoutOverlapNothingBelowTheCheckpointIsNew() {
        let state = CheckpointProgress(resumingFrom: Checkpoint(updatedAt: t3, idsAtUpdatedAt: ["d"]))
        #expect(state.pollStart == t3)
        #expect(state.covers(id: "x", updatedAt: t2))
        #expect(state.checkpoint?.deliveredInOverlap == nil)
    }
}
