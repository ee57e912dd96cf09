import Foundation

/// When the NDJSON sink starts a new file, and what happens to the old ones. A closed file is fsynced, renamed
/// atomically to `<path>.<UTC time>` (so `tail -F <path>` follows the new file), optionally gzipped, and only the
/// newest `retain` closed files are kept.
public struct NDJSONRotation: Sendable {
    /// Start a new file once the current one holds this many bytes (checked between records).
    public var maximumBytes: Int?
    /// Start a new file once the current one is this old (checked when a record is written).
    public var maximumAge: Duration?
    /// gzip closed files (`<path>.<time>.gz`).
    public var compress: Bool
    /// Keep this many closed files; nil keeps all.
    public var retain: Int?

    public init(maximumBytes: Int? = nil, maximumAge: Duration? = nil, compress: Bool = false, retain: Int? = nil) {
        self.maximumBytes = maximumBytes
        self.maximumAge = maximumAge
        self.compress = compress
        self.retain = retain
    }

    /// No rotation: one file, appended to.
    public static let none = NDJSONRotation()

    var isEnabled: Bool { maximumBytes != nil || maximumAge != nil }

    /// Whether a file of `bytes` opened `age` ago is due.
    func isDue(bytes: Int, age: Duration) -> Bool {
        if let maximumBytes, bytes >= maximumBytes { return true }
        if let maximumAge, age >= maximumAge { return true }
        return false
    }

    /// `<path>.20261122T082500.123456Z`: names that sort in the order the files were closed.
    static func closedName(for path: String, at instant: Date) -> String {
        let microseconds = Int64(instant.timeIntervalSince1970 * 1_000_000)
        var time = time_t(microseconds / 1_000_000)
        var parts = tm()
        gmtime_r(&time, &parts)
        let stamp = String(
            format: "%04d%02d%02dT%02d%02d%02d.%06dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec, Int(microseconds % 1_000_000)
        )
        return "\(path).\(stamp)"
    }

    /// The closed files of `path`, oldest first.
    static func closedFiles(of path: String) -> [String] {
        let directory = (path as NSString).deletingLastPathComponent
        let prefix = (path as NSString).lastPathComponent + "."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        return names.filter { name in
            guard name.hasPrefix(prefix) else { return false }
            let rest = name.dropFirst(prefix.count)
            return rest.count >= 23 && rest.first?.isNumber == true && !rest.hasSuffix(".tmp")
        }.sorted().map { directory.isEmpty ? $0 : directory + "/" + $0 }
    }
}
