import Pipeline
import RawJSON

/// The record formats threatpipe writes, each with a published JSON Schema under `schemas/`.
public enum OutputFormat: String, Sendable, CaseIterable {
    /// The enriched record: the API's JSON spliced unchanged (`schemas/enriched-threat.schema.json`).
    case raw
    /// An OCSF 1.5.0 Detection Finding (`schemas/ocsf-detection-finding.schema.json`).
    case ocsf
    /// An ECS 8.11 alert document (`schemas/ecs-alert.v2.schema.json`).
    case ecs

    /// The schema id the records of this format carry (Kafka header `threatpipe-schema`).
    public var schemaID: String {
        switch self {
        case .raw: RawRecordEncoder.schemaID
        case .ocsf: OCSFDetectionFindingEncoder.schemaID
        case .ecs: ECSAlertEncoder.schemaID
        }
    }

    /// The version of the standard the format follows, when it follows one.
    public var standardVersion: String? {
        switch self {
        case .raw: nil
        case .ocsf: "OCSF " + OCSFDetectionFindingEncoder.ocsfVersion
        case .ecs: "ECS " + ECSAlertEncoder.ecsVersion
        }
    }

    /// The encoder writing this format for records of `consoleURL`.
    public func encoder(consoleURL: String) -> any RecordEncoder {
        switch self {
        case .raw: RawRecordEncoder(consoleURL: consoleURL)
        case .ocsf: OCSFDetectionFindingEncoder(consoleURL: consoleURL)
        case .ecs: ECSAlertEncoder(consoleURL: consoleURL)
        }
    }
}
