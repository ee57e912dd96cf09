import Logging
@testable import Pipeline

extension ExportPipeline {
    /// Runs the pass through a one-pass session of its own over the pipeline's sinks: opens them, delivers, closes
    /// them — what `export` does through the runtime, without it.
    func run() async throws -> ExportSummary {
        let sinks = self.sinks
        let session = DeliverySession(sinks: { sinks }, checkpoints: nil, lifetime: .onePass, logger: Logger(label: "threatpipe.pipeline"))
        _ = try await session.prepare()
        let outcome = await session.deliver { pass in try await self.run(through: pass) }
        await session.close()
        return try outcome.get()
    }
}
