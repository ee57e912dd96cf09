import Emulator
import Logging

/// An emulator serving on a free loopback port inside the test process, for as long as the test needs it.
public final class RunningEmulator: Sendable {
    /// `http://127.0.0.1:PORT`.
    public let url: String
    public let api: EmulatorAPI
    public let token: String
    private let task: Task<Void, any Error>
    private let stopTrigger: EmulatorStopTrigger

    private init(url: String, api: EmulatorAPI, token: String, task: Task<Void, any Error>, stopTrigger: EmulatorStopTrigger) {
        self.url = url
        self.api = api
        self.token = token
        self.task = task
        self.stopTrigger = stopTrigger
    }

    /// Starts the emulator and returns once it accepts connections.
    public static func start(
        threats: Int,
        seed: UInt64 = 1,
        latency: Duration = .zero,
        addedPerSecond: Double = 0,
        updatedPerSecond: Double = 0,
        lateUpdatedPerSecond: Double = 0,
        faults: [String] = [],
        token: String? = nil
    ) async throws -> RunningEmulator {
        var configuration = EmulatorConfiguration()
        if let token { configuration.token = token }
        configuration.faults = try FaultPlan(faults)
        configuration.addedPerSecond = addedPerSecond
        configuration.updatedPerSecond = updatedPerSecond
        configuration.lateUpdatedPerSecond = lateUpdatedPerSecond
        configuration.threats = threats
        configuration.seed = seed
        configuration.latency = latency
        var logger = Logger(label: "test.emulator")
        logger.logLevel = .error
        let emulator = SentinelOneEmulator(configuration: configuration, logger: logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let stopTrigger = EmulatorStopTrigger()
        let task = Task {
            defer { continuation.finish() }
            try await emulator.run(stopTrigger: stopTrigger) { port in continuation.yield(port) }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await task.value
            throw EmulatorDidNotStart()
        }
        return RunningEmulator(
            url: "http://127.0.0.1:\(port)", api: emulator.api, token: configuration.token, task: task, stopTrigger: stopTrigger
        )
    }

    /// Stops serving gracefully and waits for the server to close. A stop that has not finished after ten seconds
    /// (a client holding a request open) is turned into cancellation.
    public func stop() async {
        await stopTrigger.stop()
        let task = self.task
        let deadline = Task {
            try await Task.sleep(for: .seconds(10))
            task.cancel()
        }
        _ = try? await task.value
        deadline.cancel()
    }
}

struct EmulatorDidNotStart: Error {}
