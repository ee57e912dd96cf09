import Kafka
@testable import Persistence
import Pipeline
import SentinelOne
@testable import Sinks
import Testing

@testable import Runtime

/// The two tables over failure kinds: `export`'s exit status and `run`'s stop-or-retry, for an error of each kind
/// as the modules raise it.
@Suite struct FailureTablesTests {
    static let cases: [(any Error, Runtime.ExitStatus, PollFailureHandling)] = [
        (ConfigurationError(description: "x"), .usage, .stop),
        (FilterError(option: "--filter x", reason: "unknown"), .usage, .stop),
        (CheckpointOwnershipError(location: "s", consoleURL: "c", filters: []), .usage, .stop),
        (SentinelOneError(code: .unauthorized, message: "401"), .permissionDenied, .retryAndAlert),
        (SentinelOneError(code: .unreachable, message: "down"), .unavailable, .retry),
        (SentinelOneError(code: .malformedResponse, message: "bad"), .protocolError, .retry),
        (EnrichmentFailure(httpStatus: 403, message: "no"), .permissionDenied, .retryAndAlert),
        (EnrichmentFailure(httpStatus: 200, message: "a key twice"), .protocolError, .retry),
        (EnrichmentFailure(httpStatus: 503, message: "busy"), .unavailable, .retry),
        (SinkError(sink: "kafka:t", message: "timed out"), .ioError, .retry),
        (SinkError(sink: "kafka:t", message: "too large", isPermanent: true), .ioError, .stop),
        (KafkaError(code: .invalidConfiguration, name: "INVALID_CONFIGURATION", message: "x"), .usage, .stop),
        (KafkaError(code: .messageSizeTooLarge, name: "MSG_SIZE_TOO_LARGE", message: "x"), .ioError, .retry),
        (CheckpointFileError(path: "s", reason: "corrupt"), .dataError, .stop),
        (PipelineError(code: .sourceLoop, message: "cycle"), .protocolError, .retry),
        (PipelineError(code: .sinkFailed, message: "x", underlying: SinkError(sink: "k", message: "x", isPermanent: true)), .ioError, .stop),
        (PipelineError(code: .sinkFailed, message: "x", underlying: SentinelOneError(code: .forbidden, message: "403")), .permissionDenied, .retryAndAlert),
        (ExportInterrupted(delivered: 3), .incomplete, .stop),
        (SentinelOneError(code: .stopped, message: "not sent, stopping"), .incomplete, .stop),
        (KafkaFencedError(transactionalID: "threatpipe-a", underlying: KafkaError(code: .producerFenced, name: "PRODUCER_FENCED", message: "x")), .fenced, .stop),
        (KafkaCheckpointStoreError(topic: "c", underlying: KafkaError(code: .producerFenced, name: "PRODUCER_FENCED", message: "x")), .fenced, .stop),
        (KafkaCheckpointStoreError(topic: "c", underlying: KafkaError(code: .messageSizeTooLarge, name: "MSG_SIZE_TOO_LARGE", message: "x")), .dataError, .stop),
    ]

    /// Every kind appears in the cases above (the tables themselves are exhaustive switches).
    @Test func everyKindIsExercisedAsRaised() {
        let exercised = Set(Self.cases.compactMap { FailureKind.of($0.0) })
        #expect(exercised == Set(FailureKind.allCases), "not exercised: \(Set(FailureKind.allCases).subtracting(exercised))")
    }

    /// In a group, fencing stops the process (exit 78); every other failure is the shard's own, retried.
    @Test func aGroupStopsOnlyWhenFenced() {
        for kind in FailureKind.allCases {
            #expect(ThreatpipeRuntime.shardHandling(for: kind) == (kind == .fenced ? .stopProcess : .retryShard), "\(kind)")
        }
        #expect(ThreatpipeRuntime.shardHandling(for: nil) == .retryShard)
    }

    @Test func errorsAsRaisedMapThroughTheTables() {
        for (error, status, handling) in Self.cases {
            #expect(Runtime.ExitStatus.of(error) == status, "\(error)")
            #expect(ThreatpipeRuntime.runFailureHandling(error) == handling, "\(error)")
        }
        struct Unclassified: Error {}
        #expect(Runtime.ExitStatus.of(Unclassified()) == .internalError)
        #expect(ThreatpipeRuntime.runFailureHandling(Unclassified()) == .retry)
    }
}
