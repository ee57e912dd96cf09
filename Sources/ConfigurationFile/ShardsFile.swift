import Yams

/// The `shards:` list of the configuration file (`run --group`): each entry a name, optionally its own console
/// and token file, and its filters.
///
/// ```yaml
/// shards:
///   - name: emea-site-1
///     console-url: https://euce1.sentinelone.net     # optional: the top-level console-url
///     api-token-file: /run/secrets/euce1-token        # optional: the top-level token
///     filter: ["siteIds=1286405255257023125"]
/// ```
public enum ShardsFile {
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var consoleURL: String?
        public var apiTokenFile: String?
        public var filters: [String] = []
    }

    static let keys: Set<String> = ["name", "console-url", "api-token-file", "filter"]

    /// The entries of the configuration file `path` holding `text`; none when it has no `shards` key.
    public static func entries(yaml text: String, path: String) throws(ConfigurationFileError) -> [Entry] {
        guard case .mapping(let mapping)? = try? Yams.compose(yaml: text), let node = mapping["shards"] else { return [] }
        return try entries(node, path: path)
    }

    /// The entries of a `shards` value; throws naming what is wrong.
    static func entries(_ node: Node, path: String) throws(ConfigurationFileError) -> [Entry] {
        guard case .sequence(let sequence) = node else {
            throw ConfigurationFileError("'shards' in \(path) takes a list of shards (name, console-url, api-token-file, filter)")
        }
        var entries: [Entry] = []
        for (index, item) in sequence.enumerated() {
            guard case .mapping(let fields) = item else {
                throw ConfigurationFileError("shard \(index + 1) in \(path) must be a mapping (name, console-url, api-token-file, filter)")
            }
            var entry = Entry(name: "")
            for (keyNode, value) in fields {
                let key = keyNode.string ?? "\(keyNode)"
                switch (key, value) {
                case ("name", .scalar(let scalar)): entry.name = scalar.string
                case ("console-url", .scalar(let scalar)): entry.consoleURL = scalar.string
                case ("api-token-file", .scalar(let scalar)): entry.apiTokenFile = scalar.string
                case ("filter", .scalar(let scalar)): entry.filters = [scalar.string]
                case ("filter", .sequence(let values)):
                    entry.filters = []
                    for value in values {
                        guard let text = value.string else {
                            throw ConfigurationFileError("shard \(index + 1) in \(path): 'filter' takes name=value strings")
                        }
                        entry.filters.append(text)
                    }
                default:
                    let hint = keys.contains(key) ? "takes one value" : "is not a shard key (name, console-url, api-token-file, filter)"
                    throw ConfigurationFileError("shard \(index + 1) in \(path): '\(key)' \(hint)")
                }
            }
            guard !entry.name.isEmpty else {
                throw ConfigurationFileError("shard \(index + 1) in \(path) has no name")
            }
            entries.append(entry)
        }
        return entries
    }
}
