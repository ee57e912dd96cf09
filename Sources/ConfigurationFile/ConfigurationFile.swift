import Pipeline
import SentinelOne
import Yams

/// The YAML configuration file (`--config PATH`) read into typed values: a mapping of long option names to a value
/// or a list of values, plus the `shards:` list of `run --group` (see ``ShardsFile``). Every shape the file can
/// have that is not that is a ``ConfigurationFileError`` naming what is wrong — never a crash (a fuzz target holds
/// it to that).
public enum ConfigurationFile {
    /// One long option of a command: a flag takes true or false; a repeatable option a list.
    public struct OptionShape: Equatable, Sendable {
        public var isFlag: Bool
        public var isRepeating: Bool

        public init(isFlag: Bool, isRepeating: Bool) {
            self.isFlag = isFlag
            self.isRepeating = isRepeating
        }
    }

    /// A key's value, typed by its option's shape.
    public enum Value: Equatable, Sendable {
        case bool(Bool)
        case string(String)
        case strings([String])
    }

    /// The largest configuration file read: far more than any real one (ten thousand shards fit), checked before
    /// the file is read.
    public static let maximumFileBytes = 4 << 20

    /// The values of the file `path` holding `text`, typed by the shapes of the `known` options. A key no option
    /// has is an error naming the closest valid one; the `shards:` list is checked (``ShardsFile/entries(_:path:)``)
    /// and left out.
    public static func values(yaml text: String, path: String, known: [String: OptionShape]) throws(ConfigurationFileError) -> [String: Value] {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationFileError("the configuration file \(path) is not valid YAML: \(error)")
        }
        guard let node else { return [:] }
        guard case .mapping(let mapping) = node else {
            throw ConfigurationFileError("the configuration file \(path) must be a mapping of option names to values")
        }
        var values: [String: Value] = [:]
        for (keyNode, valueNode) in mapping {
            guard case .scalar = keyNode, let key = keyNode.string else {
                throw ConfigurationFileError("the configuration file \(path) has a key that is a list or a mapping: keys are option names")
            }
            if key == "shards" {
                _ = try ShardsFile.entries(valueNode, path: path)
                continue
            }
            if key == "config" {
                throw ConfigurationFileError("'config' in \(path): a configuration file cannot name another one (pass --config)")
            }
            if key.isEmpty {
                throw ConfigurationFileError("the configuration file \(path) has an empty key: keys are option names")
            }
            guard let shape = known[key] else {
                let hint = EditDistance.closest(to: key, among: Set(known.keys)).map { "; did you mean '\($0)'?" } ?? ""
                let secret = ["api-token", "token", "kafka-sasl-password"].contains(key)
                    ? "; secrets are read from files (api-token-file, kafka-sasl-password-file) or S1_API_TOKEN" : ""
                throw ConfigurationFileError("unknown key '\(key)' in \(path)\(secret.isEmpty ? hint : secret)")
            }
            values[key] = try value(of: valueNode, key: key, shape: shape, path: path)
        }
        return values
    }

    private static func value(of node: Node, key: String, shape: OptionShape, path: String) throws(ConfigurationFileError) -> Value {
        switch node {
        case .scalar(let scalar) where shape.isFlag:
            // `true`, `'false'`, `"yes"`: quoted or not, the same answer.
            guard let flag = node.bool ?? flagValue(scalar.string) else {
                throw ConfigurationFileError("key '\(key)' in \(path) takes true or false, not '\(scalar.string)'")
            }
            return .bool(flag)
        case .scalar(let scalar) where shape.isRepeating: return .strings([scalar.string])
        case .scalar(let scalar): return .string(scalar.string)
        case .sequence(let items) where shape.isRepeating:
            var texts: [String] = []
            for item in items {
                guard let text = item.string else {
                    throw ConfigurationFileError("key '\(key)' in \(path) takes a list of values, not of lists or mappings")
                }
                texts.append(text)
            }
            return .strings(texts)
        case .sequence:
            throw ConfigurationFileError("key '\(key)' in \(path) takes one value, not a list")
        case .mapping, .alias:
            throw ConfigurationFileError("key '\(key)' in \(path) takes a value or a list of values")
        }
    }

    /// A flag's value as a variable or a file's scalar (quoted or not) gives it; nil when it is neither.
    public static func flagValue(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "1", "yes", "on": true
        case "false", "0", "no", "off": false
        default: nil
        }
    }
}

/// What is wrong with the configuration file: a usage error (exit 64), found before anything is requested.
public struct ConfigurationFileError: ClassifiedError, CustomStringConvertible {
    public var kind: FailureKind { .configuration }
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
