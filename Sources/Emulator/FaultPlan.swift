import Foundation

/// Faults the emulator injects, to make retries, timeouts and bad-answer handling testable and demonstrable.
///
/// A fault is written `KIND[@WHEN]`: `KIND` is `429` (with `Retry-After: 1`), `429-bare` (no `Retry-After`),
/// `429-date` (`Retry-After` as an HTTP-date a second ahead), `503`,
/// `slow` (answers after two seconds), `truncated` (a body cut in half), `html` (an HTML error page with status 502)
/// `empty-200` (a 200 without `data`), `duplicate-data` (a 200 whose envelope holds `data` twice) or `expired-cursor`
/// (a 400 for a list request with a cursor); `WHEN` is `rate=0.1` (that share of requests, chosen deterministically) or
/// `requests=3,7` (those request numbers, counted from 1) or `every=5` (request numbers divisible by 5). Without `@WHEN` every request fails that way.
///
/// A hostile console's data, whatever `WHEN` says: `cursor-cycle` (the threat list's third page points back to the
/// second: A→B→A…), `events-cursor-cycle` (the same for every threat's explore events), `large-analysis@every=N`
/// (the analysis of every Nth threat of the data set, counted from 0, carries 2 MiB more).
public struct FaultPlan: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case tooManyRequests = "429"
        case tooManyRequestsWithoutRetryAfter = "429-bare"
        /// A 429 whose `Retry-After` is an HTTP-date one second ahead.
        case tooManyRequestsWithRetryDate = "429-date"
        case unavailable = "503"
        case slow
        case truncated
        case html
        case emptySuccess = "empty-200"
        /// A 400 for a threat-list request that carries a cursor, as for an expired cursor; its `requests=N` count
        /// only such requests.
        case expiredCursor = "expired-cursor"
        /// A 200 whose envelope has the `data` member twice.
        case duplicateData = "duplicate-data"
        /// The threat list's cursors cycle: the third page's `nextCursor` is the second page's cursor again.
        case cursorCycle = "cursor-cycle"
        /// Each threat's explore-events cursors cycle the same way.
        case eventsCursorCycle = "events-cursor-cycle"
        /// Some threats' analysis is 2 MiB larger: a record a sink with a message-size limit cannot take.
        case largeAnalysis = "large-analysis"

        /// Kinds that shape the console's data rather than one answer.
        var isDataShape: Bool { [.cursorCycle, .eventsCursorCycle, .largeAnalysis].contains(self) }
    }

    struct Rule: Sendable {
        var kind: Kind
        var rate: Double?
        var requests: Set<Int>?
        var every: Int?
    }

    var rules: [Rule] = []
    /// `limit=R`: a token bucket of R requests a second (a burst of R); a request beyond it gets a 429 (without
    /// `Retry-After`), as a console's rate limit does.
    public var requestLimit: Double?

    public init() {}

    /// Parses `KIND[@rate=R|@requests=N,M]`, or `limit=R`.
    public init(_ specifications: [String]) throws {
        for specification in specifications {
            if specification.hasPrefix("limit=") {
                guard let limit = Double(specification.dropFirst(6)), limit >= 1, limit <= 100_000 else {
                    throw FaultPlanError(specification: specification, reason: "limit=R takes requests per second, 1…100000")
                }
                requestLimit = limit
                continue
            }
            let parts = specification.split(separator: "@", maxSplits: 1).map(String.init)
            guard let kind = Kind(rawValue: parts[0]) else {
                throw FaultPlanError(specification: specification, reason: "kinds are \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var rule = Rule(kind: kind)
            if parts.count == 2 {
                if parts[1].hasPrefix("rate="), let rate = Double(parts[1].dropFirst(5)), (0...1).contains(rate) {
                    rule.rate = rate
                } else if parts[1].hasPrefix("requests=") {
                    let numbers = parts[1].dropFirst(9).split(separator: ",").compactMap { Int($0) }
                    guard !numbers.isEmpty else { throw FaultPlanError(specification: specification, reason: "requests=N[,M…]") }
                    rule.requests = Set(numbers)
                } else if parts[1].hasPrefix("every="), let every = Int(parts[1].dropFirst(6)), every >= 1 {
                    rule.every = every
                } else {
                    throw FaultPlanError(specification: specification, reason: "after @: rate=0…1, requests=N[,M…] or every=N")
                }
            }
            rules.append(rule)
        }
    }

    public var isEmpty: Bool { rules.isEmpty && requestLimit == nil }

    /// Whether the data-shape fault `kind` is planned.
    public func has(_ kind: Kind) -> Bool { rules.contains { $0.kind == kind } }

    /// Whether the analysis of the threat at `index` of the data set is made large (`large-analysis@every=N`).
    func enlargesAnalysis(ofThreatAt index: Int) -> Bool {
        rules.contains { $0.kind == .largeAnalysis && index % ($0.every ?? 1) == 0 }
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` between `secondsFromNow` and one second more ahead (the format has no
    /// fractions).
    static func httpDate(secondsFromNow: Int) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date(timeIntervalSinceNow: Double(secondsFromNow) + 1))
    }

    /// The fault for request number `number` (from 1), if any (cursor expiry aside).
    func fault(forRequest number: Int, seed: UInt64) -> Kind? {
        fault(number, seed: seed, among: rules.filter { $0.kind != .expiredCursor && !$0.kind.isDataShape })
    }

    /// Whether the `number`th list request with a cursor (from 1) is answered as if its cursor had expired.
    func expiresCursor(ofRequest number: Int, seed: UInt64) -> Bool {
        fault(number, seed: seed, among: rules.filter { $0.kind == .expiredCursor }) != nil
    }

    private func fault(_ number: Int, seed: UInt64, among rules: [Rule]) -> Kind? {
        for rule in rules {
            if let requests = rule.requests {
                if requests.contains(number) { return rule.kind }
            } else if let every = rule.every {
                if number % every == 0 { return rule.kind }
            } else if let rate = rule.rate {
                var random = SplitMix64(seed: seed, stream: 77, index: UInt64(number))
                if Double(random.next() % 1_000_000) / 1_000_000 < rate { return rule.kind }
            } else {
                return rule.kind
            }
        }
        return nil
    }
}

public struct FaultPlanError: Error, CustomStringConvertible {
    public var specification: String
    public var reason: String
    public var description: String { "invalid fault '\(specification)': \(reason)" }
}
