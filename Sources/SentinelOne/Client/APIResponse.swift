import NIOCore

/// A successful (2xx) answer: its body, kept as received, and its request id.
public struct APIResponse: Sendable {
    public var status: Int
    public var body: ByteBuffer
    public var requestID: String?

    public init(status: Int, body: ByteBuffer, requestID: String?) {
        self.status = status
        self.body = body
        self.requestID = requestID
    }
}
