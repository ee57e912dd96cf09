import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import Pipeline
import RawJSON
import SQLiteNIO

/// The threats' state in an embedded SQLite database (sqlite-nio, which vendors one known SQLite; its calls run on
/// NIO's blocking pool): one row per threat — its id, the version's `updatedAt`, when it was last listed, and the
/// ``ThreatStateEntry`` document. Write-ahead log, `synchronous=NORMAL` (a committed save survives the process being
/// killed), and a page cache of 1 MiB: memory stays flat whatever the number of threats.
///
/// The file store keeps it beside the state file; the Kafka store restores its topic into one in a temporary file.
public final class SQLiteThreatStateStore: ThreatStateStore {
    public let path: String
    /// Empty the store when opened (`--reset-state`).
    let startAfresh: Bool
    /// Remove the file when closed (a cache restored from a topic).
    let removeOnClose: Bool
    private let connection = NIOLockedValueBox<SQLiteConnection?>(nil)
    /// The ids stored: a lookup of any other is answered without a query.
    private let known = NIOLockedValueBox(IDFilter())

    public init(path: String, startAfresh: Bool = false, removeOnClose: Bool = false) {
        self.path = path
        self.startAfresh = startAfresh
        self.removeOnClose = removeOnClose
    }

    public var location: String { path }

    /// The database beside a state file: `<state file>.threats.db`.
    public static func path(besideStateFile statePath: String) -> String { statePath + ".threats.db" }

    public func open() async throws -> RFC3339TimestampText {
        if let existing = connection.withLockedValue({ $0 }) {
            return try await horizon(existing)
        }
        let opened: SQLiteConnection
        do {
            opened = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "threatpipe.state"))
        } catch {
            throw ThreatStateError(message: "the threat state \(path) cannot be opened: \(error)")
        }
        do {
            for statement in [
                // A copy restored from a topic at every start (removed on close) need not survive a crash: no syncs.
                "PRAGMA journal_mode=WAL", removeOnClose ? "PRAGMA synchronous=OFF" : "PRAGMA synchronous=NORMAL", "PRAGMA cache_size=-1024", "PRAGMA busy_timeout=5000",
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
                // A rowid table: new rows are appended, and only the small index on id takes random inserts (with the
                // rows in the id's B-tree, a restore of 100,000 entries read pages back for 12 s with a 1 MiB cache).
                // `updated_us`: the version's instant in microseconds, what the upsert compares (`updated_at` keeps the
                // console's text: `…:01Z` sorts after `…:01.5Z` as text, though it is the older instant).
                "CREATE TABLE IF NOT EXISTS threats (id TEXT PRIMARY KEY, updated_at TEXT, last_seen INTEGER NOT NULL, entry TEXT NOT NULL, updated_us INTEGER)",
                // No index on last_seen: it would double every write, for a scan retention makes once an hour.
                "DROP INDEX IF EXISTS threats_last_seen",
            ] {
                _ = try await opened.query(statement)
            }
            try await Self.addInstantColumn(opened)
            if startAfresh {
                _ = try await opened.query("DELETE FROM threats")
                _ = try await opened.query("DELETE FROM meta WHERE key = 'horizon'")
            }
            _ = try await opened.query(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('horizon', ?)", [.text(RFC3339Timestamp.now.formatted(fractionDigits: 6))]
            )
        } catch {
            try? await opened.close()
            throw ThreatStateError(message: "the threat state \(path) is not a database threatpipe can use: \(error)")
        }
        // Every id stored, into the filter (streamed: one id at a time).
        let known = self.known
        do {
            try await opened.query("SELECT id FROM threats", []) { row in
                if let id = row.column("id")?.string { known.withLockedValue { $0.insert(id) } }
            }
        } catch {
            try? await opened.close()
            throw ThreatStateError(message: "the threat state \(path) cannot be read: \(error)")
        }
        connection.withLockedValue { $0 = opened }
        return try await horizon(opened)
    }

    /// A database written before `updated_us` existed: the column is added and filled from `updated_at`, once.
    private static func addInstantColumn(_ connection: SQLiteConnection) async throws {
        let columns = try await connection.query("PRAGMA table_info(threats)")
        guard !columns.contains(where: { $0.column("name")?.string == "updated_us" }) else { return }
        _ = try await connection.query("ALTER TABLE threats ADD COLUMN updated_us INTEGER")
        let filled = NIOLockedValueBox<[(String, Int)]>([])
        try await connection.query("SELECT id, updated_at FROM threats WHERE updated_at IS NOT NULL", []) { row in
            if let id = row.column("id")?.string, let text = row.column("updated_at")?.string, let instant = RFC3339Timestamp(text) {
                filled.withLockedValue { $0.append((id, Int(instant.microseconds))) }
            }
        }
        for (id, microseconds) in filled.withLockedValue({ $0 }) {
            _ = try await connection.query("UPDATE threats SET updated_us = ? WHERE id = ?", [.integer(microseconds), .text(id)])
        }
    }

    /// Reads a state database without writing to it (`check`): a database threatpipe can use, intact, with its
    /// horizon; returns how many threats it holds. The same error as ``open()`` otherwise (exit 65).
    public static func inspect(path: String) async throws -> Int {
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: Logger(label: "threatpipe.state"))
        } catch {
            throw ThreatStateError(message: "the threat state \(path) cannot be opened: \(error)")
        }
        do {
            _ = try await connection.query("PRAGMA query_only=1")
            let check = try await connection.query("PRAGMA quick_check")
            guard let verdict = check.first?.column("quick_check")?.string, verdict == "ok" else {
                throw ThreatStateError(message: "the threat state \(path) is damaged: \(check.first?.column("quick_check")?.string ?? "no answer")")
            }
            let horizon = try await connection.query("SELECT value FROM meta WHERE key = 'horizon'")
            guard horizon.first?.column("value")?.string != nil else {
                throw ThreatStateError(message: "the threat state \(path) has no horizon")
            }
            let rows = try await connection.query("SELECT COUNT(*) AS n FROM threats")
            try? await connection.close()
            return rows.first?.column("n")?.integer ?? 0
        } catch let error as ThreatStateError {
            try? await connection.close()
            throw error
        } catch {
            try? await connection.close()
            throw ThreatStateError(message: "the threat state \(path) is not a database threatpipe can use: \(error)")
        }
    }

    private func horizon(_ connection: SQLiteConnection) async throws -> RFC3339TimestampText {
        let rows = try await run { try await connection.query("SELECT value FROM meta WHERE key = 'horizon'") }
        guard let value = rows.first?.column("value")?.string else {
            throw ThreatStateError(message: "the threat state \(path) has no horizon")
        }
        return value
    }

    public func entry(for id: String) async throws -> ThreatStateEntry? {
        guard known.withLockedValue({ $0.mayContain(id) }) else { return nil }
        let connection = try connected()
        let rows = try await run { try await connection.query("SELECT entry FROM threats WHERE id = ?", [.text(id)]) }
        guard let text = rows.first?.column("entry")?.string else { return nil }
        do {
            return try ThreatStateEntry(decoding: Array(text.utf8))
        } catch {
            // The same rule as a state topic's garbage: skipped, counted and logged with the file and the key (the
            // threat's next version is compared with nothing, and its save replaces the row).
            Counter(label: "threatpipe_state_records_ignored_total", dimensions: [("reason", "garbage")]).increment()
            Self.logger.warning("a state entry that cannot be read is skipped", metadata: ["store": "\(path)", "key": "\(id)", "error": "\(error)"])
            return nil
        }
    }

    private static let logger = Logger(label: "threatpipe.state")

    /// Deletes a threat's entry (a tombstone in the state topic), from a thread that may block.
    public func deleteBlocking(id: String) throws {
        let connection = try connected()
        do {
            try connection.query("DELETE FROM threats WHERE id = ?", [.text(id)], { _ in }).wait()
        } catch {
            throw ThreatStateError(message: "the threat state \(path): \(error)")
        }
    }

    public func save(_ entries: [ThreatStateEntry]) async throws {
        guard !entries.isEmpty else { return }
        let connection = try connected()
        remember(entries)
        // One statement per chunk, each atomic; an entry never replaces a newer version of its threat.
        for start in stride(from: 0, to: entries.count, by: Self.chunk) {
            let (sql, binds) = Self.upsert(entries[start..<min(start + Self.chunk, entries.count)])
            _ = try await run { try await connection.query(sql, binds) }
        }
    }

    /// Documents as a topic holds them, with their columns (``ThreatStateEntry/header(of:)``), stored as they are
    /// from a thread that may block (a restore reading a topic): waits for each statement.
    public func saveBlocking(documents: [(id: String, updatedAt: String?, lastSeen: Int64, document: [UInt8])]) throws {
        let connection = try connected()
        known.withLockedValue { filter in
            for document in documents { filter.insert(document.id) }
        }
        for start in stride(from: 0, to: documents.count, by: Self.chunk) {
            let rows = documents[start..<min(start + Self.chunk, documents.count)].map {
                ($0.id, $0.updatedAt, $0.lastSeen, String(decoding: $0.document, as: UTF8.self))
            }
            let (sql, binds) = Self.upsert(rows: rows[...])
            do {
                try connection.query(sql, binds, { _ in }).wait()
            } catch {
                throw ThreatStateError(message: "the threat state \(path): \(error)")
            }
        }
    }

    /// Notes the ids of `entries` before they are written (a lookup meanwhile may query and find nothing yet).
    private func remember(_ entries: some Sequence<ThreatStateEntry>) {
        known.withLockedValue { filter in
            for entry in entries { filter.insert(entry.id) }
        }
    }

    /// The statement that stores `entries` (at most ``chunk``) and its values.
    private static func upsert(_ entries: ArraySlice<ThreatStateEntry>) -> (String, [SQLiteData]) {
        upsert(rows: entries.map { ($0.id, $0.updatedAt, $0.lastSeen, String(decoding: $0.encoded, as: UTF8.self)) }[...])
    }

    private static func upsert(rows: ArraySlice<(String, String?, Int64, String)>) -> (String, [SQLiteData]) {
        var binds: [SQLiteData] = []
        binds.reserveCapacity(rows.count * 5)
        for (id, updatedAt, lastSeen, document) in rows {
            let instant = updatedAt.flatMap { RFC3339Timestamp($0) }.map { SQLiteData.integer(Int($0.microseconds)) } ?? .null
            binds += [.text(id), updatedAt.map(SQLiteData.text) ?? .null, .integer(Int(lastSeen)), .text(document), instant]
        }
        let values = Array(repeating: "(?, ?, ?, ?, ?)", count: rows.count).joined(separator: ", ")
        // Newer by the instant, never by the text; a version without a readable instant replaces and is replaced.
        let sql = """
            INSERT INTO threats (id, updated_at, last_seen, entry, updated_us) VALUES \(values)
            ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, last_seen = excluded.last_seen, entry = excluded.entry,
            updated_us = excluded.updated_us
            WHERE threats.updated_us IS NULL OR excluded.updated_us IS NULL OR excluded.updated_us >= threats.updated_us
            """
        return (sql, binds)
    }

    static let chunk = 256

    public func forget(notSeenSince lastSeen: Int64) async throws -> Int {
        let connection = try connected()
        let before = try await count()
        _ = try await run { try await connection.query("DELETE FROM threats WHERE last_seen < ?", [.integer(Int(lastSeen))]) }
        return before - (try await count())
    }

    public func count() async throws -> Int {
        let connection = try connected()
        let rows = try await run { try await connection.query("SELECT COUNT(*) AS n FROM threats") }
        return rows.first?.column("n")?.integer ?? 0
    }

    public func close() async {
        guard let connection = connection.withLockedValue({ current -> SQLiteConnection? in defer { current = nil }; return current }) else { return }
        try? await connection.close()
        if removeOnClose {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
    }

    private func connected() throws -> SQLiteConnection {
        guard let connection = connection.withLockedValue({ $0 }) else {
            throw ThreatStateError(message: "the threat state \(path) is used before it is opened or after it is closed")
        }
        return connection
    }

    /// Runs a query, saying which store failed.
    private func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ThreatStateError {
            throw error
        } catch {
            throw ThreatStateError(message: "the threat state \(path): \(error)")
        }
    }
}
