import Emulator
import Foundation
import TestSupport
import Testing
import RawJSON

extension EndToEnd {
    /// Exactly once when the cluster is slow or cuts connections, on Tansu behind the tests' proxy, which holds back or
    /// drops one API's answers while the broker acts on the requests (`Tests/Support/tansu_broker.py`). Judged by the
    /// broker's own markers: every final version committed, none twice, nothing left open, the process alive, and no
    /// poll failed for a call the broker took.
    @Suite(.serialized) struct TansuFaultTests {
        enum Fault: String, CaseIterable, Sendable, CustomTestStringConvertible {
            /// Every third EndTxn answered 4 s past a 2 s --kafka-flush-timeout (the broker has committed).
            case commitAnsweredLate
            /// The first InitProducerId answered 4 s past the timeout (the broker has registered the id).
            case registrationAnsweredLate
            /// Three produce requests reach the broker, then their connections are cut before the answer.
            case produceCut

            var testDescription: String { rawValue }

            func inject(_ broker: TansuBroker) throws {
                switch self {
                case .commitAnsweredLate: try broker.holdAnswers(to: .endTransaction, seconds: 4, every: 3)
                case .registrationAnsweredLate: try broker.holdAnswers(to: .initProducerID, seconds: 4, every: 1)
                case .produceCut: try broker.dropAnswers(to: .produce, count: 3)
                }
            }

            /// The fault's mark in the log: what shows it was met (a cut produce is retried by librdkafka itself).
            var logMark: String? {
                switch self {
                case .commitAnsweredLate: "the commit's outcome is not known yet"
                case .registrationAnsweredLate: "the registration of the transactional id's outcome is not known yet"
                case .produceCut: nil
                }
            }
        }

        @Test(.timeLimit(.minutes(4)), arguments: Fault.allCases)
        func exactlyOnceHoldsWithoutAFailedPoll(_ fault: Fault) async throws {
            let broker = try TansuBroker(topics: [("threats", 3), ("threatpipe.checkpoints", 3)])
            let emulator = try await RunningEmulator.start(threats: 80, addedPerSecond: 2, updatedPerSecond: 6)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            try fault.inject(broker)
            let arguments = ExactlyOnceTests.arguments(emulator, broker, extra: ["--kafka-flush-timeout", "2"])
            let run = try command.start(arguments, environment: ["S1_API_TOKEN": emulator.token])
            await emulator.api.waitForListPasses(atLeast: 8)
            // The registration is held once only: later producers (there should be none) are not slowed.
            if fault == .registrationAnsweredLate { try broker.holdAnswers(to: .initProducerID, seconds: 0, every: 0) }
            emulator.api.freeze()
            await emulator.api.waitForListPasses(atLeast: emulator.api.requestCounts.firstPages + 2)
            run.send(SIGTERM)
            let status = await run.wait().status
            let log = command.stderrSoFar
            #expect(status == 0, "\(log)")
            if let mark = fault.logMark { #expect(log.contains(mark), "the fault was not met: \(log)") }
            #expect(!log.contains("poll failed"), "a poll failed for a call the broker took: \(log)")
            #expect(!log.contains("it is replaced"), "\(log)")
            let records = try await KafkaBatches.read(brokers: broker.bootstrapServers, topic: "threats", partitions: 3, in: command)
            let committed = try TansuExactlyOnceTests.versions(records.filter { $0.state == .committed })
            let twice = Dictionary(committed.map { ($0, 1) }, uniquingKeysWith: +).filter { $0.value > 1 }
            print("tansu fault \(fault): \(records.count) records, \(committed.count) committed, \(twice.count) twice")
            #expect(twice.isEmpty, "\(twice.count) versions committed more than once: \(twice.keys.prefix(3))")
            #expect(!records.contains { $0.state == .open }, "a transaction left open")
            let delivered = Set(committed)
            let dataset = emulator.api.dataset
            let missing = (0..<dataset.count).filter {
                !delivered.contains(ServedVersion(id: dataset.id(at: $0), updatedAt: emulator.api.updatedAt(at: $0).description))
            }
            #expect(missing.isEmpty, "\(missing.count) threats lack their final version among committed records")
            await emulator.stop()
        }

        /// A cluster that stops answering EndTxn altogether: a stop (SIGTERM) still ends within its documented bound
        /// (30 s, below every manifest's terminationGracePeriodSeconds) with exit 74 and one line saying why.
        @Test(.timeLimit(.minutes(3))) func aStopEndsWithinItsBoundWhenTheClusterDoesNotAnswer() async throws {
            let broker = try TansuBroker(topics: [("threats", 3), ("threatpipe.checkpoints", 3)])
            let emulator = try await RunningEmulator.start(threats: 30, addedPerSecond: 2, updatedPerSecond: 10)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let run = try command.start(
                ExactlyOnceTests.arguments(emulator, broker, extra: ["--kafka-flush-timeout", "2"]), environment: ["S1_API_TOKEN": emulator.token]
            )
            await emulator.api.waitForListPasses(atLeast: 3)
            // From now on no commit is ever answered: the stop's last commit waits on it.
            try broker.holdAnswers(to: .endTransaction, seconds: 600, every: 1)
            let started = ContinuousClock.now
            run.send(SIGTERM)
            let status = await run.wait().status
            let elapsed = ContinuousClock.now - started
            let log = command.stderrSoFar
            print("tansu fault: a stop on a silent coordinator took \(elapsed), exit \(status)")
            #expect(status == 74, "\(log)")
            #expect(elapsed < .seconds(40), "the stop took \(elapsed)")
            #expect(log.contains("threatpipe: error: the stop did not finish within 30 s"), "\(log)")
            await emulator.stop()
        }
    }
}
