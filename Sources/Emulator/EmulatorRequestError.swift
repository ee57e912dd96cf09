/// An error the emulator answers with, in SentinelOne's envelope:
/// `{"errors":[{"code":…,"detail":"…","title":"…"}],"data":null,"pagination":null}`.
struct EmulatorRequestError: Error {
    var status: Int
    var code: Int
    var title: String
    var detail: String

    static let unauthorized = EmulatorRequestError(
        status: 401, code: 4010010, title: "Authentication Failed", detail: "Authentication failed."
    )

    static func notFound(_ id: String) -> EmulatorRequestError {
        EmulatorRequestError(
            status: 404, code: 4040010, title: "Requested resource was not found", detail: "Threat ID \(id) not found"
        )
    }

    static func invalid(_ detail: String) -> EmulatorRequestError {
        EmulatorRequestError(status: 400, code: 4000010, title: "Validation Error", detail: detail)
    }
}
