import Pipeline

/// `--on-enrichment-error`: what a failed analysis or events fetch does to the export.
public enum EnrichmentErrorPolicy: String, Sendable, CaseIterable {
    /// The record goes out with the failed part null and the error recorded in `meta`.
    case emit
    /// The export stops with a non-zero exit.
    case fail

    public func configure<Source>(_ configuration: ExportPipeline<Source>.Configuration) -> ExportPipeline<Source>.Configuration {
        var configuration = configuration
        configuration.failOnEnrichmentError = self == .fail
        return configuration
    }
}
