import Foundation
import Runtime
import SentinelOne
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
struct ShardsFile {
    struct Entry: Equatable {
        var name: String
        var consoleURL: String?
        var apiTokenFile: String?
        var filters: [String] = []
    }

    static let keys: Set<String> = ["name", "console-url", "api-token-file", "filter"]

    /// The entries of the file at `path`; none when it has no `shards` key.
    static func load(path: String) throws -> [Entry] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(description: "cannot read the configuration file \(path): \(error.localizedDescription)")
        }
        guard case .mapping(let mapping)? = try? Yams.compose(yaml: text), let node = mapping["shards"] else { return [] }
        return try entries(node, path: path)
    }

    /// The entries of a `shards` value; throws naming what is wrong.
    static func entries(_ node: Node, path: String) throws -> [Entry] {
        guard case .sequence(let sequence) = node else {
            throw ConfigurationError(description: "'shards' in \(path) takes a list of shards (name, console-url, api-token-file, filter)")
        }
        return try sequence.enumerated().map { index, item in
            guard case .mapping(let fields) = item else {
                throw ConfigurationError(description: "shard \(index + 1) in \(path) must be a mapping (name, console-url, api-token-file, filter)")
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
                    entry.filters = try values.map { value in
                        guard let text = value.string else {
                            throw ConfigurationError(description: "shard \(index + 1) in \(path): 'filter' takes name=value strings")
                        }
                        return text
                    }
                default:
                    let hint = keys.contains(key) ? "takes one value" : "is not a shard key (name, console-url, api-token-file, filter)"
                    throw ConfigurationError(description: "shard \(index + 1) in \(path): '\(key)' \(hint)")
                }
            }
            guard !entry.name.isEmpty else {
                throw ConfigurationError(description: "shard \(index + 1) in \(path) has no name")
            }
            return entry
        }
    }

    /// The shards as the runtime's configuration: each on `base` (the top-level console settings) with its own
    /// console and token when given, and the top-level filters followed by its own.
    static func shards(_ entries: [Entry], base: ConsoleConfiguration) throws -> [ShardConfiguration] {
        try entries.map { entry in
            var console = base
            if let url = entry.consoleURL { console.console = try ConsoleURL(url) }
            if let file = entry.apiTokenFile { console.apiTokenFile = file }
            console.filters = base.filters + (try QueryFilter.parse(entry.filters, catalog: .threats))
            return ShardConfiguration(name: entry.name, console: console)
        }
    }
}
