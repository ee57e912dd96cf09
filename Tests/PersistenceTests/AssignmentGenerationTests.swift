import Persistence
import Testing

/// A group reads a state partition once per assignment. Each assignment must have a generation of its own: keyed by
/// the object's address, an assignment made where a released one lay got the old one's key, and its shards restored
/// the old read instead of reading what another process wrote meanwhile.
@Suite struct AssignmentGenerationTests {
    @Test func everyAssignmentHasAGenerationOfItsOwnAtAReusedAddressToo() {
        let settings = CompactedTopic.Settings(properties: [("bootstrap.servers", "127.0.0.1:9")], topic: "threatpipe.threat-state")
        var generations: Set<UInt64> = []
        var addresses: Set<ObjectIdentifier> = []
        for _ in 0..<200 {
            // Each released before the next is made: the allocator hands the same memory out again.
            let read = CheckpointTopicRead(settings: settings, assigned: [0, 1])
            addresses.insert(ObjectIdentifier(read))
            generations.insert(SharedThreatState.generation(of: read))
        }
        #expect(generations.count == 200, "\(addresses.count) addresses for 200 assignments")
    }
}
