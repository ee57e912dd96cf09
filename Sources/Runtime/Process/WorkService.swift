import NIOConcurrencyHelpers
import Pipeline
import ServiceLifecycle

/// A command's work (an export, a run) as a service of its group: a graceful shutdown (SIGTERM, SIGINT) raises the
/// stop signal — fetching ends, what is in flight is delivered and acknowledged — and the work returns. Its outcome
/// is kept for the command, never thrown into the group.
final class WorkService: Service, Sendable {
    private let stop: StopSignal
    private let body: @Sendable (StopSignal) async throws -> String
    private let outcome = Outcome()

    init(stop: StopSignal, body: @escaping @Sendable (StopSignal) async throws -> String) {
        self.stop = stop
        self.body = body
    }

    func run() async {
        let stop = self.stop
        let result: Result<String, any Error>
        do {
            result = .success(try await withGracefulShutdownHandler {
                try await body(stop)
            } onGracefulShutdown: {
                stop.requestStop()
            })
        } catch {
            result = .failure(error)
        }
        outcome.set(result)
    }

    /// The work's closing line or its error; nil if it never ran.
    var result: Result<String, any Error>? { outcome.value }

    private final class Outcome: Sendable {
        private let storage = NIOLockedValueBox<Result<String, any Error>?>(nil)
        func set(_ value: Result<String, any Error>) { storage.withLockedValue { $0 = value } }
        var value: Result<String, any Error>? { storage.withLockedValue { $0 } }
    }
}
