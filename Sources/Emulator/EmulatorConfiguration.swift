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
    /// Live mode: new threats per second, added while serving.
    public var addedPerSecond: Double = 0
    /// Live mode: updates per second to random existing threats (a new `updatedAt` and incident status).
    public var updatedPerSecond: Double = 0
    /// Live mode: updates per second that become visible late — stamped `lateBy` before the moment they appear, as
    /// on a console whose replicas lag or that stamps `updatedAt` before it commits.
    public var lateUpdatedPerSecond: Double = 0
    public var lateBy: Duration = .seconds(2)
    /// Live mode stops changing the console after this long; nil: never.
    public var liveDuration: Duration?
    /// Appends every (id, updatedAt) version served in a list answer to this file.
    public var versionsLogPath: String?

    /// Serve HTTPS with this PEM certificate (chain) and PEM private key; both or neither.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?

    /// Faults to inject.
    public var faults = FaultPlan()

    /// Live mode: this many threats added at once, `burstAfter` after the start (a burst of new threats).
    public var burstThreats = 0
    public var burstAfter: Duration = .seconds(10)

    var isLive: Bool { addedPerSecond > 0 || updatedPerSecond > 0 || lateUpdatedPerSecond > 0 || burstThreats > 0 }

    public init() {}
}
