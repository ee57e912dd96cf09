#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOPosix

/// Blocking file I/O run on NIO's thread pool, never on Swift's cooperative threads.
enum FileDescriptorIO {
    /// Writes all of `bytes`, retrying short writes and interruptions.
    static func write(_ bytes: [UInt8], to descriptor: Int32, path: String) async throws {
        try await NIOThreadPool.singleton.runIfActive {
            try bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let result = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                    if result < 0 {
                        let code = errno
                        if code == EINTR || code == EAGAIN { continue }
                        throw SinkError(path: path, message: "write failed: \(String(cString: strerror(code)))")
                    }
                    offset += result
                }
            }
        }
    }

    /// fsync(2). A descriptor that cannot be synced (a pipe, a terminal) is as durable as it gets: not an error.
    static func sync(_ descriptor: Int32, path: String) async throws {
        try await NIOThreadPool.singleton.runIfActive {
            if fsync(descriptor) != 0 {
                let code = errno
                if code != EINVAL && code != EROFS && code != ENOTSUP {
                    throw SinkError(path: path, message: "fsync failed: \(String(cString: strerror(code)))")
                }
            }
        }
    }
}
