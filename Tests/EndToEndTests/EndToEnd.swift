import TestSupport
import Testing

/// The end-to-end suites run one at a time: they start processes and measure them, and a neighbour's load would
/// blur what the memory test sees.
@Suite(.serialized) enum EndToEnd {}

extension EndToEnd {
    /// Runs `body` with an in-process emulator of `threats` threats and a fresh command directory, and stops and
    /// removes both afterwards, also when `body` throws.
    static func withEmulator(threats: Int, _ body: (RunningEmulator, ThreatpipeCommand) async throws -> Void) async throws {
        let emulator = try await RunningEmulator.start(threats: threats)
        let command = try ThreatpipeCommand()
        defer { command.cleanUp() }
        do {
            try await body(emulator, command)
        } catch {
            await emulator.stop()
            throw error
        }
        await emulator.stop()
    }
}
