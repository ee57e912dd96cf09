import ArgumentParser
import Logging
import Runtime

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LineLogHandler.Format: ExpressibleByArgument {}
extension EnrichmentErrorPolicy: ExpressibleByArgument {}
