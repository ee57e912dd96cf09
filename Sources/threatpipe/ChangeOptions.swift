import ArgumentParser
import Pipeline
import Runtime

extension ChangeLedger.Emit: ExpressibleByArgument {}

/// What `run` says of each version's change (`meta.change`), what it sends, and the threats' state it keeps for that.
struct ChangeOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Say in every record what changed since the version of the threat delivered before (meta.change), keeping each threat's tracked fields beside the checkpoint: an SQLite database beside --state, or --state-topic.")
    var trackChanges = true

    @Option(help: ArgumentHelp("A field whose change makes a version a change (dotted, into the threat, e.g. threatInfo.incidentStatus); repeat it. Replaces the default set: \(TrackedFields.defaultPaths.joined(separator: ", ")).", valueName: "path"))
    var track: [String] = []

    @Option(help: "all: every version; changes: new threats and versions where a tracked field changed — the others are acknowledged without being sent (the checkpoint still moves).")
    var emit: ChangeLedger.Emit = .all

    @Option(help: "Forget threats the console has not listed for this long: a duration such as 180d.", transform: DurationArgument.parser(or: Usage.stateRetention))
    var stateRetention = DurationArgument(.seconds(180 * 86_400), written: "180d")

    @Option(help: "With --checkpoint-store kafka: the compacted topic holding the threats' state (key = threat id), as many partitions as the checkpoint topic.")
    var stateTopic = "threatpipe.threat-state"

    func validate() throws {
        guard (.seconds(86_400) ... .seconds(36_500 * 86_400)).contains(stateRetention.duration) else {
            throw ValidationError(Usage.stateRetention)
        }
        if !trackChanges, emit == .changes {
            throw ValidationError("--emit changes needs the changes: drop --no-track-changes")
        }
        if !trackChanges, !track.isEmpty {
            throw ValidationError("--track needs the changes: drop --no-track-changes")
        }
        if stateTopic.isEmpty || stateTopic.count > 249 {
            throw ValidationError("--state-topic takes a topic name of 1…249 characters")
        }
        _ = try tracked()
    }

    /// The tracked fields: `--track`'s, or the default set.
    func tracked() throws -> TrackedFields {
        guard !track.isEmpty else { return .defaults }
        do {
            return try TrackedFields(track)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// These settings on the run's configuration.
    func apply(to configuration: inout RunConfiguration) throws {
        guard trackChanges else {
            configuration.changes = nil
            return
        }
        var settings = ChangeSettings()
        settings.tracked = try tracked()
        settings.emit = emit
        settings.retention = stateRetention.duration
        settings.stateTopic = stateTopic
        configuration.changes = settings
    }
}
