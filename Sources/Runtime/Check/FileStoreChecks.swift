import Foundation
import Persistence
import Pipeline
import SentinelOne

extension ThreatpipeRuntime {
    /// The file store, read only, with `run`'s rules: the state file's checkpoint (readable, this console's and
    /// filters') and, with changes tracked, the threats' state database beside it (a database threatpipe can use).
    /// A file that does not exist yet is fine: `run` creates it. The exit status of a failure is `run`'s.
    static func checkFileStore(_ check: CheckConfiguration) async -> [CheckLine] {
        guard let state = check.stateFile else { return [] }
        var lines: [CheckLine] = []
        if !FileManager.default.fileExists(atPath: state.path) {
            lines.append(CheckLine(name: "state file \(state.path)", detail: "none yet: run starts from --since and creates it"))
        } else if let console = try? check.console.get() {
            let store = CheckpointFileStore(
                path: state.path, consoleURL: console.console.base, filters: console.filters.map { "\($0.name)=\($0.value)" },
                startAfresh: state.resetState
            )
            do {
                let checkpoint = try await store.load()
                lines.append(CheckLine(
                    name: "state file \(state.path)",
                    detail: checkpoint.map { "checkpoint at updatedAt \($0.updatedAt)" } ?? (state.resetState ? "started afresh (--reset-state)" : "no checkpoint yet")
                ))
            } catch {
                lines.append(CheckLine(name: "state file \(state.path)", failure: error, detail: "\(error)"))
            }
        } else {
            lines.append(CheckLine(name: "state file \(state.path)", detail: "not read: the console's configuration failed", skipped: true))
        }
        guard state.tracksChanges else { return lines }
        let database = SQLiteThreatStateStore.path(besideStateFile: state.path)
        guard FileManager.default.fileExists(atPath: database) else {
            lines.append(CheckLine(name: "threat state \(database)", detail: "none yet: run creates it"))
            return lines
        }
        do {
            let entries = try await SQLiteThreatStateStore.inspect(path: database)
            lines.append(CheckLine(name: "threat state \(database)", detail: "\(entries) threats"))
        } catch {
            lines.append(CheckLine(name: "threat state \(database)", failure: error, detail: "\(error)"))
        }
        return lines
    }
}
