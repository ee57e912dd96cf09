import ArgumentParser
import Configuration
import Foundation
import Runtime
import SentinelOne
import SystemPackage
import ConfigurationFile

/// Settings from three places, for `export`, `run` and `check`: a YAML file (`--config PATH`), environment
/// variables (`THREATPIPE_<OPTION>`, e.g. `THREATPIPE_CONSOLE_URL`), and flags — flags win over the environment,
/// which wins over the file. Every option has the same name in all three: the file's keys are the long option
/// names (`console-url: https://…`, `filter: [siteIds=1, …]`), the variables their upper-case forms.
///
/// The environment and the file are swift-configuration providers read through one `ConfigReader` (environment
/// first); names that look like secrets are marked secret, so an access log redacts them. The command's options —
/// names, flag or option, repeatable or not — come from ArgumentParser's structured description of the command. The
/// layers' values become command-line arguments before parsing, so each option is validated in one place whatever
/// its source. Secrets are never accepted from the file or a variable as values: only as files (`api-token-file`,
/// `kafka-sasl-password-file`), or through `S1_API_TOKEN`.
enum ConfigurationLayers {
    /// The commands that take configuration, and their long options (a table made from the commands by
    /// `scripts/option-table.py`; a test keeps it equal to what the commands parse).
    static let commands: [String: [String: OptionShape]] = ConfigurationFile.optionTable

    /// One long option of a command.
    typealias OptionShape = ConfigurationFile.OptionShape

    /// The process's arguments with the file's and the environment's settings added where no flag gives them.
    static func arguments(_ arguments: [String], environment: [String: String]) async throws -> [String] {
        guard let command = arguments.first, let options = commands[command] else { return arguments }
        let given = Set(arguments.compactMap(optionName))
        var layered = environment.filter { $0.key.hasPrefix("THREATPIPE_") }
        // S1_CONSOLE_URL is the environment's console URL too: it wins over the file, as every variable does.
        if layered["THREATPIPE_CONSOLE_URL"] == nil, let console = environment["S1_CONSOLE_URL"], options["console-url"] != nil {
            layered["THREATPIPE_CONSOLE_URL"] = console
        }
        for (name, shape) in options where shape.isFlag && !given.contains(name) {
            if let value = layered[environmentName(name)], Self.flagValue(value) == nil {
                throw ConfigurationError(description: "\(environmentName(name)) takes true or false, not '\(value)'")
            }
        }
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(
                environmentVariables: layered,
                secretsSpecifier: .dynamic { key, _ in isSecretName(key) },
                arraySeparator: ";"
            ).prefixKeys(with: "threatpipe")
        ]
        if let path = configPath(arguments) ?? environment["THREATPIPE_CONFIG"] {
            // One file serves every command: the other commands' options are known keys too.
            var known = options
            for other in commands where other.key != command {
                known.merge(other.value) { mine, _ in mine }
            }
            providers.append(InMemoryProvider(name: path, values: try fileValues(path: path, known: known)))
        }
        let reader = ConfigReader(providers: providers)
        var added: [String] = []
        // `audit --format` is its report's format, not the records' `format` a shared file or variable sets.
        let flagOnly: Set<String> = command == "audit" ? ["config", "format"] : ["config"]
        for (name, shape) in options.sorted(by: { $0.key < $1.key }) where !given.contains(name) && !flagOnly.contains(name) {
            let key = ConfigKey([name])
            if shape.isFlag {
                // A variable's word is read here (checked above), the file's by the reader.
                let value = layered[environmentName(name)].flatMap(Self.flagValue) ?? reader.bool(forKey: key)
                if value == true {
                    added.append("--\(name)")
                } else if value == false, options["no-\(name)"] != nil, !given.contains("no-\(name)") {
                    // A flag that is on by default (`track-changes`) is turned off by its inversion.
                    added.append("--no-\(name)")
                }
            } else if shape.isRepeating {
                let values = reader.stringArray(forKey: key) ?? reader.string(forKey: key).map { [$0] } ?? []
                added += values.flatMap { $0.split(separator: "\n") }.filter { !$0.isEmpty }.flatMap { ["--\(name)", String($0)] }
            } else if let value = reader.string(forKey: key) {
                added += ["--\(name)", value]
            }
        }
        return coalescing(arguments + added)
    }

    /// Options a user may repeat thousands of times (`--filter siteIds=…` per site): their occurrences reach the
    /// parser as one, the values joined by newlines (which no filter holds), and are split again where they are read
    /// (``SourceOptions``). ArgumentParser removes each argument it parses from an array, so N occurrences cost N²:
    /// 10,000 filters took 15–19 s, 20,000 in a file 40 s.
    static let coalesced: Set<String> = ["filter", "event-filter"]

    static func coalescing(_ arguments: [String]) -> [String] {
        var kept: [String] = []
        var values: [String: [String]] = [:]
        var order: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                kept += arguments[index...]
                break
            }
            guard let name = optionName(argument), coalesced.contains(name) else {
                kept.append(argument)
                index += 1
                continue
            }
            let value: String
            if let equals = argument.firstIndex(of: "=") {
                value = String(argument[argument.index(after: equals)...])
            } else if index + 1 < arguments.count {
                index += 1
                value = arguments[index]
            } else {
                kept.append(argument)  // the parser says what is missing
                break
            }
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(value)
            index += 1
        }
        for name in order { kept += ["--\(name)", values[name]!.joined(separator: "\n")] }
        return kept
    }

    static var maximumFileBytes: Int { ConfigurationFile.maximumFileBytes }

    /// A flag's value as a variable or a file's scalar (quoted or not) gives it; nil when it is neither.
    static func flagValue(_ text: String) -> Bool? { ConfigurationFile.flagValue(text) }

    /// `THREATPIPE_CONSOLE_URL` for `console-url`.
    static func environmentName(_ option: String) -> String {
        "THREATPIPE_" + option.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// A name that holds a secret (never read as a value; marked secret so it would be redacted if it were).
    static func isSecretName(_ name: String) -> Bool {
        let name = name.lowercased()
        return name.contains("password") || name.contains("secret") || name.contains("token") && !name.contains("token-file") && !name.contains("token_file")
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

    /// The file's values, typed by the options' shapes (a flag a boolean, a repeatable option a list), after
    /// checking its shape: readable YAML, a mapping of known option names to a value or a list of values, plus the
    /// `shards:` list (`run --group`). A key no command knows is an error naming the closest valid one.
    ///
    /// The file is read with Yams and served by an `InMemoryProvider` rather than `FileProvider<YAMLSnapshot>`,
    /// which refuses a list of mappings anywhere in the file — and `shards:` is one.
    static func fileValues(path: String, known: [String: OptionShape]) throws -> [AbsoluteConfigKey: ConfigValue] {
        let text: String
        if let status = try? FileStatus.of(path: path), status.isRegularFile, status.size > maximumFileBytes {
            throw ConfigurationError(description: "the configuration file \(path) is \(status.size) bytes; at most \(maximumFileBytes) are read")
        }
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(description: "cannot read the configuration file \(path): \(error.localizedDescription)")
        }
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in try ConfigurationFile.values(yaml: text, path: path, known: known) {
            let content: ConfigContent = switch value {
            case .bool(let flag): .bool(flag)
            case .string(let text): .string(text)
            case .strings(let texts): .stringArray(texts)
            }
            values[AbsoluteConfigKey([key])] = ConfigValue(content, isSecret: isSecretName(key))
        }
        return values
    }
}
