import Runtime
import ArgumentParser
import Foundation
import SentinelOne
import Yams

/// Settings from three places, for `export`, `run` and `check`: a YAML file (`--config PATH`), environment
/// variables (`THREATPIPE_<OPTION>`, e.g. `THREATPIPE_CONSOLE_URL`), and flags — flags win over the environment,
/// which wins over the file. Every option has the same name in all three: the file's keys are the long option
/// names (`console-url: https://…`, `filter: [siteIds=1, …]`), the variables their upper-case forms.
///
/// The layers become command-line arguments before parsing, so each option is validated in one place whatever
/// its source. Secrets are never accepted from the file or a variable as values: only as files
/// (`api-token-file`, `kafka-sasl-password-file`), or through `S1_API_TOKEN`.
enum ConfigurationLayers {
    /// The commands that take configuration.
    static let commands: [String: any ParsableCommand.Type] = [
        "export": ExportCommand.self, "run": RunCommand.self, "check": CheckCommand.self,
    ]

    /// The process's arguments with the file's and the environment's settings added where no flag gives them.
    static func arguments(_ arguments: [String], environment: [String: String]) throws -> [String] {
        guard let command = arguments.first, let type = commands[command] else { return arguments }
        let options = Self.options(of: type)
        let given = Set(arguments.compactMap(optionName))
        var added: [String] = []
        var fromEnvironment: Set<String> = []
        for (name, isFlag) in options.sorted(by: { $0.key < $1.key }) where !given.contains(name) && name != "config" {
            guard let value = environment[environmentName(name)] else { continue }
            fromEnvironment.insert(name)
            added += isFlag ? (isTrue(value) ? ["--\(name)"] : []) : values(value, name: name).flatMap { ["--\(name)", $0] }
        }
        if let path = configPath(arguments) ?? environment["THREATPIPE_CONFIG"] {
            // One file serves every command: the other commands' options are known keys too.
            let known = commands.filter { $0.key != command }.values
                .reduce(into: Set(options.keys)) { $0.formUnion(Self.options(of: $1).keys) }
            for (name, value) in try fileSettings(path: path, known: known)
            where options[name] != nil && !given.contains(name) && !fromEnvironment.contains(name) {
                if options[name] == true {
                    if value == ["true"] { added.append("--\(name)") }
                } else {
                    added += value.flatMap { ["--\(name)", $0] }
                }
            }
        }
        return arguments + added
    }

    /// `THREATPIPE_CONSOLE_URL` for `console-url`.
    static func environmentName(_ option: String) -> String {
        "THREATPIPE_" + option.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The command's long options (name → is a flag), read from its help: the one list ArgumentParser keeps.
    static func options(of type: any ParsableCommand.Type) -> [String: Bool] {
        var options: [String: Bool] = [:]
        let help = type.helpMessage(columns: 1000)
        // Option definitions start their line: "  --name <value>  help…" or "  --flag  help…".
        for line in help.split(separator: "\n") {
            guard let match = line.prefixMatch(of: /\s+(?:-[a-zA-Z], )?--([a-z0-9][a-z0-9-]*)( <[^>]+>)?/), match.1 != "help" else { continue }
            options[String(match.1)] = match.2 == nil
        }
        return options
    }

    private static func optionName(_ argument: String) -> String? {
        guard argument.hasPrefix("--"), let name = argument.dropFirst(2).split(separator: "=", maxSplits: 1).first else { return nil }
        return String(name)
    }

    private static func configPath(_ arguments: [String]) -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == "--config", index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix("--config=") { return String(argument.dropFirst(9)) }
        }
        return nil
    }

    /// A variable's value: a repeatable option takes several, separated by newlines or `;`.
    private static func values(_ text: String, name: String) -> [String] {
        let repeatable: Set<String> = ["filter", "event-filter", "sink", "kafka-property", "kafka-property-file"]
        guard repeatable.contains(name) else { return [text] }
        return text.split(whereSeparator: { $0 == "\n" || $0 == ";" }).map { String($0) }.filter { !$0.isEmpty }
    }

    private static func isTrue(_ text: String) -> Bool {
        ["1", "true", "yes", "on"].contains(text.lowercased())
    }

    /// The file's settings as option name → argument values. One file serves every command, so a key of another
    /// command (`interval` for `export`) is left for that command; a key no command knows is an error naming the
    /// closest valid one.
    static func fileSettings(path: String, known: Set<String>) throws -> [(String, [String])] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(description: "cannot read the configuration file \(path): \(error.localizedDescription)")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(description: "the configuration file \(path) is not valid YAML: \(error)")
        }
        guard let node else { return [] }
        guard case .mapping(let mapping) = node else {
            throw ConfigurationError(description: "the configuration file \(path) must be a mapping of option names to values")
        }
        var settings: [(String, [String])] = []
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? "\(keyNode)"
            guard known.contains(key), key != "config" else {
                let hint = EditDistance.closest(to: key, among: known).map { "; did you mean '\($0)'?" } ?? ""
                let secret = ["api-token", "token", "kafka-sasl-password"].contains(key)
                    ? "; secrets are read from files (api-token-file, kafka-sasl-password-file) or S1_API_TOKEN" : ""
                throw ConfigurationError(description: "unknown key '\(key)' in \(path)\(secret.isEmpty ? hint : secret)")
            }
            switch valueNode {
            case .scalar(let scalar): settings.append((key, [scalar.string]))
            case .sequence(let sequence): settings.append((key, sequence.map { $0.string ?? "\($0)" }))
            case .mapping, .alias:
                throw ConfigurationError(description: "key '\(key)' in \(path) takes a value or a list of values")
            }
        }
        return settings
    }
}
