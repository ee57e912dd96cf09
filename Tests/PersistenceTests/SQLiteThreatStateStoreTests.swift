import Foundation
import Pipeline
import RawJSON
import Testing

@testable import Persistence

/// The SQLite state beside the state file: entries survive a reopen, an older version never replaces a newer one,
/// retention forgets, --reset-state empties it, and a file that is not the store's is a clear error.
@Suite struct SQLiteThreatStateStoreTests {
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("threatpipe-sqlite-\(UUID().uuidString)")

    private func entry(_ id: String, _ updatedAt: String, seen: Int64 = 100) -> ThreatStateEntry {
        ThreatStateEntry(
            id: id, updatedAt: updatedAt, paths: ["threatInfo.incidentStatus"], values: ["threatInfo.incidentStatus": Array("\"resolved\"".utf8)],
            resolved: true, change: ThreatChange(kind: .changed, previousUpdatedAt: "2026-01-01T00:00:00Z", closes: true), lastSeen: seen
        )
    }

    @Test func entriesSurviveAReopenAndNeverGoBackToAnOlderVersion() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.json.threats.db").path
        let store = SQLiteThreatStateStore(path: path)
        let horizon = try await store.open()
        try await store.save((0..<600).map { entry("t\($0)", "2026-02-01T00:00:00Z") })
        try await store.save([entry("t1", "2026-01-15T00:00:00Z"), entry("t2", "2026-03-01T00:00:00Z", seen: 200)])
        await store.close()

        let reopened = SQLiteThreatStateStore(path: path)
        #expect(try await reopened.open() == horizon, "the horizon is kept")
        #expect(try await reopened.count() == 600)
        #expect(try await reopened.entry(for: "t1")?.updatedAt == "2026-02-01T00:00:00Z", "an older version does not replace a newer one")
        #expect(try await reopened.entry(for: "t2") == entry("t2", "2026-03-01T00:00:00Z", seen: 200))
        #expect(try await reopened.entry(for: "missing") == nil)
        #expect(try await reopened.forget(notSeenSince: 150) == 599)
        await reopened.close()

        let reset = SQLiteThreatStateStore(path: path, startAfresh: true)
        _ = try await reset.open()
        #expect(try await reset.count() == 0)
        await reset.close()
    }

    @Test func aFileThatIsNotADatabaseIsAClearError() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("garbage.db").path
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        let store = SQLiteThreatStateStore(path: path)
        await #expect(throws: ThreatStateError.self) { _ = try await store.open() }
        await store.close()
    }
}
