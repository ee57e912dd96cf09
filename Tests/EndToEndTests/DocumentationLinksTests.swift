import Foundation
import Testing

/// The README and `docs/` link each other, `deploy/`, `schemas/` and the benchmarks; the alert rules point at runbook
/// entries. A moved section or a renamed heading must not leave a link that leads nowhere.
@Suite struct DocumentationLinksTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    /// Every Markdown file a user reads: the README, `docs/*.md`, `deploy/README.md`.
    static func pages() throws -> [URL] {
        let docs = try FileManager.default.contentsOfDirectory(
            at: root.appendingPathComponent("docs"), includingPropertiesForKeys: nil
        ).filter { $0.pathExtension == "md" }
        return [root.appendingPathComponent("README.md"), root.appendingPathComponent("deploy/README.md")] + docs
    }

    /// A heading's anchor as GitHub makes it: lower case, punctuation but `-` and `_` dropped, spaces as `-`.
    static func anchor(_ heading: Substring) -> String {
        String(heading.lowercased().compactMap { character -> Character? in
            if character == " " { return "-" }
            return character.isLetter || character.isNumber || character == "-" || character == "_" ? character : nil
        })
    }

    static func anchors(of page: URL) throws -> Set<String> {
        let text = try String(contentsOf: page, encoding: .utf8)
        var inCode = false
        var anchors: Set<String> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inCode.toggle() }
            guard !inCode, let match = line.firstMatch(of: /^#{1,6} (.+)$/) else { continue }
            anchors.insert(anchor(match.1))
        }
        return anchors
    }

    /// `target` (relative to `page`, with an optional `#anchor`) names a file that exists and, for a Markdown file,
    /// a heading it has.
    static func problem(_ target: String, from page: URL) throws -> String? {
        let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let file = parts[0].isEmpty ? page : page.deletingLastPathComponent().appendingPathComponent(String(parts[0])).standardized
        guard FileManager.default.fileExists(atPath: file.path) else { return "\(target): no such file" }
        guard parts.count == 2, file.pathExtension == "md" else { return nil }
        return try anchors(of: file).contains(String(parts[1])) ? nil : "\(target): no such heading"
    }

    @Test func everyRelativeLinkLeadsToAFileAndHeading() throws {
        var checked = 0
        for page in try Self.pages() {
            let text = try String(contentsOf: page, encoding: .utf8)
            for match in text.matches(of: /\]\(([^)\s]+)\)/) {
                let target = String(match.1)
                guard !target.contains("://"), !target.hasPrefix("mailto:") else { continue }
                checked += 1
                if let problem = try Self.problem(target, from: page) {
                    Issue.record("\(page.lastPathComponent): \(problem)")
                }
            }
        }
        #expect(checked >= 20, "the pages' relative links were not found")
    }

    @Test func everyAlertsRunbookIsAnEntryOfTheOperatingPage() throws {
        let rules = ["deploy/prometheus/threatpipe-rules.yaml", "deploy/prometheus/threatpipe-rules.test.yaml", "deploy/kubernetes/prometheusrule.yaml"]
        var checked = 0
        for path in rules {
            let text = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
            for match in text.matches(of: /runbook: "?([^"\s]+)"?/) {
                checked += 1
                if let problem = try Self.problem(String(match.1), from: Self.root.appendingPathComponent("README.md")) {
                    Issue.record("\(path): \(problem)")
                }
            }
        }
        #expect(checked >= 30, "the alert rules' runbook links were not found")
    }
}
