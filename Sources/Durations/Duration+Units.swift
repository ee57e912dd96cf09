/// Every conversion of a `Duration` to a plain number the project needs, in one place: seconds for rates and
/// metrics, and whole micro-, milli- and nanoseconds that saturate instead of trapping on overflow.
extension Duration {
    /// The duration in seconds, as a floating-point number (for rates, summaries and metrics).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole nanoseconds, saturating at `Int64.max`/`Int64.min`.
    public var saturatingNanoseconds: Int64 { Self.whole(components, per: 1_000_000_000) }

    /// Whole microseconds, saturating at `Int64.max`/`Int64.min`.
    public var saturatingMicroseconds: Int64 { Self.whole(components, per: 1_000_000) }

    /// Whole milliseconds clamped to `Int32` and to zero below: the timeouts C libraries (librdkafka) take.
    public var clampedMilliseconds: Int32 {
        Int32(clamping: max(0, Self.whole(components, per: 1000)))
    }

    private static func whole(_ components: (seconds: Int64, attoseconds: Int64), per second: Int64) -> Int64 {
        let (scaled, overflow) = components.seconds.multipliedReportingOverflow(by: second)
        if overflow { return components.seconds < 0 ? .min : .max }
        let (sum, sumOverflow) = scaled.addingReportingOverflow(components.attoseconds / (1_000_000_000_000_000_000 / second))
        if sumOverflow { return components.seconds < 0 ? .min : .max }
        return sum
    }
}
