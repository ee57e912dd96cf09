import NIOConcurrencyHelpers
import ServiceLifecycle

/// Stops a running emulator gracefully: it stops accepting, finishes and closes the connections it accepted, and its
/// `run` returns.
///
/// Cancelling the task that runs the emulator instead can drop a connection accepted a moment before, which
/// SwiftNIO traps on ("Deinited NIOAsyncWriter without calling finish()"); a graceful stop hands every accepted
/// connection to the server first.
public final class EmulatorStopTrigger: Sendable {
    private enum State {
        case idle
        case running(ServiceGroup)
        case stopRequested
    }

    private let state = NIOLockedValueBox(State.idle)

    public init() {}

    /// Asks the emulator to stop; when it has not started yet, it stops as soon as it does.
    public func stop() async {
        let group: ServiceGroup? = state.withLockedValue { state in
            if case .running(let group) = state { return group }
            state = .stopRequested
            return nil
        }
        await group?.triggerGracefulShutdown()
    }

    /// Called by the emulator with the service group it runs in.
    func attach(_ group: ServiceGroup) async {
        let stopRequested = state.withLockedValue { state -> Bool in
            if case .stopRequested = state { return true }
            state = .running(group)
            return false
        }
        if stopRequested { await group.triggerGracefulShutdown() }
    }
}
