extension Duration {
    /// The duration in the whole milliseconds librdkafka's timeouts take (clamped to `Int32`).
    var rdKafkaMilliseconds: Int32 {
        Int32(clamping: components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }
}
