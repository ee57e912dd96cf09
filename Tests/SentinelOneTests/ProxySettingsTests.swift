import Testing

@testable import SentinelOne

@Suite struct ProxySettingsTests {
    let console = try! ConsoleURL("https://usea1.sentinelone.net")

    @Test func httpsConsoleUsesHTTPSProxyWithCredentials() throws {
        let proxy = try ProxySettings.forConsole(console, environment: ["HTTPS_PROXY": "http://user:p%40ss@proxy.corp:3128/"])
        #expect(proxy == ProxySettings(host: "proxy.corp", port: 3128, credentials: .init(user: "user", password: "p@ss")))
        #expect(try ProxySettings.forConsole(console, environment: ["HTTP_PROXY": "http://proxy.corp:3128"]) == nil, "wrong scheme's variable")
        #expect(try ProxySettings.forConsole(console, environment: ["https_proxy": "proxy.corp"])?.port == 80)
    }

    @Test(arguments: [
        ("sentinelone.net", true), (".sentinelone.net", true), ("*.sentinelone.net", true), ("*", true),
        ("usea1.sentinelone.net:443", true), ("usea1.sentinelone.net:8443", false), ("one.net", false),
        ("other.example, usea1.sentinelone.net", true), ("", false),
    ])
    func noProxyMatchesHostsAndDomainSuffixes(_ noProxy: String, _ bypassed: Bool) {
        #expect(ProxySettings.bypasses(host: console.host, port: console.port, noProxy: noProxy) == bypassed)
    }

    @Test func badProxyIsAnErrorWithoutThePassword() {
        #expect(throws: ConsoleURLError.self) { try ProxySettings.parse("socks5://proxy:1080") }
        do {
            _ = try ProxySettings.parse("http://user:hunter2@proxy:99999")
            Issue.record("a bad port was accepted")
        } catch {
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test func consoleURLExposesHostAndPort() throws {
        #expect(console.host == "usea1.sentinelone.net" && console.port == 443)
        let local = try ConsoleURL("http://[::1]:8080/web/api/v2.1")
        #expect(local.host == "::1" && local.port == 8080 && !local.isHTTPS)
    }
}
