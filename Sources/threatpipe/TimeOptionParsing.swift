import RawJSON

/// Durations and instants as written on the command line.
enum TimeOptionParsing {
    /// `30`, `30s`, `5m`, `24h`, `7d` (a plain number is seconds).
    static func duration(_ text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var digits = Substring(text)
        var multiplier: Int64 = 1
        if let last = text.last, let unit = units[last] {
            multiplier = unit
            digits = digits.dropLast()
        }
        guard let value = Int64(digits), value >= 0 else { return nil }
        return .seconds(value * multiplier)
    }

    /// An RFC 3339 instant, or a duration before `now`.
    static func instant(_ text: String, now: RFC3339Timestamp) -> RFC3339Timestamp? {
        if let timestamp = RFC3339Timestamp(text) { return timestamp }
        guard let ago = duration(text) else { return nil }
        return RFC3339Timestamp(microseconds: now.microseconds - ago.components.seconds * 1_000_000)
    }
}
