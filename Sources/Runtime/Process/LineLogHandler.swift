import Logging
import RawJSON

/// A swift-log handler writing one line per event to standard error, as logfmt (`ts=… level=info msg="…" key=value`)
/// or as a JSON object: what log shippers parse. Secrets never reach it: the token prints as `<redacted>`.
public struct LineLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable {
        case logfmt, json
    }

    let label: String
    let format: Format
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public init(label: String, format: Format) {
        self.label = label
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", RFC3339Timestamp.now.formatted(fractionDigits: 3)),
            ("level", event.level.rawValue),
            ("logger", label),
            ("msg", "\(event.message)"),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() { fields.append((key, "\(merged[key]!)")) }
        printError(format == .json ? Self.json(fields) : Self.logfmt(fields))
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline }
            guard needsQuotes else { return "\(key)=\(value)" }
            var quoted = "\""
            for character in value {
                switch character {
                case "\"": quoted += "\\\""
                case "\\": quoted += "\\\\"
                case "\n": quoted += "\\n"
                case "\r": quoted += "\\r"
                default: quoted.append(character)
                }
            }
            return "\(key)=\(quoted)\""
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, String)]) -> String {
        String(decoding: JSONValue.object(fields.map { JSONMember($0.0, .string($0.1)) }).serialized, as: UTF8.self)
    }
}
