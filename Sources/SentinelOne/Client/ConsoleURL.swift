import Pipeline
import Foundation

/// The base URL of a SentinelOne management console, checked: `http` or `https`, a host, no query or fragment.
/// A trailing `/` or `/web/api/v2.1` is dropped, so both the console address and the API base are accepted.
public struct ConsoleURL: Sendable, Equatable, CustomStringConvertible {
    /// `scheme://host[:port][/prefix]`, without a trailing slash.
    public let base: String

    public init(_ text: String) throws(ConsoleURLError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ConsoleURLError(text: text, reason: "it is empty") }
        let lowered = trimmed.lowercased()
        guard let schemeEnd = trimmed.range(of: "://") else {
            throw ConsoleURLError(text: text, reason: "it has no scheme; write https://your-console.sentinelone.net")
        }
        guard lowered.hasPrefix("https://") || lowered.hasPrefix("http://") else {
            throw ConsoleURLError(text: text, reason: "the scheme must be http or https")
        }
        let afterScheme = trimmed[schemeEnd.upperBound...]
        guard !afterScheme.contains("?"), !afterScheme.contains("#") else {
            throw ConsoleURLError(text: text, reason: "it must not have a query or fragment")
        }
        let hostEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let authority = afterScheme[..<hostEnd]
        guard !authority.isEmpty, !authority.contains("@"), !authority.contains(" ") else {
            throw ConsoleURLError(text: text, reason: "it has no valid host")
        }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else {
                throw ConsoleURLError(text: text, reason: "the port must be 1…65535")
            }
        }
        var base = String(trimmed)
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/web/api/v2.1") { base.removeLast("/web/api/v2.1".count) }
        self.base = lowered.hasPrefix("https://") ? "https://" + base.dropFirst(8) : "http://" + base.dropFirst(7)
    }

    public var description: String { base }

    /// Whether the console is reached over TLS.
    public var isHTTPS: Bool { base.hasPrefix("https://") }

    /// The host name or address (IPv6 without brackets), lowercased.
    public var host: String {
        let authority = hostAndPort
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<close]).lowercased()
        }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? "").lowercased()
    }

    /// The port, explicit or the scheme's default.
    public var port: Int {
        let authority = hostAndPort
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]"), let port = Int(authority[authority.index(after: colon)...]) {
            return port
        }
        return isHTTPS ? 443 : 80
    }

    private var hostAndPort: Substring {
        let afterScheme = base.dropFirst(isHTTPS ? 8 : 7)
        return afterScheme[..<(afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex)]
    }

    /// The full URL of an API path such as `/web/api/v2.1/threats`, with an optional query string.
    public func url(path: String, query: String = "") -> String {
        query.isEmpty ? base + path : base + path + "?" + query
    }
}

/// A console URL that cannot be used.
public struct ConsoleURLError: Error, Sendable, CustomStringConvertible {
    public var text: String
    public var reason: String

    public var description: String { "invalid console URL '\(text)': \(reason)" }
}

extension ConsoleURLError: ClassifiedError {
    public var kind: FailureKind { .configuration }
}
