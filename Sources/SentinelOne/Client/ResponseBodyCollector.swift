import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Gathers one answer — its head and its whole body, up to a limit — on the connection's event loop, and hands it
/// over once, when the last byte is in.
///
/// AsyncHTTPClient's streaming interface hands each body part to the waiting task as it arrives (a hop between
/// the event loop and the task per part, with back-pressure bookkeeping); an API answer is read whole anyway, so
/// collecting it where it arrives costs one hop per request instead. The buffer is sized from `Content-Length`
/// when the console sends it, so that a multi-megabyte page is not copied through ever-doubling buffers.
final class ResponseBodyCollector: HTTPClientResponseDelegate {
    /// A complete answer.
    struct CollectedResponse: Sendable {
        var head: HTTPResponseHead
        var body: ByteBuffer
    }

    private struct State {
        var head: HTTPResponseHead?
        var body = ByteBuffer()
    }

    private let maximumBytes: Int
    /// Only touched on the task's event loop; the lock makes that a checked fact instead of a promise.
    private let state = NIOLockedValueBox(State())

    init(maximumBytes: Int) {
        self.maximumBytes = maximumBytes
    }

    func didReceiveHead(task: HTTPClient.Task<CollectedResponse>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        let announced = head.headers.first(name: "Content-Length").flatMap { Int($0) }
        if let announced, announced > maximumBytes {
            return task.eventLoop.makeFailedFuture(NIOTooManyBytesError(maxBytes: maximumBytes))
        }
        state.withLockedValue { state in
            state.head = head
            state.body = ByteBufferAllocator().buffer(capacity: announced ?? 16 * 1024)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<CollectedResponse>, _ part: ByteBuffer) -> EventLoopFuture<Void> {
        let fits = state.withLockedValue { state in
            guard state.body.readableBytes + part.readableBytes <= maximumBytes else { return false }
            var part = part
            state.body.writeBuffer(&part)
            return true
        }
        return fits
            ? task.eventLoop.makeSucceededVoidFuture()
            : task.eventLoop.makeFailedFuture(NIOTooManyBytesError(maxBytes: maximumBytes))
    }

    func didFinishRequest(task: HTTPClient.Task<CollectedResponse>) throws -> CollectedResponse {
        try state.withLockedValue { state in
            guard let head = state.head else { throw HTTPClientError.remoteConnectionClosed }
            let response = CollectedResponse(head: head, body: state.body)
            state.body = ByteBuffer()
            return response
        }
    }
}
