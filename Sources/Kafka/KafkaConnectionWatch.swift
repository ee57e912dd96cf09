import CRdKafka
import NIOConcurrencyHelpers

/// What librdkafka said about reaching the cluster, kept for the message of a failure: its last complaint (a warning
/// or error log line, an error callback) and whether a broker ever answered usefully (a delivery, a metadata answer,
/// a registered transactional id). `_TRANSPORT` or "not delivered" alone does not tell a refused connection from a
/// TLS, SASL or protocol failure; librdkafka's own line does.
public final class KafkaConnectionWatch: Sendable {
    private struct State {
        var lastProblem: String?
        var reached = false
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// A librdkafka log line: warnings and worse are kept as the last problem. "N/N brokers are down" repeats what
    /// the line before it said, less precisely; TERMINATE only counts what is left at close.
    public func noteLog(level: Int32, _ text: String) {
        guard level <= 4, !text.contains("brokers are down"), !text.hasPrefix("TERMINATE") else { return }
        state.withLockedValue { $0.lastProblem = text }
    }

    /// A broker answered: the connection works, whatever failed later.
    public func noteReached() {
        state.withLockedValue { $0.reached = true }
    }

    /// Whether a broker ever answered usefully.
    public var reached: Bool { state.withLockedValue { $0.reached } }

    /// The cause to add to a failure's message while no broker was ever reached: librdkafka's last complaint, and for
    /// an ApiVersions answer this librdkafka cannot read, the version that can. Nil once a broker was reached, or when
    /// librdkafka said nothing.
    public var unreachableCause: String? {
        let state = state.withLockedValue { $0 }
        guard !state.reached, let problem = state.lastProblem else { return nil }
        return Self.explain(problem)
    }

    static func explain(_ problem: String) -> String {
        var text = "no broker was reached; librdkafka said: \(problem)"
        if problem.contains("ApiVersion") && (problem.contains("underflow") || problem.contains("Protocol parse")) {
            text += " (the broker's ApiVersions answer cannot be read by librdkafka \(Self.linkedVersion), the one linked"
                + " here: librdkafka 2.1.2 and later read it, see librdkafka #4278)"
        }
        return text
    }

    /// The version of librdkafka this process runs with.
    public static var linkedVersion: String { String(cString: rd_kafka_version_str()) }
}
