import Kafka
import Persistence
import Pipeline
import Testing

/// The verdicts `run` and `check` share on the Kafka store's own topics.
struct InternalTopicsTests {
    static func topics(create: Bool = true, partitions: Int = 1, state: String? = "threatpipe.threat-state") -> InternalTopics {
        InternalTopics(
            settings: .init(properties: [], topic: "threatpipe.checkpoints"), stateTopic: state, createMissing: create,
            checkpointPartitions: partitions
        )
    }

    @Test func missingTopicsAreCreatedTheStateTopicWithTheCheckpointTopicsPartitions() {
        let fresh = Self.topics(partitions: 12).verdicts(checkpoint: .missing, state: .missing)
        #expect(fresh.map(\.create) == [12, 12])
        #expect(fresh.allSatisfy { $0.failure == nil })
        let existing = Self.topics(partitions: 12).verdicts(checkpoint: .present(partitions: 6, cleanupPolicy: .value("compact")), state: .missing)
        #expect(existing.map(\.create) == [nil, 6], "the state topic follows the checkpoint topic as it is")
        #expect(existing[1].detail.contains("will be created with 6 partitions"))
    }

    @Test func aStateTopicWithFewerPartitionsThanTheCheckpointTopicCannotWork() throws {
        let verdicts = Self.topics().verdicts(
            checkpoint: .present(partitions: 12, cleanupPolicy: .value("compact")),
            state: .present(partitions: 1, cleanupPolicy: .value("delete"))
        )
        let failure = try #require(verdicts[1].failure)
        #expect(FailureKind.of(failure) == .configuration)
        #expect(failure.description.contains("1 partitions, fewer than the checkpoint topic threatpipe.checkpoints's 12"))
        let enough = Self.topics().verdicts(
            checkpoint: .present(partitions: 3, cleanupPolicy: .value("compact")), state: .present(partitions: 4, cleanupPolicy: .value("compact"))
        )
        #expect(enough.allSatisfy { $0.failure == nil && $0.warning == nil })
    }

    @Test func withoutCreationAMissingTopicIsAConfigurationError() throws {
        let verdicts = Self.topics(create: false).verdicts(checkpoint: .missing, state: nil)
        let failure = try #require(verdicts[0].failure)
        #expect(FailureKind.of(failure) == .configuration)
        #expect(failure.description.contains("--no-create-topics"))
    }

    @Test func aTopicThatIsNotCompactedOrWhoseCompactionIsUnknownIsAWarning() {
        let verdicts = Self.topics().verdicts(
            checkpoint: .present(partitions: 1, cleanupPolicy: .notSet), state: .present(partitions: 1, cleanupPolicy: .noAnswer)
        )
        #expect(verdicts.allSatisfy { $0.failure == nil })
        #expect(verdicts[0].warning?.contains("set cleanup.policy=compact") == true)
        #expect(verdicts[1].warning?.contains("compaction unknown") == true)
    }

    @Test(arguments: ["bad name/x", "", ".", "..", String(repeating: "t", count: 250), "thrëats"])
    func anInvalidTopicNameIsAConfigurationError(_ name: String) throws {
        #expect(KafkaTopicAdmin.nameProblem(name) != nil)
        let verdicts = Self.topics(state: name).nameVerdicts()
        let failure = try #require(verdicts.first?.failure)
        #expect(FailureKind.of(failure) == .configuration)
        #expect(failure.description.contains("--state-topic"))
    }

    @Test(arguments: ["threatpipe.checkpoints", "a", "A-b_c.9", String(repeating: "t", count: 249)])
    func validTopicNames(_ name: String) {
        #expect(KafkaTopicAdmin.nameProblem(name) == nil)
    }
}
