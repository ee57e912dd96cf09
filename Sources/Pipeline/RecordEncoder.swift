/// Turns an enriched threat into the bytes of one record in an output format.
public protocol RecordEncoder: Sendable {
    func encode(_ threat: EnrichedThreat) -> EncodedRecord
}
