import CRdKafka
import Synchronization

/// What the C callbacks reach through librdkafka's opaque pointer: the Swift closures of one producer.
final class RDKafkaCallbacks: Sendable {
    let onDelivery: @Sendable (KafkaDeliveryReport) -> Void
    let onError: @Sendable (KafkaError) -> Void
    let onLog: @Sendable (Int32, String) -> Void
    /// What librdkafka said about reaching the cluster (every callback below feeds it).
    let watch = KafkaConnectionWatch()

    init(
        onDelivery: @escaping @Sendable (KafkaDeliveryReport) -> Void = { _ in },
        onError: @escaping @Sendable (KafkaError) -> Void = { _ in },
        onLog: @escaping @Sendable (Int32, String) -> Void = { _, _ in }
    ) {
        self.onDelivery = onDelivery
        self.onError = onError
        self.onLog = onLog
    }

    /// The last value of header `name` of `message`, as text.
    static func header(_ name: String, of message: UnsafePointer<rd_kafka_message_t>) -> String? {
        var headers: OpaquePointer?
        guard rd_kafka_message_headers(UnsafeMutablePointer(mutating: message), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else { return nil }
        var value: UnsafeRawPointer?
        var size = 0
        guard rd_kafka_header_get_last(headers, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR, let value else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: value, count: size), as: UTF8.self)
    }

    /// Installs the three C callbacks and `self` as their opaque on `configuration`. The caller keeps `self` alive
    /// (retained) for as long as the handle exists.
    func install(on configuration: RDKafkaConfiguration) {
        let handle = configuration.handle
        rd_kafka_conf_set_opaque(handle, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(handle) { _, message, opaque in
            guard let message, let opaque else { return }
            let callbacks = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
            let fields = message.pointee
            let tag = UInt64(UInt(bitPattern: fields._private)) &- 1
            let error = fields.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(fields.err)
            if error == nil { callbacks.watch.noteReached() }
            let microseconds = rd_kafka_message_latency(message)
            var report = KafkaDeliveryReport(
                tag: tag, error: error, partition: fields.partition, offset: fields.offset,
                latency: microseconds >= 0 ? .microseconds(microseconds) : nil
            )
            if error != nil {
                if let payload = fields.payload {
                    report.failedValue = Array(UnsafeRawBufferPointer(start: payload, count: fields.len))
                }
                report.failedVersionID = RDKafkaCallbacks.header(KafkaProducer.versionHeader, of: message)
            }
            callbacks.onDelivery(report)
        }
        rd_kafka_conf_set_error_cb(handle) { kafka, code, reason, opaque in
            guard let opaque else { return }
            let callbacks = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
            let error = rd_kafka_resp_err_t(rawValue: code)
            if error == RD_KAFKA_RESP_ERR__FATAL {
                var text = RDKafkaErrorText()
                let fatal = rd_kafka_fatal_error(kafka, &text.buffer, text.buffer.count)
                callbacks.onError(KafkaError(fatal, message: text.text, isFatal: true))
            } else {
                let error = KafkaError(error, message: reason.map { String(cString: $0) })
                callbacks.watch.noteLog(level: 3, error.message)
                callbacks.onError(error)
            }
        }
        rd_kafka_conf_set_log_cb(handle) { kafka, level, facility, text in
            guard let kafka, let opaque = rd_kafka_opaque(kafka) else { return }
            let callbacks = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
            let line = "\(facility.map { String(cString: $0) } ?? ""): \(text.map { String(cString: $0) } ?? "")"
            callbacks.watch.noteLog(level: level, line)
            callbacks.onLog(level, line)
        }
    }
}
