import ArgumentParser
import RawJSON

/// A duration option's value, parsed once where the command line is read: `30` (seconds), `500ms`, `30s`, `5m`,
/// `24h`, `7d`, 0…36500 days. Each command checks its own range in `validate()`.
struct DurationArgument: ExpressibleByArgument, Sendable, Equatable {
    var duration: Duration
    /// As written (the help shows a default so).
    private var text: String

    init?(argument: String) {
        guard let duration = TimeOptionParsing.duration(argument) else { return nil }
        self.duration = duration
        self.text = argument
    }

    /// A default: `duration`, shown in the help as `written`.
    init(_ duration: Duration, written: String) {
        self.duration = duration
        self.text = written
    }

    var defaultValueDescription: String { text }
}

/// An instant option's value, parsed once: RFC 3339, or a duration before the command line was read (every such
/// option of one command counts back from the same moment).
struct InstantArgument: ExpressibleByArgument, Sendable, Equatable {
    var instant: RFC3339Timestamp
    private var text: String

    /// The moment durations count back from: read once per process.
    static let now = RFC3339Timestamp.now

    init?(argument: String) {
        guard let instant = TimeOptionParsing.instant(argument, now: Self.now) else { return nil }
        self.instant = instant
        self.text = argument
    }

    /// A default of `ago` before now, shown as `written`.
    init(ago: Duration, written: String) {
        self.instant = RFC3339Timestamp(microseconds: Self.now.microseconds - ago.components.seconds * 1_000_000)
        self.text = written
    }

    var defaultValueDescription: String { text }
}

/// `--rate-limit`: requests per second to the console (`10`, `2.5`), `0` for none, or `auto[:MAX]` — the rate follows
/// the console's answers, never above MAX (default 50).
enum RateLimit: ExpressibleByArgument, Sendable, Equatable {
    case off
    case fixed(Double)
    case auto(maximum: Double)

    init?(argument text: String) {
        if text == "auto" {
            self = .auto(maximum: 50)
        } else if text.hasPrefix("auto:") {
            guard let maximum = Double(text.dropFirst(5)), maximum.isFinite, (1...10_000).contains(maximum) else { return nil }
            self = .auto(maximum: maximum)
        } else {
            guard let rate = Double(text), rate.isFinite, (0...10_000).contains(rate) else { return nil }
            self = rate == 0 ? .off : .fixed(rate)
        }
    }

    var defaultValueDescription: String {
        switch self {
        case .off: "0"
        case .fixed(let rate): rate == rate.rounded() ? "\(Int(rate))" : "\(rate)"
        case .auto(let maximum): "auto:\(Int(maximum))"
        }
    }

    static var allValueStrings: [String] { [] }
}

/// Parsers for `@Option(transform:)`: a value that does not parse is refused with the option's own usage line
/// (ranges included), which a failable `init?(argument:)` could not say.
extension ExpressibleByArgument {
    static func parser(or usage: String) -> @Sendable (String) throws -> Self {
        { text in
            guard let value = Self(argument: text) else { throw ValidationError(usage) }
            return value
        }
    }
}

/// The usage lines of the options that take durations, instants and rates.
enum Usage {
    static let interval = "--interval takes seconds or a duration such as 30s or 5m, 1s…36500d"
    static let maxBackoff = "--max-backoff takes seconds or a duration such as 5m, 0s…36500d"
    static let overlap = "--overlap takes seconds or a duration such as 5s, 0s…1h"
    static func since(example: String = "24h") -> String { "--since takes an RFC 3339 time or a duration ago such as \(example), 0s…36500d" }
    static func instant(_ option: String, example: String = "24h") -> String {
        "--\(option) takes an RFC 3339 time or a duration ago such as \(example), 0s…36500d"
    }
    static let groupSessionTimeout = "--group-session-timeout takes a duration such as 10s, 1s…300s"
    static let transactionInterval = "--transaction-interval takes a duration such as 1s or 500ms, 10ms…50s"
    static let settle = "--settle takes a duration such as 5m or 0s, at most 30d"
    static let rotateInterval = "--rotate-interval takes seconds or a duration such as 1h or 15m, 1s…36500d"
    static let stateRetention = "--state-retention takes a duration such as 180d, 1d…36500d"
    static let rateLimit = "--rate-limit is 0 (off)…10000 requests per second, or auto[:MAX] (MAX 1…10000, default 50)"
}
