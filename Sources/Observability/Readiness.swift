import NIOConcurrencyHelpers

/// Whether threatpipe's work is going well, for `/readyz`: not ready before the work starts, after a failure, or
/// (in `run`) while polls fail; ready otherwise.
public final class Readiness: Sendable {
    /// A snapshot: ready, or not and why.
    public struct State: Sendable, Equatable {
        public var isReady: Bool
        public var reason: String
        /// More lines for `/readyz` (a group process: the shards it holds).
        public var detail: String

        public init(isReady: Bool, reason: String, detail: String = "") {
            self.isReady = isReady
            self.reason = reason
            self.detail = detail
        }
    }

    private let current = NIOLockedValueBox(State(isReady: false, reason: "starting"))
    private let probe: (@Sendable () -> State?)?

    /// - Parameter probe: asked on every `/readyz`; when it answers, its answer wins (run: the poll health).
    public init(probe: (@Sendable () -> State?)? = nil) {
        self.probe = probe
    }

    public var state: State { probe?() ?? current.withLockedValue { $0 } }

    public func markReady() { current.withLockedValue { $0 = State(isReady: true, reason: "") } }

    public func markNotReady(_ reason: String) { current.withLockedValue { $0 = State(isReady: false, reason: reason) } }
}
