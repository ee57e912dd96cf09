import Durations
import Logging
import Metrics
import RawJSON

/// Which horizon record of a state topic counts, read in the topic's order: the owner's own, the newest one (a
/// `--reset-state` undoes every record before it), and never one from the future beyond
/// ``KafkaThreatStateStore/allowedSkew`` (a producer with a wrong clock, a typo, another writer). The key an earlier
/// release wrote (no owner) is read under the same rule while the owner has written none of its own.
struct HorizonChoice {
    let ownKey: String
    let latest: Int64
    private var own: KafkaThreatStateStore.Horizon?
    private var legacy: KafkaThreatStateStore.Horizon?

    init(owner: String, now: RFC3339Timestamp) {
        ownKey = KafkaThreatStateStore.horizonKey(owner: owner)
        latest = now.microseconds + KafkaThreatStateStore.allowedSkew.saturatingMicroseconds
    }

    /// The horizon that counts: the owner's newest, else the earlier release's.
    var chosen: KafkaThreatStateStore.Horizon? { own ?? legacy }

    /// Considers a horizon record; false when it does not count (another owner's, unreadable, from the future).
    mutating func consider(key: String, value: [UInt8]?) -> Bool {
        let isOwn = key == ownKey
        guard isOwn || key == KafkaThreatStateStore.horizonKeyPrefix else { return false }
        guard let value, let horizon = KafkaThreatStateStore.Horizon(decoding: value),
            let began = RFC3339Timestamp(horizon.text), began.microseconds <= latest,
            horizon.resetAt >= 0, horizon.resetAt <= latest / 1_000_000
        else { return false }
        if isOwn { own = horizon } else { legacy = horizon }
        return true
    }
}

/// Records of a state topic a restore skips: counted by reason, each of the first few logged with its key and
/// offset, the rest summed up in one line — never a line per record of a topic full of garbage.
struct SkippedRecords {
    let location: String
    private var counts: [String: Int] = [:]
    private static let logged = 10
    private static let logger = Logger(label: "threatpipe.state")

    init(location: String) {
        self.location = location
    }

    mutating func note(reason: String, key: String, offset: Int64) {
        counts[reason, default: 0] += 1
        Counter(label: "threatpipe_state_records_ignored_total", dimensions: [("reason", reason)]).increment()
        guard counts.values.reduce(0, +) <= Self.logged else { return }
        Self.logger.warning(
            reason == "horizon"
                ? "a state-horizon record that is not this instance's own, or is unreadable or from the future, is ignored"
                : "a state record that is not an entry of its key is skipped",
            metadata: ["store": "\(location)", "key": "\(key.prefix(200))", "offset": "\(offset)"]
        )
    }

    func summarise() {
        let total = counts.values.reduce(0, +)
        guard total > Self.logged else { return }
        Self.logger.warning("state records ignored", metadata: ["store": "\(location)", "count": "\(total)", "by_reason": "\(counts)"])
    }
}
