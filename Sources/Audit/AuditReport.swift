import RawJSON
import Foundation

/// What an audit found: counts per category (and per site), and the threat ids of each category.
public struct AuditReport: Sendable {
    public enum Category: String, Sendable, CaseIterable {
        case ok, missing, stale, incomplete, deletedUpstream
    }

    public var window: String
    /// Threats in the window (after the settle cut).
    public var listed: Int
    public var settling: Int
    public var deliveredRecords: Int
    /// The delivered records' format, when any was read.
    public var deliveredFormat: String?
    public private(set) var ids: [Category: [String]] = [:]
    /// Per site: the count of each category.
    public private(set) var sites: [String: [Category: Int]] = [:]

    init(window: String, listed: Int, settling: Int, deliveredRecords: Int) {
        self.window = window
        self.listed = listed
        self.settling = settling
        self.deliveredRecords = deliveredRecords
    }

    mutating func add(_ id: String, _ category: Category, site: String) {
        if category != .ok { ids[category, default: []].append(id) }
        sites[site, default: [:]][category, default: 0] += 1
    }

    mutating func sort() {
        for key in ids.keys { ids[key]?.sort() }
    }

    public func count(_ category: Category) -> Int {
        category == .ok ? sites.values.reduce(0) { $0 + ($1[.ok] ?? 0) } : ids[category]?.count ?? 0
    }

    /// The ids `--repair` sends again: missing, stale and incomplete.
    public var repairIDs: [String] { [Category.missing, .stale, .incomplete].flatMap { ids[$0] ?? [] } }

    /// Nothing missing, stale or incomplete (deleted threats are informational).
    public var isComplete: Bool { repairIDs.isEmpty }

    static let labels: [(Category, String)] = [
        (.ok, "delivered"), (.missing, "missing"), (.stale, "stale"), (.incomplete, "incomplete"), (.deletedUpstream, "deleted upstream"),
    ]

    /// The one-screen summary, then the ids of each category; with `bySite`, a row per site.
    public func text(bySite: Bool) -> String {
        var lines = ["audit: \(window); \(listed) threats listed (\(settling) updated within the settle time left out), \(deliveredRecords) delivered records read"]
        let width = 18
        if bySite {
            let header = ["site".padding(toLength: 21, withPad: " ", startingAt: 0)] + Self.labels.map { $0.1.leftPadded(width) }
            lines.append(header.joined())
            for site in sites.keys.sorted() {
                lines.append(([site.padding(toLength: 21, withPad: " ", startingAt: 0)]
                    + Self.labels.map { String(sites[site]?[$0.0] ?? 0).leftPadded(width) }).joined())
            }
            lines.append((["total".padding(toLength: 21, withPad: " ", startingAt: 0)] + Self.labels.map { String(count($0.0)).leftPadded(width) }).joined())
        } else {
            for (category, label) in Self.labels {
                lines.append(label.padding(toLength: 18, withPad: " ", startingAt: 0) + String(count(category)).leftPadded(8))
            }
        }
        for (category, label) in Self.labels.dropFirst() {
            guard let list = ids[category], !list.isEmpty else { continue }
            lines.append("\(label): \(list.joined(separator: " "))")
        }
        lines.append(isComplete ? "complete: every threat's current version was delivered whole" : "INCOMPLETE: \(repairIDs.count) threats to send again (audit --repair)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `--format json`: `summary` (the counts, and per site with `bySite`), and the arrays of ids.
    public func json(bySite: Bool) -> String {
        var summary: [JSONMember] = [
            JSONMember("listed", .number(String(listed))), JSONMember("settling", .number(String(settling))),
            JSONMember("deliveredRecords", .number(String(deliveredRecords))), JSONMember("ok", .number(String(count(.ok)))),
        ]
        for category in [Category.missing, .stale, .incomplete, .deletedUpstream] {
            summary.append(JSONMember(category.rawValue, .number(String(count(category)))))
        }
        if bySite { summary.append(JSONMember("bySite", .object(sites.keys.sorted().map { site in
            JSONMember(site, .object(Category.allCases.map { JSONMember($0.rawValue, .number(String(sites[site]?[$0] ?? 0))) }))
        }))) }
        var members = [JSONMember("summary", .object(summary))]
        for category in [Category.missing, .stale, .incomplete, .deletedUpstream] {
            members.append(JSONMember(category.rawValue, .array((ids[category] ?? []).map(JSONValue.string))))
        }
        return String(decoding: JSONValue.object(members).serialized, as: UTF8.self) + "\n"
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
