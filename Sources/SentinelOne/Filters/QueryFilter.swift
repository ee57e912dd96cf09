import Foundation
import RawJSON

/// One checked query parameter: a documented name and its value, already in the form the API takes.
public struct QueryFilter: Sendable, Equatable {
    /// What is trimmed around each element of a list value.
    private static let spaces = CharacterSet(charactersIn: " ")

    public var name: String
    /// The value as sent (lists comma-joined, booleans lower-case).
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// The filters as query items: list parameters keep their joining commas unencoded.
    static func queryItems(_ filters: [QueryFilter], catalog: FilterCatalog) -> [QueryString.Item] {
        filters.map { ($0.name, $0.value, catalog.parameters[$0.name] == .array) }
    }

    /// Checks `name=value` options against `catalog`: unknown names (with the closest valid name), values of the
    /// wrong type, parameters threatpipe manages itself, and single-valued parameters given twice are errors.
    /// Repeated list parameters are merged.
    public static func parse(_ options: [String], catalog: FilterCatalog) throws(FilterError) -> [QueryFilter] {
        var filters: [QueryFilter] = []
        for option in options {
            guard let equals = option.firstIndex(of: "="), equals != option.startIndex else {
                throw FilterError(option: option, reason: "expected name=value")
            }
            let name = String(option[..<equals])
            let rawValue = String(option[option.index(after: equals)...])
            guard let type = catalog.parameters[name] else {
                let suggestion = EditDistance.closest(to: name, among: catalog.parameters.keys)
                throw FilterError(
                    option: option,
                    reason: "unknown filter '\(name)' for \(catalog.endpoint)"
                        + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
                )
            }
            if let instead = catalog.managed[name] {
                throw FilterError(option: option, reason: "filter '\(name)' is set by threatpipe: \(instead)")
            }
            let value = try checkedValue(rawValue, of: type, name: name, option: option)
            if let existing = filters.firstIndex(where: { $0.name == name }) {
                guard type == .array else {
                    throw FilterError(option: option, reason: "filter '\(name)' given twice; it takes one value")
                }
                filters[existing].value += "," + value
            } else {
                filters.append(QueryFilter(name: name, value: value))
            }
        }
        return filters
    }

    private static func checkedValue(
        _ value: String,
        of type: FilterCatalog.ParameterType,
        name: String,
        option: String
    ) throws(FilterError) -> String {
        switch type {
        case .array:
            let elements = value.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: Self.spaces) }
            guard !elements.isEmpty, !elements.contains(where: \.isEmpty) else {
                throw FilterError(option: option, reason: "'\(name)' takes a comma-separated list of non-empty values")
            }
            return elements.joined(separator: ",")
        case .boolean:
            switch value.lowercased() {
            case "true": return "true"
            case "false": return "false"
            default: throw FilterError(option: option, reason: "'\(name)' takes true or false")
            }
        case .number:
            guard let number = Int(value), number >= 0 else {
                throw FilterError(option: option, reason: "'\(name)' takes a non-negative integer")
            }
            return String(number)
        case .string:
            guard !value.isEmpty else { throw FilterError(option: option, reason: "'\(name)' needs a value") }
            if isTimestampFilter(name), RFC3339Timestamp(value) == nil {
                throw FilterError(
                    option: option,
                    reason: "'\(name)' takes an RFC 3339 timestamp such as 2024-05-01T00:00:00Z"
                )
            }
            if name == "sortOrder", value != "asc", value != "desc" {
                throw FilterError(option: option, reason: "'sortOrder' takes asc or desc")
            }
            return value
        }
    }

    private static func isTimestampFilter(_ name: String) -> Bool {
        ["At__gt", "At__gte", "At__lt", "At__lte"].contains { name.hasSuffix($0) }
    }
}
