extension Duration {
    /// The duration in the whole milliseconds librdkafka's timeouts take (clamped to `Int32`, never trapping).
    var rdKafkaMilliseconds: Int32 {
        let (milliseconds, overflow) = components.seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return components.seconds < 0 ? 0 : Int32.max }
        return Int32(clamping: milliseconds &+ components.attoseconds / 1_000_000_000_000_000)
    }
}
