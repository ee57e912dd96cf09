import RawJSON

/// The comparison at the heart of `audit`: the console's current version of every threat in the window (ids,
/// times and a site index only — about a hundred bytes a threat), then every delivered version read against it.
public struct AuditLedger: Sendable {
    struct Entry: Sendable {
        /// The console's `updatedAt`, in microseconds.
        var current: Int64
        var site: Int32
        /// The newest delivered version's `updatedAt`; `.min` when none was delivered.
        var deliveredMax: Int64 = .min
        var currentDelivered = false
        var currentComplete = false
    }

    public let window: AuditWindow
    public let cutoff: RFC3339Timestamp
    private var entries: [String: Entry] = [:]
    private var siteNames: [String] = ["unknown"]
    private var siteIndex: [String: Int32] = [:]
    /// Delivered threats in the window the console did not list: deleted, or updated since (checked by id later).
    private var unlisted: [String: Int32] = [:]
    /// Threats listed but updated after the cutoff (left out).
    public private(set) var settling = 0
    public private(set) var deliveredRecords = 0
    /// The format of the first delivered record (what `--repair` writes unless told otherwise).
    public private(set) var deliveredFormat: String?

    public init(window: AuditWindow, now: RFC3339Timestamp = .now) {
        self.window = window
        self.cutoff = window.settleCutoff(now: now)
    }

    /// Threats in the window the console listed (not counting those still settling).
    public var listed: Int { entries.count }

    /// A threat as the console lists it now.
    public mutating func list(id: String, updatedAt: RFC3339Timestamp, site: String?) {
        guard updatedAt <= cutoff else {
            settling += 1
            return
        }
        let index = site.map { self.site($0) } ?? 0
        if let known = entries[id], known.current >= updatedAt.microseconds { return }
        entries[id] = Entry(current: updatedAt.microseconds, site: index)
    }

    /// A version read from the sink's side.
    public mutating func deliver(_ version: DeliveredVersion) {
        deliveredRecords += 1
        if deliveredFormat == nil { deliveredFormat = version.format }
        guard var entry = entries[version.id] else {
            if window.contains(version, cutoff: cutoff) { unlisted[version.id] = version.siteID.map { site($0) } ?? 0 }
            return
        }
        let updated = version.updatedAt.microseconds
        entry.deliveredMax = max(entry.deliveredMax, updated)
        if updated == entry.current {
            entry.currentDelivered = true
            if version.isComplete { entry.currentComplete = true }
        }
        entries[version.id] = entry
    }

    /// Delivered in the window but not listed: to be looked up by id (deleted, or updated after the window).
    public var unlistedIDs: [String] { unlisted.keys.sorted() }

    /// The result; `stillListed`: the unlisted ids the console still has (updated outside the window, not deleted).
    public func report(stillListed: Set<String>) -> AuditReport {
        var report = AuditReport(window: window.description, listed: entries.count, settling: settling, deliveredRecords: deliveredRecords)
        report.deliveredFormat = deliveredFormat
        for (id, entry) in entries {
            let site = siteNames[Int(entry.site)]
            let category: AuditReport.Category
            if entry.currentDelivered {
                category = entry.currentComplete ? .ok : .incomplete
            } else if entry.deliveredMax >= entry.current {
                category = .ok
            } else {
                category = entry.deliveredMax == .min ? .missing : .stale
            }
            report.add(id, category, site: site)
        }
        for (id, site) in unlisted where !stillListed.contains(id) {
            report.add(id, .deletedUpstream, site: siteNames[Int(site)])
        }
        report.sort()
        return report
    }

    private mutating func site(_ name: String) -> Int32 {
        if let index = siteIndex[name] { return index }
        siteNames.append(name)
        let index = Int32(siteNames.count - 1)
        siteIndex[name] = index
        return index
    }
}
