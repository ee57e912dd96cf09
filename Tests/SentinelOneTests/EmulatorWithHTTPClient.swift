import AsyncHTTPClient
import TestSupport

/// Runs `body` with an emulator on loopback and an HTTP client, and stops both however `body` ends.
func withEmulatorAndHTTPClient(
    threats: Int,
    latency: Duration = .zero,
    _ body: (RunningEmulator, HTTPClient) async throws -> Void
) async throws {
    let emulator = try await RunningEmulator.start(threats: threats, latency: latency)
    let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
    do {
        try await body(emulator, httpClient)
    } catch {
        try? await httpClient.shutdown()
        await emulator.stop()
        throw error
    }
    try await httpClient.shutdown()
    await emulator.stop()
}
