/// How the emulator listens and what console it plays.
public struct EmulatorConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port; the chosen one is reported when listening.
    public var port = 0
    public var threats = 1000
    public var seed: UInt64 = 1
    /// Added to every answer, to play a distant console.
    public var latency: Duration = .zero
    /// The only token accepted in `Authorization: ApiToken <token>`.
    public var token = "threatpipe-demo-token"

    public init() {}
}
