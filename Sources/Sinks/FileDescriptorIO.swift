#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Blocking

/// Blocking file I/O, run through ``performBlockingCall(_:)``, never on Swift's cooperative threads.
enum FileDescriptorIO {
    /// Writes all of `bytes`, retrying short writes and interruptions. A non-blocking descriptor that is full (a
    /// pipe whose reader is behind, when whoever started us made it non-blocking) is waited on with poll(2), not
    /// retried in a loop that would burn a core until the reader catches up.
    static func write(_ bytes: [UInt8], to descriptor: Int32, path: String) async throws {
        try await performBlockingCall {
            try bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let result = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                    if result < 0 {
                        let code = errno
                        if code == EINTR { continue }
                        if code == EAGAIN || code == EWOULDBLOCK {
                            try waitUntilWritable(descriptor, path: path)
                            continue
                        }
                        throw SinkError(sink: path, message: "write failed: \(String(cString: strerror(code)))")
                    }
                    offset += result
                }
            }
        }
    }

    /// Blocks until `descriptor` can take more bytes (or is in error, which the next write reports).
    private static func waitUntilWritable(_ descriptor: Int32, path: String) throws {
        var request = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        while poll(&request, 1, -1) < 0 {
            let code = errno
            if code != EINTR {
                throw SinkError(sink: path, message: "waiting to write failed: \(String(cString: strerror(code)))")
            }
        }
    }

    /// fsync(2). A descriptor that cannot be synced (a pipe, a terminal) is as durable as it gets: not an error.
    static func sync(_ descriptor: Int32, path: String) async throws {
        try await performBlockingCall {
            if fsync(descriptor) != 0 {
                let code = errno
                if code != EINVAL && code != EROFS && code != ENOTSUP {
                    throw SinkError(sink: path, message: "fsync failed: \(String(cString: strerror(code)))")
                }
            }
        }
    }
}
