import Testing

@testable import Pipeline

@Suite struct AcknowledgementStateTests {
    @Test func watermarkWaitsForEverySinkAndEveryEarlierRecord() {
        var state = AcknowledgementState(sinkCount: 2)
        for expected in 0..<4 { #expect(state.register() == UInt64(expected)) }
        #expect(state.acknowledge(1, sink: 0) == .none)
        #expect(state.acknowledge(1, sink: 1) == .none, "record 0 is still pending")
        #expect(state.acknowledge(0, sink: 1) == .none, "sink 0 has not acknowledged record 0")
        #expect(state.acknowledge(0, sink: 0) == .watermarkAdvanced(to: 2))
        #expect(state.acknowledge(3, sink: 0) == .none)
        #expect(state.acknowledge(3, sink: 1) == .none)
        #expect(!state.isComplete)
        #expect(state.inFlightCount == 1)
        #expect(state.acknowledge(2, sink: 1) == .none)
        #expect(state.acknowledge(2, sink: 0) == .watermarkAdvanced(to: 4))
        #expect(state.isComplete)
        #expect(state.acknowledgedCount == [4, 4])
    }

    @Test func repeatedAndUnknownAcknowledgementsChangeNothing() {
        var state = AcknowledgementState(sinkCount: 1)
        _ = state.register()
        _ = state.register()
        #expect(state.acknowledge(7, sink: 0) == .none)
        #expect(state.acknowledge(1, sink: 0) == .none)
        #expect(state.acknowledge(1, sink: 0) == .none)
        #expect(state.acknowledgedCount == [1])
        #expect(state.lowWatermark == 0)
        #expect(state.acknowledge(0, sink: 0) == .watermarkAdvanced(to: 2))
    }

    @Test func outOfOrderAcknowledgementOfManyRecordsCompletes() {
        var state = AcknowledgementState(sinkCount: 3)
        let count = 1000
        for _ in 0..<count { _ = state.register() }
        var generator = SystemRandomNumberGenerator()
        for sink in 0..<3 {
            for sequence in (0..<UInt64(count)).shuffled(using: &generator) {
                _ = state.acknowledge(sequence, sink: sink)
            }
        }
        #expect(state.isComplete)
        #expect(state.lowWatermark == UInt64(count))
        #expect(state.inFlightCount == 0)
    }
}
