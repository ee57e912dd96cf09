import ArgumentParser
import RawJSON

/// Durations and instants as written on the command line, and the range checks every numeric flag goes through.
enum TimeOptionParsing {
    /// The longest duration any option takes: 100 years (beyond it, arithmetic on instants would overflow).
    static let maximumDurationSeconds: Int64 = 100 * 365 * 86_400

    /// `30`, `500ms`, `30s`, `5m`, `24h`, `7d` (a plain number is seconds); nil for anything else, negative, or longer than
    /// ``maximumDurationSeconds``.
    static func duration(_ text: String) -> Duration? {
        if text.hasSuffix("ms") {
            guard let value = Int64(text.dropLast(2)), value >= 0, value <= maximumDurationSeconds else { return nil }
            return .milliseconds(value)
        }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var digits = Substring(text)
        var multiplier: Int64 = 1
        if let last = text.last, let unit = units[last] {
            multiplier = unit
            digits = digits.dropLast()
        }
        guard let value = Int64(digits), value >= 0 else { return nil }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow, seconds <= maximumDurationSeconds else { return nil }
        return .seconds(seconds)
    }

    /// An RFC 3339 instant, or a duration before `now`.
    static func instant(_ text: String, now: RFC3339Timestamp) -> RFC3339Timestamp? {
        if let timestamp = RFC3339Timestamp(text) { return timestamp }
        guard let ago = duration(text) else { return nil }
        return RFC3339Timestamp(microseconds: now.microseconds - ago.components.seconds * 1_000_000)
    }

    /// Throws the usage error `--option is LOW…HIGH` unless `value` is in `range`.
    static func check<Value: Comparable>(_ value: Value, in range: ClosedRange<Value>, _ option: String, unit: String = "") throws {
        guard range.contains(value) else {
            throw ValidationError("--\(option) is \(range.lowerBound)…\(range.upperBound)\(unit.isEmpty ? "" : " " + unit), got \(value)")
        }
    }
}
