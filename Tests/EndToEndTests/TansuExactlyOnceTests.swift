import Emulator
import Foundation
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// Exactly-once proven by the broker's own transaction markers, on Tansu (the mock cluster writes none and never
    /// fences): every record is classified committed, aborted or open by ``KafkaBatches``.
    @Suite(.serialized) struct TansuExactlyOnceTests {
        typealias Records = [KafkaBatches.Record]

        /// The versions of `records` (each record's threat id and `threatInfo.updatedAt`).
        static func versions(_ records: Records) throws -> [ServedVersion] {
            try records.map { try RecordExpectations.version(JSONValue.parse(Array(($0.value ?? "").utf8))) }
        }

        /// Four SIGKILLs at random moments and one outage, then a graceful stop: among committed records every final
        /// version, none twice; aborted records only where a process was killed (or a transaction failed in the
        /// outage); nothing open at the end.
        @Test(.timeLimit(.minutes(6))) func committedRecordsHoldEveryFinalVersionOnceAcrossKillsAndAnOutage() async throws {
            let broker = try TansuBroker(topics: [("threats", 3), ("threatpipe.checkpoints", 3)])
            let emulator = try await RunningEmulator.start(threats: 120, addedPerSecond: 5, updatedPerSecond: 10)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let environment = ["S1_API_TOKEN": emulator.token]
            var generator = SystemRandomNumberGenerator()
            var abortedPerKill: [Int] = []
            var aborted = 0, committedAfterStop = 0
            // Rounds 0-3 are killed; 4 stops gracefully on a frozen console; 5 starts again and stops: it must find
            // nothing to abort and send nothing.
            for round in 0..<6 {
                let run = try command.start(ExactlyOnceTests.arguments(emulator, broker), environment: environment)
                if round < 4 {
                    await emulator.api.waitForRequests(atLeast: emulator.api.requestCounts.total + Int.random(in: 100...400, using: &generator))
                }
                if round == 2 {
                    try broker.setReachable(false)
                    try await Task.sleep(for: .seconds(3))
                    try broker.setReachable(true)
                    await emulator.api.waitForListPasses(atLeast: emulator.api.requestCounts.firstPages + 1)
                }
                if round < 4 {
                    run.send(SIGKILL)
                    #expect(await run.wait().status == 128 + SIGKILL)
                } else {
                    if round == 4 { emulator.api.freeze() }
                    await emulator.api.waitForListPasses(atLeast: emulator.api.requestCounts.firstPages + 2)
                    run.send(SIGTERM)
                    #expect(await run.wait().status == 0, "\(command.stderrSoFar)")
                }
                let now = try await KafkaBatches.read(brokers: broker.bootstrapServers, topic: "threats", partitions: 3, in: command)
                let count = now.filter { $0.state == .aborted }.count
                // A process's InitProducerId aborted what the killed one before it left open.
                if (1...4).contains(round) { abortedPerKill.append(count - aborted) }
                if round == 5 {
                    #expect(count == aborted, "a graceful stop left a transaction that its successor aborted")
                    #expect(now.filter { $0.state == .committed }.count == committedAfterStop, "records sent again after a graceful stop")
                }
                aborted = count
                committedAfterStop = now.filter { $0.state == .committed }.count
            }
            let records = try await KafkaBatches.read(brokers: broker.bootstrapServers, topic: "threats", partitions: 3, in: command)
            let committed = try Self.versions(records.filter { $0.state == .committed })
            let counts = Dictionary(committed.map { ($0, 1) }, uniquingKeysWith: +)
            let twice = counts.filter { $0.value > 1 }
            print("tansu exactly-once: \(records.count) records, \(committed.count) committed, \(aborted) aborted; aborted per kill \(abortedPerKill)")
            let committedRecords = records.filter { $0.state == .committed }
            let where_ = try zip(Self.versions(committedRecords), committedRecords).filter { twice[$0.0] != nil }.map {
                "\($0.0.id):\($0.0.updatedAt) p\($0.1.partition)@\($0.1.offset) pid \($0.1.producerId).\($0.1.producerEpoch)"
            }
            #expect(twice.isEmpty, "\(twice.count) versions committed more than once: \(where_.joined(separator: "; "))")
            if !twice.isEmpty {
                // What each process loaded, committed and aborted, for the one who reads the failure.
                let lines = command.stderrSoFar.split(separator: "\n").filter {
                    !$0.contains("level=info") || $0.contains("transaction") || $0.contains("checkpoint")
                }
                print("tansu exactly-once log:\n" + lines.suffix(200).joined(separator: "\n"))
            }
            #expect(records.allSatisfy { $0.state == .committed || $0.state == .aborted }, "an open or non-transactional record is left")
            await emulator.stop()
            let checkpoints = try await KafkaBatches.read(brokers: broker.bootstrapServers, topic: "threatpipe.checkpoints", partitions: 3, in: command)
            // Tansu's `read_committed` shows aborted records (Apache Kafka's hides them, from the aborted transactions
            // it lists in each Fetch answer; Tansu lists none): a restart after a SIGKILL in the middle of a commit
            // can load the checkpoint of the transaction the broker then aborted, and skip that transaction's
            // versions. Which restarts did is told by the markers; then the final versions are Kafka's promise, not
            // Tansu's (the same scenario on the mock cluster, ``ExactlyOnceTests``, checks them there).
            let loadedAborted = try Self.restartsThatLoadedAnAbortedCheckpoint(log: command.stderrSoFar, checkpoints: checkpoints)
            let delivered = Set(committed)
            let dataset = emulator.api.dataset
            let missing = (0..<dataset.count).filter {
                !delivered.contains(ServedVersion(id: dataset.id(at: $0), updatedAt: emulator.api.updatedAt(at: $0).description))
            }
            print("tansu exactly-once: \(missing.count) final versions missing; restarts that loaded an aborted checkpoint: \(loadedAborted)")
            if loadedAborted.isEmpty {
                #expect(missing.isEmpty, "\(missing.count) threats lack their final version among committed records")
            }
            // The checkpoints are committed in the same transactions: none open, every one the instance's.
            #expect(checkpoints.allSatisfy { $0.state == .committed || $0.state == .aborted })
            #expect(Set(checkpoints.compactMap(\.key)) == [ExactlyOnceTests.instance])
            let state = try await KafkaBatches.read(brokers: broker.bootstrapServers, topic: StateTopics.state, partitions: 3, in: command)
            try Self.expectStateCommittedWithItsRecords(state: state, records: records)
        }

        /// The threats' state rides in the records' transactions: every committed record has its state entry
        /// committed (and no entry is committed without its record), and each threat's committed records say a chain
        /// of changes — each against the committed version before it. A link to another version is allowed only to a
        /// version of an aborted transaction (Tansu's `read_committed` shows aborted records, so a restart can
        /// restore an aborted entry), and is counted.
        static func expectStateCommittedWithItsRecords(state: Records, records: Records) throws {
            func entryVersion(_ record: KafkaBatches.Record) -> ServedVersion? {
                guard let value = try? JSONValue.parse(Array((record.value ?? "").utf8)), let id = value["id"]?.stringValue,
                    let updatedAt = value["updatedAt"]?.stringValue
                else { return nil }
                return ServedVersion(id: id, updatedAt: updatedAt)
            }
            let committedEntries = Set(state.filter { $0.state == .committed }.compactMap(entryVersion))
            let committedRecords = records.filter { $0.state == .committed }
            let committedVersions = Set(try versions(committedRecords))
            #expect(committedVersions.subtracting(committedEntries).isEmpty, "\(committedVersions.subtracting(committedEntries).count) committed records without their state")
            #expect(committedEntries.subtracting(committedVersions).isEmpty, "\(committedEntries.subtracting(committedVersions).count) state entries committed without their record")
            #expect(!state.contains { $0.state == .open }, "a state entry left open")
            // An aborted transaction's versions, from its records or its state entries: a SIGKILL can land after the
            // state entries' batch reached the broker and before the records' did, and a restart then restores the
            // aborted entry with no aborted record beside it.
            let abortedVersions = Set(try versions(records.filter { $0.state == .aborted }).map(\.updatedAt))
                .union(state.filter { $0.state == .aborted }.compactMap(entryVersion).map(\.updatedAt))
            var byThreat: [String: [(updatedAt: String, kind: String, previous: String?)]] = [:]
            for record in committedRecords {
                let value = try JSONValue.parse(Array((record.value ?? "").utf8))
                let change = try #require(value["meta"]?["change"], "every record of run says its change")
                let version = try RecordExpectations.version(value)
                byThreat[version.id, default: []].append((version.updatedAt, change["kind"]?.stringValue ?? "", change["previousUpdatedAt"]?.stringValue))
            }
            var broken: [String] = [], throughAborted = 0
            for (id, versions) in byThreat {
                let sorted = versions.sorted { $0.updatedAt < $1.updatedAt }
                if !["new", "unknown"].contains(sorted[0].kind) {
                    if let previous = sorted[0].previous, abortedVersions.contains(previous) { throughAborted += 1 } else {
                        broken.append("\(id) first \(sorted[0].kind) after \(sorted[0].previous ?? "none")")
                    }
                }
                for (before, after) in zip(sorted, sorted.dropFirst()) where after.previous != before.updatedAt {
                    if let previous = after.previous, abortedVersions.contains(previous) { throughAborted += 1 } else {
                        broken.append("\(id) \(after.updatedAt) after \(after.previous ?? "none"), delivered before \(before.updatedAt)")
                    }
                }
            }
            print("tansu exactly-once state: \(committedEntries.count) committed entries; changes linked through an aborted version: \(throughAborted)")
            #expect(broken.isEmpty, "changes not against the version delivered before: \(broken.prefix(5))")
        }

        /// The `updatedAt` of each checkpoint a restart loaded (its "checkpoint loaded" line) that only an aborted
        /// transaction holds.
        static func restartsThatLoadedAnAbortedCheckpoint(log: String, checkpoints: Records) throws -> [String] {
            var committed = Set<String>(), aborted = Set<String>()
            for record in checkpoints {
                let value = try JSONValue.parse(Array((record.value ?? "").utf8))
                guard let updatedAt = value["checkpoint"]?["updatedAt"]?.stringValue else { continue }
                if record.state == .committed { committed.insert(updatedAt) } else { aborted.insert(updatedAt) }
            }
            return log.split(separator: "\n").filter { $0.contains("msg=\"checkpoint loaded\"") }.compactMap { line in
                guard let range = line.range(of: "updatedAt=") else { return nil }
                let loaded = String(line[range.upperBound...].prefix { $0 != " " })
                return aborted.contains(loaded) && !committed.contains(loaded) ? loaded : nil
            }
        }

        /// A zombie: a second process with the same `--instance-id` fences the first, which exits 78 within 5 s with
        /// one error line; the second goes on and stops cleanly.
        @Test(.timeLimit(.minutes(3))) func aSecondProcessWithTheSameInstanceFencesTheFirst() async throws {
            let broker = try TansuBroker(topics: [("threats", 3), ("threatpipe.checkpoints", 3)])
            try await withEmulator(threats: 60) { emulator, command in
                let environment = ["S1_API_TOKEN": emulator.token]
                let first = try command.start(ExactlyOnceTests.arguments(emulator, broker), environment: environment, log: "first.log")
                await emulator.api.waitForListPasses(atLeast: 2)
                let started = ContinuousClock.now
                let second = try command.start(ExactlyOnceTests.arguments(emulator, broker), environment: environment, log: "second.log")
                let result = await first.wait()
                let elapsed = ContinuousClock.now - started
                let log = (try? String(contentsOfFile: command.path("first.log"), encoding: .utf8)) ?? ""
                print("tansu fencing: the first process exited \(result.status) \(elapsed) after the second started")
                #expect(result.status == 78, "\(log)")
                #expect(elapsed < .seconds(5))
                let errors = log.split(separator: "\n").filter { $0.hasPrefix("threatpipe: error:") }
                #expect(errors.count == 1 && errors[0].contains("fenced"), "\(log)")
                #expect(!log.contains("it is replaced"), "a fenced process replaces no sink: \(log)")
                await emulator.api.waitForListPasses(atLeast: emulator.api.requestCounts.firstPages + 2)
                second.send(SIGTERM)
                #expect(await second.wait().status == 0)
            }
            withExtendedLifetime(broker) {}
        }
    }
}
