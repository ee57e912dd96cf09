import Foundation
import SentinelOne

/// Where the API token comes from: a file (`--api-token-file`) or the environment (`S1_API_TOKEN`) — never argv.
public enum TokenSource {
    public static let environmentVariable = "S1_API_TOKEN"

    public static func load(file: String?, environment: [String: String]) throws -> APIToken {
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError(description: "cannot read the API token file \(file): \(error.localizedDescription)")
            }
            guard let token = APIToken(text) else {
                throw ConfigurationError(description: "the API token file \(file) is empty")
            }
            return token
        }
        guard let value = environment[environmentVariable] else {
            throw ConfigurationError(
                description: "no API token: set \(environmentVariable) or pass --api-token-file PATH"
            )
        }
        guard let token = APIToken(value) else {
            throw ConfigurationError(description: "\(environmentVariable) is empty")
        }
        return token
    }
}
