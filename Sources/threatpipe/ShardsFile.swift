import Foundation
import Runtime
import SentinelOne
import ConfigurationFile

extension ShardsFile {
    /// The entries of the configuration file at `path`; none when it has no `shards` key.
    static func load(path: String) throws -> [Entry] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(description: "cannot read the configuration file \(path): \(error.localizedDescription)")
        }
        return try entries(yaml: text, path: path)
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
