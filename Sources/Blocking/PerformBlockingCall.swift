import NIOPosix

/// The one way off Swift's cooperative pool: every call that blocks — fsync, open/pread/ftruncate/rename of the
/// NDJSON files, a flush of librdkafka's queue, a broker probe, waiting for a child process — runs on this pool's
/// threads, so that no cooperative thread ever waits in the kernel or in C.
///
/// Eight threads, started once for the process and never stopped: enough for the few long waits that can overlap
/// (a Kafka flush, a gzip child, a probe) while fsyncs keep going; far fewer than one thread per call.
public enum BlockingCalls {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return pool
    }()

    /// Runs `body` on the pool and returns at once (for a call nobody awaits, such as a metadata request).
    public static func submit(_ body: @escaping @Sendable () -> Void) {
        pool.submit { state in
            if state == .active { body() }
        }
    }
}

/// Runs `body`, a call that blocks, on the blocking pool and returns its result.
public func performBlockingCall<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
    do {
        return try await BlockingCalls.pool.runIfActive(body)
    } catch {
        // Only a stopped pool refuses work, and this one is never stopped; should it ever be, the call still runs.
        return body()
    }
}

/// ``performBlockingCall(_:)`` for a call that can fail.
public func performBlockingCall<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await BlockingCalls.pool.runIfActive(body)
}
