/// A buffer librdkafka writes an error text into, read back as a Swift string.
struct RDKafkaErrorText {
    var buffer = [CChar](repeating: 0, count: 512)

    /// The text up to its terminating zero.
    var text: String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
