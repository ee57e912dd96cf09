/// A run with the Kafka checkpoint store keeps the threats' state in a topic beside it: a test broker given the
/// checkpoint topic gets the state topic too, of as many partitions.
public enum StateTopics {
    public static let checkpoints = "threatpipe.checkpoints"
    public static let state = "threatpipe.threat-state"

    public static func adding(to topics: [(String, Int)]) -> [(String, Int)] {
        guard let checkpoints = topics.first(where: { $0.0 == checkpoints }), !topics.contains(where: { $0.0 == state }) else { return topics }
        return topics + [(state, checkpoints.1)]
    }

    public static func adding(to topics: [String]) -> [String] {
        topics.contains(checkpoints) && !topics.contains(state) ? topics + [state] : topics
    }
}
