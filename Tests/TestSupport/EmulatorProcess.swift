import Foundation

/// `threatpipe emulator` running as a process of its own, so that what is measured of an export does not depend on
/// what the test process is doing.
public final class EmulatorProcess: @unchecked Sendable {
    /// `http://127.0.0.1:PORT`, or `https://…` when started with a TLS certificate.
    public let url: String
    public let token = "threatpipe-demo-token"
    private let process: Process

    private init(url: String, process: Process) {
        self.url = url
        self.process = process
    }

    /// Starts the emulator and returns once it has printed the address it listens on.
    public static func start(threats: Int, arguments: [String] = []) async throws -> EmulatorProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ThreatpipeCommand.executablePath)
        process.arguments = ["emulator", "--threats", String(threats), "--port", "0"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = output.fileHandleForReading
        // The first line names the address; reading blocks, so it runs on a thread of its own.
        let line = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            Thread {
                var text = ""
                while !text.contains("\n") {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                continuation.resume(returning: text)
            }.start()
        }
        guard let range = line.range(of: #"https?://[0-9.]+:[0-9]+"#, options: .regularExpression) else {
            process.terminate()
            throw EmulatorDidNotStart()
        }
        return EmulatorProcess(url: String(line[range]), process: process)
    }

    /// Stops the emulator and waits for it to exit.
    public func stop() async {
        guard process.isRunning else { return }
        let process = self.process
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                process.terminate()
                process.waitUntilExit()
                continuation.resume()
            }.start()
        }
    }
}
