import Pipeline
import RawJSON

/// Reads `GET /web/api/v2.1/private/threats/{id}/analysis`: the `data` object, copied compact.
enum AnalysisResponse {
    static func parse(_ response: APIResponse, path: String) throws(SentinelOneError) -> [UInt8] {
        var json: [UInt8] = []
        _ = try ResponseEnvelope.scan(response, path: path) { scanner in
            guard try scanner.peekKind() == .object else { throw ShapeError(description: "data is not an object") }
            let (span, isCompact) = try scanner.skipCompactValue()
            JSONSplicer.appendCompact(scanner.bytes, span: span, isCompact: isCompact, to: &json)
        }
        return json
    }
}
