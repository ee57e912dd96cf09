import Emulator
import Foundation
import RawJSON
import TestSupport
import Testing

extension EndToEnd {
    /// How `export` reaches the console: the shared rate limiter, TLS verification, proxies, and the token kept out
    /// of every line it writes.
    @Suite(.serialized) struct ConsoleAccessTests {
        /// 40 threats at 20 requests/s: 81+ requests, so at least (81 − 20) / 20 ≈ 3 s. The rate observed after the
        /// burst must not exceed the limit (5% allowed for timer slack), nor fall far below it.
        @Test func rateLimiterHoldsTheConfiguredRate() async throws {
            let emulator = try await RunningEmulator.start(threats: 40)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let outcome = try await command.run(
                ["export", "--console-url", emulator.url, "--rate-limit", "20", "--concurrency", "8"],
                environment: ["S1_API_TOKEN": emulator.token]
            )
            await emulator.stop()
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let requests = emulator.api.requestCounts.total
            let seconds = Double(outcome.elapsed.components.seconds) + Double(outcome.elapsed.components.attoseconds) / 1e18
            let paced = Double(requests - 20) / seconds
            #expect(requests >= 81)
            #expect(paced <= 20 * 1.05, "\(requests) requests in \(seconds) s")
            #expect(paced >= 20 * 0.5, "the limiter is far slower than asked: \(requests) requests in \(seconds) s")
            #expect(outcome.stderr.contains("\(requests) requests"), "\(outcome.stderr)")
            #expect(!outcome.stderr.contains("rate-limit wait 0.00s"), "the wait is reported")
        }

        /// The token appears nowhere: not in records, not in trace logs of requests and retries, not in errors.
        @Test func tokenAppearsInNoOutputOrLogLine() async throws {
            let token = "tp-secret-7f3a9c1e55d04b2a"
            let emulator = try await RunningEmulator.start(threats: 30, faults: ["503@rate=0.2", "truncated@requests=3"], token: token)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let tokenFile = command.path("token")
            try (token + "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let good = try await command.run(
                ["export", "--console-url", emulator.url, "--api-token-file", tokenFile, "--log-level", "trace", "--max-retries", "10"]
            )
            #expect(good.status == 0, "\(good.stderr)")
            #expect(good.stderr.contains("retrying request"))
            let bad = try await command.run(
                ["export", "--console-url", emulator.url, "--log-level", "trace"],
                environment: ["S1_API_TOKEN": token + "-revoked"]
            )
            #expect(bad.status == 77, "\(bad.stderr)")
            await emulator.stop()
            for output in [String(decoding: good.stdout, as: UTF8.self), good.stderr, String(decoding: bad.stdout, as: UTF8.self), bad.stderr] {
                #expect(!output.contains(token))
                #expect(!output.contains(String(token.suffix(12))))
            }
        }

        /// A console with a certificate from a private CA: refused by default (exit 69, saying why), accepted with
        /// `--ca-file`, and accepted with `--insecure-skip-tls-verify` only with a loud warning.
        @Test(.timeLimit(.minutes(2))) func tlsIsVerifiedAgainstTheSystemOrAGivenCA() async throws {
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let certificate = command.path("console.pem")
            let key = command.path("console.key")
            try Self.makeSelfSignedCertificate(certificate: certificate, key: key)
            let emulator = try await EmulatorProcess.start(
                threats: 12, arguments: ["--tls-certificate", certificate, "--tls-key", key]
            )
            #expect(emulator.url.hasPrefix("https://"))
            let environment = ["S1_API_TOKEN": emulator.token]
            let refused = try await command.run(["export", "--console-url", emulator.url], environment: environment)
            let trusted = try await command.run(["export", "--console-url", emulator.url, "--ca-file", certificate], environment: environment)
            let insecure = try await command.run(
                ["export", "--console-url", emulator.url, "--insecure-skip-tls-verify"], environment: environment
            )
            let badCA = try await command.run(["export", "--console-url", emulator.url, "--ca-file", key], environment: environment)
            await emulator.stop()
            #expect(refused.status == 69, "\(refused.stderr)")
            #expect(refused.stdout.isEmpty)
            #expect(refused.stderr.contains("TLS handshake failed"), "\(refused.stderr)")
            #expect(refused.stderr.lowercased().contains("certificate"), "\(refused.stderr)")
            #expect(refused.elapsed < .seconds(10), "not retried: no retry makes a certificate trusted")
            #expect(trusted.status == 0, "\(trusted.stderr)")
            #expect(try RecordExpectations.lines(trusted.stdout).count == 12)
            #expect(!trusted.stderr.contains("WARNING"))
            #expect(insecure.status == 0, "\(insecure.stderr)")
            #expect(insecure.stderr.contains("WARNING: --insecure-skip-tls-verify"), "\(insecure.stderr)")
            #expect(badCA.status == 64, "\(badCA.stderr)")
            #expect(badCA.stderr.contains("--ca-file"), "\(badCA.stderr)")
        }

        /// `HTTP_PROXY` carries the requests: a CONNECT proxy tunnels them to the emulator, so a console name that
        /// does not resolve works through it; `NO_PROXY` naming the console turns the proxy off again.
        @Test(.timeLimit(.minutes(2))) func httpProxyIsHonouredUnlessNoProxyNamesTheConsole() async throws {
            let emulator = try await RunningEmulator.start(threats: 5)
            let command = try ThreatpipeCommand()
            defer { command.cleanUp() }
            let emulatorPort = try #require(emulator.url.split(separator: ":").last.map(String.init))
            let proxy = try ChildProcess.start(
                "/usr/bin/python3", [Self.supportScript("connect_proxy.py"), "127.0.0.1", emulatorPort],
                environment: [:], stdoutPath: command.path("proxy.out"), stderrPath: command.path("proxy.err")
            )
            var proxyPort: String?
            while proxyPort == nil {
                let text = (try? String(contentsOfFile: command.path("proxy.out"), encoding: .utf8)) ?? ""
                proxyPort = text.split(separator: "\n").first { $0.hasPrefix("listening ") }.map { String($0.dropFirst(10)) }
                if proxyPort == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            let console = "http://console.threatpipe.invalid:8080"
            let proxied = try await command.run(
                ["export", "--console-url", console],
                environment: ["S1_API_TOKEN": emulator.token, "HTTP_PROXY": "http://127.0.0.1:\(proxyPort!)"]
            )
            let requestsThroughProxy = emulator.api.requestCounts.total
            let bypassed = try await command.run(
                ["export", "--console-url", console, "--max-retry-wait", "1"],
                environment: [
                    "S1_API_TOKEN": emulator.token, "http_proxy": "http://127.0.0.1:\(proxyPort!)",
                    "NO_PROXY": "localhost,.threatpipe.invalid",
                ]
            )
            await emulator.stop()
            proxy.send(SIGKILL)
            _ = await proxy.wait()
            #expect(proxied.status == 0, "\(proxied.stderr)")
            #expect(try RecordExpectations.lines(proxied.stdout).count == 5)
            #expect(requestsThroughProxy >= 11)
            let tunnels = try String(contentsOfFile: command.path("proxy.out"), encoding: .utf8)
            #expect(tunnels.contains("CONNECT console.threatpipe.invalid:8080"), "\(tunnels)")
            #expect(bypassed.status == 69, "\(bypassed.stderr)")
            #expect(emulator.api.requestCounts.total == requestsThroughProxy, "nothing went through the proxy")
        }

        static func supportScript(_ name: String) -> String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../Support/\(name)").standardized.path
        }

        static func makeSelfSignedCertificate(certificate: String, key: String) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=threatpipe test console",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw CertificateNotMade() }
        }

        struct CertificateNotMade: Error {}
    }
}
