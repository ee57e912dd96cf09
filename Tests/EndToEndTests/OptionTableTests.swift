import ConfigurationFile
import Foundation
import TestSupport
import Testing

/// The configuration layers read each command's options from a table (`scripts/option-table.py` writes it), not
/// from ArgumentParser's underscored API: the table must say exactly what the commands parse — every long option,
/// flag or not, repeating or not — as ArgumentParser describes each command on its public command line.
@Suite struct OptionTableTests {
    @Test(arguments: ["audit", "check", "export", "run"])
    func theTableSaysWhatTheCommandParses(_ command: String) async throws {
        let threatpipe = try ThreatpipeCommand()
        defer { threatpipe.cleanUp() }
        let outcome = try await threatpipe.run([command, "--experimental-dump-help"], environment: [:])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let dump = try JSONDecoder().decode(Dump.self, from: Data(outcome.stdoutText.utf8))
        var parsed: [String: ConfigurationFile.OptionShape] = [:]
        for argument in dump.command.arguments ?? [] where argument.kind != "positional" {
            for name in argument.names ?? [] where name.kind == "long" && name.name != "help" {
                parsed[name.name] = .init(isFlag: argument.kind == "flag", isRepeating: argument.isRepeating ?? false)
            }
        }
        let table = ConfigurationFile.optionTable[command] ?? [:]
        #expect(parsed.count > 20)
        #expect(table == parsed, "stale: run python3 scripts/option-table.py — missing \(Set(parsed.keys).subtracting(table.keys).sorted()), extra \(Set(table.keys).subtracting(parsed.keys).sorted())")
    }

    private struct Dump: Decodable {
        struct Command: Decodable { var arguments: [Argument]? }
        struct Argument: Decodable {
            var kind: String
            var names: [Name]?
            var isRepeating: Bool?
        }
        struct Name: Decodable {
            var kind: String
            var name: String
        }
        var command: Command
    }
}
