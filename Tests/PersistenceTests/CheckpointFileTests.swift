import Foundation
import Pipeline
import Testing

@testable import Persistence

@Suite struct CheckpointFileTests {
    private func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("threatpipe-state-\(UUID().uuidString)/state.json").path
    }

    private let contents = CheckpointFile.Contents(
        consoleUrl: "https://console.example",
        filters: ["siteIds=2", "accountIds=1"],
        checkpoint: Checkpoint(updatedAt: "2026-01-01T00:00:00.000001Z", idsAtUpdatedAt: ["9", "10"]),
        savedAt: "2026-11-22T06:00:00Z"
    )

    @Test func savesAtomicallyAndReadsBack() throws {
        let file = CheckpointFile(path: temporaryPath())
        #expect(try file.load() == nil, "no file: a first run")
        try file.save(contents)
        #expect(try file.load() == contents)
        let text = try String(contentsOfFile: file.path, encoding: .utf8)
        #expect(text.contains("\"version\" : 1"))
        #expect(text.contains("\"idsAtUpdatedAt\""), "human-readable")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (file.path as NSString).deletingLastPathComponent)
        #expect(leftovers == ["state.json"], "no temporary file left behind")
    }

    @Test(arguments: ["", "{", "not json at all", "{\"version\":1}", "{\"version\":2,\"consoleUrl\":\"x\",\"filters\":[],\"savedAt\":\"x\"}"])
    func unusableFileIsAClearErrorAndIsLeftAsItWas(_ text: String) throws {
        let path = temporaryPath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: CheckpointFileError.self) { try CheckpointFile(path: path).load() }
        #expect(error?.description.hasPrefix("state file \(path)") == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
    }
}
