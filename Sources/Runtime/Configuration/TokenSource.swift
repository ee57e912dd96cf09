import Glibc
import Foundation
import SentinelOne

/// Where the API token comes from: a file (`--api-token-file`) or the environment (`S1_API_TOKEN`) — never argv.
/// What is read is bounded, and a token an HTTP header cannot carry is refused before any request: never retried,
/// never printed.
public enum TokenSource {
    public static let environmentVariable = "S1_API_TOKEN"
    /// The longest token file read (SentinelOne's tokens are a few hundred bytes).
    public static let maximumFileBytes = 16 * 1024

    public static func load(file: String?, environment: [String: String]) throws -> APIToken {
        if let file {
            let text = try readBounded(file)
            guard let token = APIToken(text) else {
                throw ConfigurationError(description: "the API token file \(file) is empty")
            }
            try check(token, from: "the API token file \(file)")
            return token
        }
        guard let value = environment[environmentVariable] else {
            throw ConfigurationError(
                description: "no API token: set \(environmentVariable) or pass --api-token-file PATH"
            )
        }
        guard value.utf8.count <= maximumFileBytes else {
            throw ConfigurationError(description: "\(environmentVariable) is longer than \(maximumFileBytes) bytes: it is not an API token")
        }
        guard let token = APIToken(value) else {
            throw ConfigurationError(description: "\(environmentVariable) is empty")
        }
        try check(token, from: environmentVariable)
        return token
    }

    /// A header value is visible ASCII: a byte outside it (a control character, a stray `\x7f`, UTF-8) would make
    /// every request fail, and the HTTP client's error would quote the header.
    static func check(_ token: APIToken, from source: String) throws {
        guard token.isHeaderSafe else {
            throw ConfigurationError(description: "\(source): the token contains characters an HTTP header cannot carry")
        }
    }

    /// The file's text, at most ``maximumFileBytes``: a regular file (not a FIFO that may never be written, not a
    /// device that never ends), its size checked before it is read, and the read itself bounded.
    static func readBounded(_ path: String) throws -> String {
        let status: FileStatus
        do throws(FileStatus.Unreadable) {
            status = try FileStatus.of(path: path)
        } catch {
            throw ConfigurationError(description: "cannot read the API token file \(path): \(error.reason)")
        }
        guard status.isRegularFile else {
            throw ConfigurationError(description: "the API token file \(path) is not a regular file")
        }
        guard status.size <= maximumFileBytes else {
            throw ConfigurationError(description: "the API token file \(path) is \(status.size) bytes; a token file is at most \(maximumFileBytes)")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConfigurationError(description: "cannot read the API token file \(path): \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumFileBytes + 1) ?? Data()
        } catch {
            throw ConfigurationError(description: "cannot read the API token file \(path): \(error.localizedDescription)")
        }
        guard data.count <= maximumFileBytes else {
            throw ConfigurationError(description: "the API token file \(path) is longer than \(maximumFileBytes) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(description: "the API token file \(path): the token contains characters an HTTP header cannot carry")
        }
        return text
    }
}
