import Foundation
import Pipeline
import Testing

@testable import Persistence

/// The state file behind the checkpoint-store port: a round trip, the ownership check inside the store, a corrupt
/// file as an error, and --reset-state.
@Suite struct CheckpointFileStoreTests {
    private let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("threatpipe-store-\(UUID().uuidString)/state.json").path
    private let checkpoint = Checkpoint(
        updatedAt: "2026-01-01T00:00:02.000000Z", idsAtUpdatedAt: ["b", "a"],
        deliveredInOverlap: [.init(id: "c", updatedAt: "2026-01-01T00:00:01.000000Z")]
    )

    private func store(console: String = "https://console.example", filters: [String] = ["siteIds=2", "accountIds=1"], afresh: Bool = false)
        -> CheckpointFileStore
    {
        CheckpointFileStore(path: path, consoleURL: console, filters: filters, startAfresh: afresh)
    }

    @Test func savesAndLoadsTheCheckpointWithItsOverlap() async throws {
        #expect(try await store().load() == nil, "nothing stored yet")
        try await store().save(checkpoint)
        #expect(try await store(filters: ["accountIds=1", "siteIds=2"]).load() == checkpoint, "filters in any order")
        #expect(store().location == path)
    }

    @Test func anotherConsolesOrFiltersCheckpointIsRefusedUnlessStartingAfresh() async throws {
        try await store().save(checkpoint)
        await #expect(throws: CheckpointOwnershipError.self) { try await store(console: "https://other.example").load() }
        let error = await #expect(throws: CheckpointOwnershipError.self) { try await store(filters: ["siteIds=3"]).load() }
        #expect(error?.description.contains("--reset-state") == true)
        #expect(try await store(filters: ["siteIds=3"], afresh: true).load() == nil)
    }

    @Test func aCorruptFileIsAnErrorNeverAFreshStart() async throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("{\"version\":1,\"consoleUrl\":".utf8).write(to: URL(fileURLWithPath: path))
        await #expect(throws: CheckpointFileError.self) { try await store().load() }
    }
}
