import Foundation
import Kafka
import Pipeline
import RawJSON
import Testing

@testable import Persistence

/// The state topic restored at start, against librdkafka's mock cluster over loopback: no single record wipes the
/// state (another owner's horizon, one from the future, the key an earlier release wrote), `--reset-state` undoes
/// any horizon before it, a tombstone deletes, and a record that is not an entry of its key is skipped.
@Suite(.serialized) struct KafkaThreatStateStoreTests {
    let cluster: KafkaMockCluster
    let topic = "threatpipe.state"
    let now = RFC3339Timestamp.now.microseconds / 1_000_000

    init() throws {
        cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic(topic, partitions: 1, replicationFactor: 1)
    }

    private func store(owner: String = "instance-a", afresh: Bool = false) -> KafkaThreatStateStore {
        var settings = CompactedTopic.Settings(properties: [("bootstrap.servers", cluster.bootstrapServers)], topic: topic)
        settings.timeout = .seconds(10)
        return KafkaThreatStateStore(settings: settings, owner: owner, partition: nil, writes: .byTheStore, startAfresh: afresh)
    }

    private func entry(_ id: String, seen: Int64) -> ThreatStateEntry {
        ThreatStateEntry(
            id: id, updatedAt: "2026-01-01T00:00:01Z", paths: ["threatInfo.incidentStatus"], values: ["threatInfo.incidentStatus": Array("\"resolved\"".utf8)],
            resolved: true, change: ThreatChange(kind: .unknown), lastSeen: seen
        )
    }

    /// Writes records as another client would (kcat; an empty value goes as a tombstone). Its end is awaited, never
    /// waited for on a thread of the shared pool (a blocked pool thread slows every test running beside this one).
    private func produce(_ records: [(key: String, value: String)]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["kcat", "-b", cluster.bootstrapServers, "-P", "-t", topic, "-K", "\t", "-Z"]
        let input = Pipe()
        process.standardInput = input
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            input.fileHandleForWriting.write(Data(records.map { "\($0.key)\t\($0.value)\n" }.joined().utf8))
            try? input.fileHandleForWriting.close()
        }
        #expect(status == 0)
    }

    private func horizon(_ text: String, resetAt: Int64) -> String { "{\"horizon\":\"\(text)\",\"resetAt\":\(resetAt)}" }

    @Test func noSingleRecordWipesTheStateAndAResetUndoesEveryHorizonBeforeIt() async throws {
        let first = store()
        let began = try await first.open()
        try await first.save([entry("t1", seen: now - 100), entry("t2", seen: now - 100)])
        await first.close()
        let future = "2099-01-01T00:00:00.000000Z"
        try await produce([
            // The key an earlier release wrote, from the future; another owner's reset; this owner's, from the future.
            (KafkaThreatStateStore.horizonKeyPrefix, horizon(future, resetAt: 4_102_444_800)),
            (KafkaThreatStateStore.horizonKey(owner: "instance-b"), horizon(RFC3339Timestamp.now.description, resetAt: now - 10)),
            (KafkaThreatStateStore.horizonKey(owner: "instance-a"), horizon(future, resetAt: 4_102_444_800)),
            (KafkaThreatStateStore.horizonKey(owner: "instance-a"), "not a horizon"),
        ])
        let restored = store()
        #expect(try await restored.open() == began, "the state began when it began")
        #expect(try await restored.count() == 2, "no entry forgotten")
        await restored.close()

        // --reset-state: the entries before it stop counting, and keep not counting at the next start.
        let reset = store(afresh: true)
        let resetAt = try await reset.open()
        #expect(resetAt != began)
        #expect(try await reset.count() == 0)
        await reset.close()
        let after = store()
        #expect(try await after.open() == resetAt, "the reset's horizon, not the one from the future before it")
        #expect(try await after.count() == 0)
        await after.close()
    }

    @Test func aTombstoneDeletesAndARecordThatIsNotAnEntryOfItsKeyIsSkipped() async throws {
        let first = store()
        _ = try await first.open()
        try await first.save([entry("t1", seen: now), entry("t2", seen: now), entry("t3", seen: now)])
        await first.close()
        try await produce([
            ("t1", ""),
            ("t3", "not json"),
            ("t4", String(decoding: entry("t5", seen: now).encoded, as: UTF8.self)),
        ])
        let restored = store()
        _ = try await restored.open()
        #expect(try await restored.entry(for: "t1") == nil, "deleted by its tombstone")
        #expect(try await restored.entry(for: "t2") != nil)
        #expect(try await restored.entry(for: "t3") != nil, "garbage after an entry does not replace it")
        #expect(try await restored.entry(for: "t4") == nil)
        #expect(try await restored.entry(for: "t5") == nil)
        #expect(try await restored.count() == 2)
        await restored.close()
    }
}
