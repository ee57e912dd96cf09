import NIOConcurrencyHelpers
import Kafka

/// What the Kafka sink's delivery reports tell its writer: the first failure, and a wake-up each time a delivery
/// frees room in librdkafka's queue.
final class KafkaDeliveryState: Sendable {
    /// The first failure: librdkafka's error, the record's tag and version when it is about one record.
    struct Failure: Sendable {
        var error: KafkaError
        var tag: UInt64?
        var versionID: String?
    }

    private struct State {
        var failure: Failure?
        var generation: UInt64 = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    var failure: Failure? { state.withLockedValue { $0.failure } }

    /// A number that changes with every delivery report.
    var generation: UInt64 { state.withLockedValue { $0.generation } }

    /// Records the first failure (later ones add nothing new for the user).
    func fail(_ error: KafkaError, tag: UInt64?, versionID: String? = nil) {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            if state.failure == nil { state.failure = Failure(error: error, tag: tag, versionID: versionID) }
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// A delivery report arrived: room was freed.
    func delivered() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once a delivery report newer than `generation` arrived, or a failure was recorded, or the task was
    /// cancelled.
    func waitForDelivery(after generation: UInt64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLockedValue { state -> Bool in
                    if state.generation != generation || state.failure != nil || Task.isCancelled { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            delivered()
        }
    }
}
