import Foundation
import Logging
import SQLiteNIO
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

    /// The console writes one instant with more or fewer decimals from one version to the next: the newer instant
    /// is kept whichever way the precision changed (as text, `…:01Z` sorts after `…:01.500000Z`).
    @Test func versionsAreComparedAsInstantsWhateverTheirPrecision() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = SQLiteThreatStateStore(path: directory.appendingPathComponent("instants.db").path)
        _ = try await store.open()
        // More decimals on the newer version: it replaces the older one.
        try await store.save([entry("more", "2026-01-01T00:00:01Z")])
        try await store.save([entry("more", "2026-01-01T00:00:01.500000Z")])
        #expect(try await store.entry(for: "more")?.updatedAt == "2026-01-01T00:00:01.500000Z")
        // Fewer decimals on a stale version saved late: it does not replace the newer one.
        try await store.save([entry("fewer", "2026-01-01T00:00:01.500000Z")])
        try await store.save([entry("fewer", "2026-01-01T00:00:01Z")])
        #expect(try await store.entry(for: "fewer")?.updatedAt == "2026-01-01T00:00:01.500000Z")
        // Fewer decimals on the newer version (and an offset): it replaces.
        try await store.save([entry("offset", "2026-01-01T00:00:01.250Z")])
        try await store.save([entry("offset", "2026-01-01T01:00:02+01:00")])
        #expect(try await store.entry(for: "offset")?.updatedAt == "2026-01-01T01:00:02+01:00")
        await store.close()
    }

    /// A database written before the instant column existed gets it, filled from the text, and compares by it.
    @Test func aDatabaseFromBeforeTheInstantColumnIsMigrated() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("old.db").path
        let store = SQLiteThreatStateStore(path: path)
        _ = try await store.open()
        try await store.save([entry("t", "2026-01-01T00:00:01.500000Z")])
        await store.close()
        // The table as the previous release wrote it: no instant column.
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "test"))
        _ = try await connection.query("ALTER TABLE threats DROP COLUMN updated_us")
        try await connection.close()
        let reopened = SQLiteThreatStateStore(path: path)
        _ = try await reopened.open()
        try await reopened.save([entry("t", "2026-01-01T00:00:01Z")])
        #expect(try await reopened.entry(for: "t")?.updatedAt == "2026-01-01T00:00:01.500000Z", "the migrated row is compared by its instant")
        await reopened.close()
    }

    /// A row that is not an entry: skipped (counted, logged with the file and the threat's id) the way the state
    /// topic's garbage is, never a stop that names neither; the threat's next save replaces it.
    @Test func aRowThatIsNotAnEntryIsSkippedLikeTheTopicsGarbage() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("garbage-row.db").path
        let store = SQLiteThreatStateStore(path: path)
        _ = try await store.open()
        try await store.save([entry("t", "2026-01-01T00:00:01Z")])
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "test"))
        _ = try await connection.query("UPDATE threats SET entry = '{\"not\":' WHERE id = 't'")
        try await connection.close()
        #expect(try await store.entry(for: "t") == nil)
        try await store.save([entry("t", "2026-01-01T00:00:02Z")])
        #expect(try await store.entry(for: "t")?.updatedAt == "2026-01-01T00:00:02Z")
        await store.close()
    }
}
