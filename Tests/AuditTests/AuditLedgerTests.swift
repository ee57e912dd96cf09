import Audit
import Foundation
import RawJSON
import Testing

/// The comparison: each listed threat's current version against the delivered ones.
struct AuditLedgerTests {
    static let now = RFC3339Timestamp("2026-06-01T12:00:00Z")!
    static func at(_ seconds: Int64) -> RFC3339Timestamp { RFC3339Timestamp(microseconds: now.microseconds - seconds * 1_000_000) }

    @Test func eachThreatFallsInExactlyOneCategory() {
        var window = AuditWindow()
        window.settle = .seconds(60)
        var ledger = AuditLedger(window: window, now: Self.now)
        // Three threats share one updatedAt (a tie), one is updated within the settle time.
        for id in ["ok", "missing", "tie"] { ledger.list(id: id, updatedAt: Self.at(600), site: "s1") }
        ledger.list(id: "stale", updatedAt: Self.at(300), site: "s2")
        ledger.list(id: "incomplete", updatedAt: Self.at(300), site: "s2")
        ledger.list(id: "fixed", updatedAt: Self.at(300), site: "s2")
        ledger.list(id: "settling", updatedAt: Self.at(10), site: "s1")
        ledger.deliver(DeliveredVersion(id: "ok", updatedAt: Self.at(600), isComplete: true))
        ledger.deliver(DeliveredVersion(id: "tie", updatedAt: Self.at(600), isComplete: true))
        ledger.deliver(DeliveredVersion(id: "stale", updatedAt: Self.at(900), isComplete: true))
        ledger.deliver(DeliveredVersion(id: "incomplete", updatedAt: Self.at(300), isComplete: false))
        // Delivered incomplete, then whole (a repair or a re-enrichment): complete.
        ledger.deliver(DeliveredVersion(id: "fixed", updatedAt: Self.at(300), isComplete: false))
        ledger.deliver(DeliveredVersion(id: "fixed", updatedAt: Self.at(300), isComplete: true))
        // Delivered in the window, no longer listed: one deleted, one updated since (still listed when asked).
        ledger.deliver(DeliveredVersion(id: "deleted", updatedAt: Self.at(400), isComplete: true, siteID: "s1"))
        ledger.deliver(DeliveredVersion(id: "moved", updatedAt: Self.at(400), isComplete: true))
        #expect(ledger.unlistedIDs == ["deleted", "moved"])
        let report = ledger.report(stillListed: ["moved"])
        #expect(report.ids[.missing] == ["missing"])
        #expect(report.ids[.stale] == ["stale"])
        #expect(report.ids[.incomplete] == ["incomplete"])
        #expect(report.ids[.deletedUpstream] == ["deleted"])
        #expect(report.count(.ok) == 3)
        #expect(report.listed == 6 && report.settling == 1)
        #expect(report.repairIDs == ["missing", "stale", "incomplete"])
        #expect(!report.isComplete)
        #expect(report.sites["s1"]?[.deletedUpstream] == 1 && report.sites["s2"]?[.stale] == 1)
        let json = try? JSONValue.parse(Array(report.json(bySite: true).utf8))
        #expect(json?["missing"] == ["missing"])
        #expect(json?["summary"]?["deletedUpstream"] == .number("1"))
        #expect(json?["summary"]?["bySite"]?["s2"]?["incomplete"] == .number("1"))
    }

    @Test func aWindowOnCreatedAtJudgesUnlistedRecordsByTheirCreation() {
        var window = AuditWindow()
        window.field = .createdAt
        window.since = Self.at(1000)
        window.settle = .zero
        #expect(window.filters.map(\.name) == ["createdAt__gte"])
        var ledger = AuditLedger(window: window, now: Self.now)
        ledger.deliver(DeliveredVersion(id: "old", updatedAt: Self.at(10), isComplete: true, createdAt: Self.at(5000)))
        ledger.deliver(DeliveredVersion(id: "new", updatedAt: Self.at(10), isComplete: true, createdAt: Self.at(500)))
        #expect(ledger.unlistedIDs == ["new"])
    }

    @Test func rotatedAndCompressedFilesAreReadLineByLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let plain = directory + "/out.ndjson"
        try "a\nbb\n\nccc".write(toFile: plain, atomically: true, encoding: .utf8)
        let long = String(repeating: "x", count: 3 << 20)
        let rotated = directory + "/out.ndjson.20260101T000000Z"
        try "\(long)\nd\n".write(toFile: rotated, atomically: true, encoding: .utf8)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = [rotated]
        try gzip.run()
        gzip.waitUntilExit()
        var lines: [String] = []
        try RecordLines.forEach(inFiles: [plain, rotated + ".gz"]) { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(lines == ["a", "bb", "ccc", long, "d"], "a last line without newline counts; a 3 MiB line spans blocks")
        #expect(throws: AuditError.self) { try RecordLines.forEach(inFiles: [directory + "/none"]) { _ in } }
    }
}
