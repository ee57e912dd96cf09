import Foundation

/// Runs `body`, a call that blocks (fsync, a flush of librdkafka's queue, a broker probe), on a thread of its own
/// and returns its result, so that no thread of Swift's cooperative pool ever waits in the kernel or in C. For
/// calls that are rare or long; a thread is started per call.
public func performBlockingCall<Result: Sendable>(
    name: String = "threatpipe.blocking",
    _ body: @escaping @Sendable () -> Result
) async -> Result {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.name = name
        thread.start()
    }
}

/// ``performBlockingCall(name:_:)`` for a call that can fail.
public func performBlockingCall<Result: Sendable>(
    name: String = "threatpipe.blocking",
    _ body: @escaping @Sendable () throws -> Result
) async throws -> Result {
    try await performBlockingCall(name: name) { Swift.Result { try body() } }.get()
}
