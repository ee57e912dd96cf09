import Foundation
/// The proxy to reach a console through, from the conventional environment variables: `HTTPS_PROXY` for an https
/// console, `HTTP_PROXY` for an http one (either spelled in lower case too), unless `NO_PROXY` names the console.
///
/// `NO_PROXY` is a comma-separated list of host names, domain suffixes (`.example.com` or `example.com`, both
/// matching subdomains), IP addresses, optionally with `:port`, or `*` for every host.
public struct ProxySettings: Sendable, Equatable {
    /// The proxy's host and port.
    public var host: String
    public var port: Int
    /// `user:password` from the proxy URL, for HTTP basic proxy authentication.
    public var credentials: Credentials?

    /// A proxy user and password.
    public struct Credentials: Sendable, Equatable {
        public var user: String
        public var password: String
    }

    /// The proxy for `console` under `environment`; `nil` for a direct connection.
    public static func forConsole(_ console: ConsoleURL, environment: [String: String]) throws(ConsoleURLError) -> ProxySettings? {
        let names = console.isHTTPS ? ["HTTPS_PROXY", "https_proxy"] : ["HTTP_PROXY", "http_proxy"]
        guard let proxyText = names.lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) else { return nil }
        let noProxy = environment["NO_PROXY"] ?? environment["no_proxy"] ?? ""
        if bypasses(host: console.host, port: console.port, noProxy: noProxy) { return nil }
        return try parse(proxyText)
    }

    /// Whether `NO_PROXY` exempts `host:port`.
    static func bypasses(host: String, port: Int, noProxy: String) -> Bool {
        for entry in noProxy.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !entry.isEmpty {
            if entry == "*" { return true }
            var pattern = Substring(entry)
            if let colon = pattern.lastIndex(of: ":"), !pattern.hasSuffix("]"), let entryPort = Int(pattern[pattern.index(after: colon)...]) {
                guard entryPort == port else { continue }
                pattern = pattern[..<colon]
            }
            pattern = pattern.trimmingPrefix("*")
            if pattern.hasPrefix("[") && pattern.hasSuffix("]") { pattern = pattern.dropFirst().dropLast() }
            let domain = pattern.hasPrefix(".") ? pattern.dropFirst() : pattern
            if host == domain || host.hasSuffix("." + domain) { return true }
        }
        return false
    }

    /// `http://[user:password@]host[:port][/]`, or a bare `host:port`.
    static func parse(_ text: String) throws(ConsoleURLError) -> ProxySettings {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if let scheme = rest.range(of: "://") {
            guard rest[..<scheme.lowerBound].lowercased() == "http" else {
                throw ConsoleURLError(text: redacted(text), reason: "the proxy must be an http:// proxy (HTTPS_PROXY/HTTP_PROXY)")
            }
            rest = rest[scheme.upperBound...]
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var credentials: Credentials?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            credentials = Credentials(user: percentDecoded(userInfo[0]), password: userInfo.count > 1 ? percentDecoded(userInfo[1]) : "")
            rest = rest[rest.index(after: at)...]
        }
        var port = 80
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let parsed = Int(rest[rest.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw ConsoleURLError(text: redacted(text), reason: "the proxy port must be 1…65535")
            }
            port = parsed
            rest = rest[..<colon]
        }
        if rest.hasPrefix("[") && rest.hasSuffix("]") { rest = rest.dropFirst().dropLast() }
        guard !rest.isEmpty else { throw ConsoleURLError(text: redacted(text), reason: "the proxy has no host") }
        return ProxySettings(host: String(rest), port: port, credentials: credentials)
    }

    /// The proxy URL without its password, for error messages.
    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@") else { return text }
        let start = text.range(of: "://")?.upperBound ?? text.startIndex
        return String(text[..<start]) + "***" + String(text[at...])
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
