import Foundation

/// Reads a topic back with `kcat` (Debian's kafkacat), an independent Kafka client.
public enum Kcat {
    /// Every message of `topic` from the beginning to the current end, formatted by kcat's `-f` format.
    public static func consume(brokers: String, topic: String, format: String, in command: ThreatpipeCommand) async throws -> Data {
        let output = command.path("kcat-\(UUID().uuidString).out")
        let result = try await ChildProcess.run(
            "/usr/bin/env",
            ["kcat", "-b", brokers, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", format,
             "-X", "fetch.message.max.bytes=67108864"],
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"],
            stdoutPath: output,
            stderrPath: command.path("kcat.err")
        )
        guard result.status == 0 else {
            let problem = (try? String(contentsOfFile: command.path("kcat.err"), encoding: .utf8)) ?? ""
            throw KcatFailed(status: result.status, message: problem)
        }
        return try Data(contentsOf: URL(fileURLWithPath: output))
    }
}

public struct KcatFailed: Error, CustomStringConvertible {
    public var status: Int32
    public var message: String
    public var description: String { "kcat exited \(status): \(message)" }
}
