import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Logging
import ServiceLifecycle
import UnixSignals
import NIOCore
import RawJSON
import Synchronization
import Foundation

/// A SentinelOne management API emulator on a real HTTP server: the threats list with cursors and filters, threat
/// analysis, explore events; `ApiToken` authentication with the console's 401 envelope; deleted threats' 404s.
public struct SentinelOneEmulator: Sendable {
    public let configuration: EmulatorConfiguration
    public let api: EmulatorAPI
    let logger: Logger

    public init(configuration: EmulatorConfiguration, logger: Logger) {
        self.configuration = configuration
        self.api = EmulatorAPI(
            dataset: ThreatDataset(count: configuration.threats, seed: configuration.seed),
            versionsLogPath: configuration.versionsLogPath,
            faults: configuration.faults
        )
        self.logger = logger
    }

    /// Serves until `stopTrigger` stops it gracefully, or the task is cancelled (or SIGINT/SIGTERM when
    /// `handleSignals`); `onListening` gets the port.
    public func run(
        handleSignals: Bool = false,
        stopTrigger: EmulatorStopTrigger? = nil,
        onListening: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let router = Router()
        let api = self.api
        let expectedAuthorization = "ApiToken " + configuration.token
        let faults = configuration.faults
        let seed = configuration.seed
        let requestNumber = Atomic<Int>(0)
        let cursorRequestNumber = Atomic<Int>(0)
        let window = faults.requestLimit.map { RequestWindow(limit: $0) }

        @Sendable func answer(
            _ request: Request,
            _ body: () throws(EmulatorRequestError) -> [UInt8]
        ) async -> Response {
            let number = requestNumber.add(1, ordering: .relaxed).newValue
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[HTTPField.Name("X-RQID")!] = "emulator-\(number)"
            if let window, !window.admit() {
                api.recordThrottled()
                headers[.contentType] = "application/json"
                return Response(
                    status: .init(code: 429), headers: headers,
                    body: .init(byteBuffer: ByteBuffer(bytes: EmulatorAPI.errorBody(.init(status: 429, code: 4290010, title: "Too Many Requests", detail: "Rate limit exceeded"))))
                )
            }
            var status: Int
            var bytes: [UInt8]
            do throws(EmulatorRequestError) {
                guard request.headers[.authorization] == expectedAuthorization else {
                    api.recordRejected()
                    throw .unauthorized
                }
                bytes = try body()
                status = 200
            } catch {
                status = error.status
                bytes = EmulatorAPI.errorBody(error)
            }
            let fault = faults.fault(forRequest: number, seed: seed)
            switch fault {
            case nil: break
            case .tooManyRequests?, .tooManyRequestsWithoutRetryAfter?, .tooManyRequestsWithRetryDate?:
                if fault == .tooManyRequests { headers[.retryAfter] = "1" }
                if fault == .tooManyRequestsWithRetryDate { headers[.retryAfter] = FaultPlan.httpDate(secondsFromNow: 1) }
                status = 429
                bytes = EmulatorAPI.errorBody(.init(status: 429, code: 4290010, title: "Too Many Requests", detail: "Rate limit exceeded"))
            case .unavailable?:
                status = 503
                bytes = EmulatorAPI.errorBody(.init(status: 503, code: 5030010, title: "Service Unavailable", detail: "Maintenance"))
            case .slow?:
                try? await Task.sleep(for: .seconds(2))
            case .truncated?:
                bytes = Array(bytes.prefix(max(1, bytes.count / 2)))
            case .html?:
                status = 502
                headers[.contentType] = "text/html"
                bytes = Array("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>".utf8)
            case .emptySuccess?:
                status = 200
                bytes = Array("{\"pagination\":{\"nextCursor\":null}}".utf8)
            case .duplicateData?:
                if status == 200, case .object(var members)? = try? JSONValue.parse(bytes),
                    let data = members.firstIndex(where: { $0.key == "data" })
                {
                    members.insert(members[data], at: data + 1)
                    bytes = JSONValue.object(members).serialized
                }
            case .expiredCursor?, .cursorCycle?, .eventsCursorCycle?, .largeAnalysis?: break
            }
            if request.uri.path.hasSuffix("/threats"), request.uri.queryParameters["cursor"] != nil,
                faults.expiresCursor(ofRequest: cursorRequestNumber.add(1, ordering: .relaxed).newValue, seed: seed)
            {
                status = 400
                bytes = EmulatorAPI.errorBody(.invalid("cursor: invalid or expired cursor"))
            }
            return Response(
                status: HTTPResponse.Status(code: status),
                headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }

        @Sendable func parameters(_ request: Request) -> [(String, String)] {
            request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        }

        router.get("/web/api/v2.1/threats") { request, _ in
            await answer(request) { () throws(EmulatorRequestError) in try api.threats(parameters(request)) }
        }
        router.get("/web/api/v2.1/private/threats/:id/analysis") { request, context in
            let id = context.parameters.get("id") ?? ""
            return await answer(request) { () throws(EmulatorRequestError) in try api.analysis(threatID: id) }
        }
        router.get("/web/api/v2.1/threats/:id/explore/events") { request, context in
            let id = context.parameters.get("id") ?? ""
            return await answer(request) { () throws(EmulatorRequestError) in
                try api.events(threatID: id, parameters(request))
            }
        }

        let app = Application(
            router: router,
            server: try serverBuilder(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "threatpipe-emulator"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let changes = configuration.isLive ? Task { await changeLive() } : nil
        defer { changes?.cancel() }
        let group = ServiceGroup(configuration: .init(
            services: [app], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger
        ))
        await stopTrigger?.attach(group)
        try await group.run()
    }

    /// Plain HTTP/1.1, or HTTPS when a certificate and key are configured. An answer leaves `latency` after its
    /// request came in, however long building it took (a console's latency includes its work).
    private func serverBuilder() throws -> HTTPServerBuilder {
        let latency = TimeAmount(configuration.latency)
        let http1 = HTTPServerBuilder.http1(configuration: .init(
            additionalChannelHandlers: latency > .zero ? [ResponseDelayHandler(latency: latency)] : []
        ))
        guard let certificatePath = configuration.tlsCertificatePath, let keyPath = configuration.tlsKeyPath else {
            return http1
        }
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
        )
        return try .tls(http1, tlsConfiguration: tls)
    }

    /// Live mode: ten times a second, adds and updates threats at the configured rates, until `liveDuration`.
    private func changeLive() async {
        let started = ContinuousClock.now
        var addedOwed = 0.0
        var updatedOwed = 0.0
        var lateOwed = 0.0
        var burstOwed = configuration.burstThreats
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            if let duration = configuration.liveDuration, ContinuousClock.now - started >= duration {
                api.freeze()
                return
            }
            addedOwed += configuration.addedPerSecond / 10
            updatedOwed += configuration.updatedPerSecond / 10
            if burstOwed > 0, ContinuousClock.now - started >= configuration.burstAfter {
                addedOwed += Double(burstOwed)
                burstOwed = 0
            }
            let added = Int(addedOwed)
            let updated = Int(updatedOwed)
            addedOwed -= Double(added)
            updatedOwed -= Double(updated)
            lateOwed += configuration.lateUpdatedPerSecond / 10
            let late = Int(lateOwed)
            lateOwed -= Double(late)
            api.change(added: added, updated: updated, now: .now, late: late, lateBy: configuration.lateBy)
        }
    }
}
