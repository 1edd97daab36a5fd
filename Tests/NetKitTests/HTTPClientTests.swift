import Foundation
import XCTest
@testable import NetKit

/// The HTTP client against real servers on loopback: nginx (static files, gzip, redirects,
/// TLS with a CA made by openssl, a rate-limited location) and a Python ThreadingHTTPServer
/// (Tests/peers/http_echo.py: echo of method/headers/body, cookies, chunked, stalls, early
/// closes, a 10 MB header line).
final class HTTPClientTests: XCTestCase {
    static let peersDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("peers")

    var dir: URL!
    var nginx: Process?
    var echo: Process?
    var port = 0, tlsPort = 0, echoPort = 0
    var base: String { "http://127.0.0.1:\(port)" }
    var echoBase: String { "http://127.0.0.1:\(echoPort)" }
    /// The echo server through nginx over HTTPS (HTTP/2): always AsyncHTTPClient.
    var tlsEchoBase: String { "https://127.0.0.1:\(tlsPort)" }

    override func setUpWithError() throws {
        guard Peers.which("nginx") != nil else { throw XCTSkip("nginx is not installed") }
        guard let py = Peers.python else { throw XCTSkip("python3 is not installed") }
        dir = try Peers.tempDir()
        try Peers.makeCertificates(in: dir)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("www/slow"), withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: 64 * 1024).write(to: dir.appendingPathComponent("www/slow/file.txt"))
        port = try Peers.freePort(); tlsPort = try Peers.freePort(); echoPort = try Peers.freePort()
        // ECHO_PORT: paths that are not files go on to the echo server, so it is reached over HTTPS too.
        nginx = try Peers.start("/usr/bin/env", ["ECHO_PORT=\(echoPort)", "/bin/sh", HTTPClientTests.peersDir.appendingPathComponent("nginx_http.sh").path, dir.path, "\(port)", "\(tlsPort)"])
        echo = try Peers.start(py, [HTTPClientTests.peersDir.appendingPathComponent("http_echo.py").path, "\(echoPort)"])
        try Peers.waitForPort("127.0.0.1:\(port)")
        try Peers.waitForPort("127.0.0.1:\(tlsPort)")
        try Peers.waitForPort("127.0.0.1:\(echoPort)")
    }

    override func tearDown() {
        Peers.stop(nginx)
        Peers.stop(echo)
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func get(_ url: String, _ configure: (inout HTTPRequestSpec) -> Void = { _ in }, agent: HTTPAgent = HTTPAgent()) throws -> HTTPResponseData {
        var s = HTTPRequestSpec(method: "GET", url: url)
        configure(&s)
        return try agent.perform(s)
    }

    func failure(_ body: () throws -> Any) -> HTTPClientFailure? {
        do { _ = try body(); return nil } catch let e as HTTPClientFailure { return e } catch { XCTFail("not an HTTP failure: \(error)"); return nil }
    }

    func echoJSON(_ r: HTTPResponseData) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
    }

    // MARK: nginx

    func testStaticFileFromNginx() throws {
        let r = try get("\(base)/hello.txt")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.reason, "OK")
        XCTAssertEqual(r.header("content-type"), "text/plain")
        XCTAssertEqual(r.header("Content-Type"), "text/plain")
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "hello, world\n")
        XCTAssertEqual(r.url, "\(base)/hello.txt")
        XCTAssertTrue(r.history.isEmpty)
    }

    func testGzipIsDecoded() throws {
        try String(repeating: "gzip me please ", count: 2000).write(to: dir.appendingPathComponent("www/text.txt"), atomically: true, encoding: .utf8)
        let r = try get("\(base)/text.txt")
        XCTAssertEqual(r.header("content-encoding"), "gzip")
        XCTAssertEqual(r.body.count, 30_000)
        XCTAssertEqual(String(decoding: r.body.prefix(15), as: UTF8.self), "gzip me please ")
    }

    func testRedirectsFollowedLimitedAndOff() throws {
        let r = try get("\(base)/moved")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.url, "\(base)/hello.txt")
        XCTAssertEqual(r.history.map(\.status), [301])
        XCTAssertEqual(r.history.first?.url, "\(base)/moved")

        let chain = try get("\(base)/chain/1")
        XCTAssertEqual(chain.history.count, 2)
        let e = failure { try self.get("\(self.base)/chain/1") { $0.maxRedirects = 1 } }
        XCTAssertEqual(e?.kind, .redirects)
        XCTAssertTrue(e?.message.contains("\(base)/chain/1") ?? false, e?.message ?? "")

        let loop = failure { try self.get("\(self.base)/loop") }
        XCTAssertEqual(loop?.kind, .redirects)

        let off = try get("\(base)/moved") { $0.followRedirects = false }
        XCTAssertEqual(off.status, 301)
        XCTAssertTrue(off.header("location")?.hasSuffix("/hello.txt") ?? false)
    }

    func testLargeBodyIntactInMemoryAndOnDisk() throws {
        let urandom = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
        let blob = [UInt8](try XCTUnwrap(urandom.read(upToCount: 64 << 20)))
        try urandom.close()
        XCTAssertEqual(blob.count, 64 << 20)
        try Data(blob).write(to: dir.appendingPathComponent("www/big.bin"))
        let r = try get("\(base)/big.bin")
        XCTAssertEqual(r.body.count, blob.count)
        XCTAssertTrue(r.body == blob, "the body differs from the file")

        let out = dir.appendingPathComponent("copy.bin").path
        let fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var seen = 0
        let d = try HTTPAgent().perform(HTTPRequestSpec(method: "GET", url: "\(base)/big.bin"), sink: fd) { got, _ in seen = got }
        close(fd)
        XCTAssertEqual(d.bodySize, blob.count)
        XCTAssertEqual(seen, blob.count)
        XCTAssertTrue(d.body.isEmpty)
        XCTAssertTrue([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))) == blob, "the file differs")

        let capped = failure { try self.get("\(self.base)/big.bin") { $0.maxBody = 1 << 20 } }
        XCTAssertEqual(capped?.kind, .value)
        XCTAssertTrue(capped?.message.contains("max:") ?? false)
    }

    func testTLSWithCAWithoutAndUnverified() throws {
        let url = "https://127.0.0.1:\(tlsPort)/hello.txt"
        let ok = try get(url) { $0.caFile = self.dir.appendingPathComponent("ca.pem").path }
        XCTAssertEqual(String(decoding: ok.body, as: UTF8.self), "hello, world\n")
        // nginx offers h2 by ALPN on its TLS port, and the client takes it.
        XCTAssertEqual(ok.version, "HTTP/2.0")
        let bad = failure { try self.get(url) }
        XCTAssertEqual(bad?.kind, .tls)
        XCTAssertTrue(bad?.message.contains(url) ?? false, bad?.message ?? "")
        let unverified = try get(url) { $0.verify = false }
        XCTAssertEqual(unverified.status, 200)
        // A TLS client talking to a plain HTTP port.
        let plain = failure { try self.get("https://127.0.0.1:\(self.port)/hello.txt") { $0.verify = false } }
        XCTAssertEqual(plain?.kind, .tls)
    }

    func testRateLimitedBodyTimesOut() throws {
        let e = failure { try self.get("\(self.base)/slow/file.txt") { $0.timeout = 0.5; $0.acceptEncoding = false } }
        // nginx sends 1 KiB at once, then about 1 KiB/s: gaps under 0.5 s keep it going; the
        // overall transfer is then limited by the rate. The read timeout applies to gaps only,
        // so this either completes or times out on a stall; it must not hang or crash.
        if let e { XCTAssertEqual(e.kind, .timeout) }
    }

    // MARK: python echo server

    func testEveryMethodIsSent() throws {
        for m in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"] {
            let r = try HTTPAgent().perform(HTTPRequestSpec(method: m, url: "\(echoBase)/inspect", body: m == "GET" ? nil : Array("b".utf8)))
            XCTAssertEqual(try echoJSON(r)["method"] as? String, m)
        }
        let head = try HTTPAgent().perform(HTTPRequestSpec(method: "HEAD", url: "\(echoBase)/inspect"))
        XCTAssertEqual(head.status, 200)
        XCTAssertTrue(head.body.isEmpty)
    }

    func testQueryFormMultipartAndHeaders() throws {
        let q = try echoJSON(try get(HTTPClientSupport.addQuery("\(echoBase)/inspect", [("a", "1"), ("b", "x y&z")])))
        XCTAssertEqual(q["args"] as? [String: String], ["a": "1", "b": "x y&z"])
        let form = HTTPClientSupport.formEncode([("name", "Ada Lovelace"), ("lang", "en")])
        let f = try echoJSON(try HTTPAgent().perform(HTTPRequestSpec(method: "POST", url: "\(echoBase)/inspect",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Test", "yes")], body: Array(form.utf8))))
        XCTAssertEqual(f["form"] as? [String: String], ["name": "Ada Lovelace", "lang": "en"])
        XCTAssertEqual((f["headers"] as? [String: String])?["x-test"], "yes")
        let mp = try HTTPClientSupport.multipart(fields: [("note", "hi")], files: [.init(field: "up", filename: "a.txt", contentType: "text/plain", content: Array("file body\n".utf8))])
        // A content type cannot smuggle in a header line of its own.
        let injected = failure { try HTTPClientSupport.multipart(fields: [], files: [.init(field: "up", filename: "a", contentType: "text/plain\r\nX-Evil: 1", content: [])], url: "http://h/") }
        XCTAssertEqual(injected?.kind, .value)
        let m = try echoJSON(try HTTPAgent().perform(HTTPRequestSpec(method: "POST", url: "\(echoBase)/inspect",
            headers: [("Content-Type", mp.contentType)], body: mp.body)))
        XCTAssertEqual(m["form"] as? [String: String], ["note": "hi"])
        let up = (m["files"] as? [String: [String: String]])?["up"]
        XCTAssertEqual(up?["filename"], "a.txt")
        XCTAssertEqual(up?["content"], "file body\n")
    }

    func testChunkedAndDeflate() throws {
        let c = try get("\(echoBase)/chunked")
        XCTAssertEqual(String(decoding: c.body, as: UTF8.self).split(separator: "\n").count, 100)
        XCTAssertNil(c.header("content-length"))
        let g = try get("\(echoBase)/gzip")
        XCTAssertEqual(g.body.count, 16_000)
        let d = try get("\(echoBase)/deflate")
        XCTAssertEqual(d.body.count, 16_000)
    }

    func testCookiesKeptByASessionJar() throws {
        let jar = HTTPCookieJar()
        let agent = HTTPAgent(cookies: jar)
        let set = try get("\(echoBase)/setcookie?flavour=oat&size=big", agent: agent)
        XCTAssertEqual(set.setCookies.map(\.0).sorted(), ["flavour", "size"])
        let back = try echoJSON(try get("\(echoBase)/cookies", agent: agent))
        XCTAssertEqual(back as? [String: String], ["flavour": "oat", "size": "big"])
        // Without the jar nothing is sent.
        XCTAssertEqual(try echoJSON(try get("\(echoBase)/cookies")) as? [String: String], [:])
    }

    func testPerRequestCookiesJoinTheJarsAndWinOnAName() throws {
        let jar = HTTPCookieJar()
        let agent = HTTPAgent(cookies: jar)
        _ = try get("\(echoBase)/setcookie?flavour=oat&size=big", agent: agent)
        let back = try echoJSON(try get("\(echoBase)/cookies", { $0.cookies = [("size", "small"), ("extra", "1")] }, agent: agent))
        XCTAssertEqual(back as? [String: String], ["flavour": "oat", "size": "small", "extra": "1"])
        // For this request only: the jar keeps its own.
        XCTAssertEqual(try echoJSON(try get("\(echoBase)/cookies", agent: agent)) as? [String: String], ["flavour": "oat", "size": "big"])
        // A one-off request sends them too.
        XCTAssertEqual(try echoJSON(try get("\(echoBase)/cookies") { $0.cookies = [("a", "b")] }) as? [String: String], ["a": "b"])
    }

    /// Nothing local is lost: a refused download leaves the old file; a good one replaces it
    /// whole; no part file stays behind either way.
    func testDownloadWritesBesideAndRenames() throws {
        let target = dir.appendingPathComponent("kept.txt").path
        try "old contents".write(toFile: target, atomically: true, encoding: .utf8)
        let refused = failure { try HTTPAgent().download(HTTPRequestSpec(method: "GET", url: "\(self.echoBase)/status/404"), to: target) }
        XCTAssertEqual(refused?.kind, .status)
        XCTAssertEqual(refused?.status, 404)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "old contents")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target + ".part"))
        let r = try HTTPAgent().download(HTTPRequestSpec(method: "GET", url: "\(echoBase)/redirect/2"), to: target)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "arrived")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target + ".part"))
        let intoDir = failure { try HTTPAgent().download(HTTPRequestSpec(method: "GET", url: "\(self.echoBase)/redirect/0"), to: self.dir.path) }
        XCTAssertEqual(intoDir?.kind, .io)
    }

    func testStallsAndEarlyCloseAreBounded() throws {
        let head = failure { try self.get("\(self.echoBase)/stall-head") { $0.timeout = 0.5 } }
        XCTAssertEqual(head?.kind, .timeout)
        XCTAssertTrue(head?.message.contains("\(echoBase)/stall-head") ?? false)
        let body = failure { try self.get("\(self.echoBase)/stall-body") { $0.timeout = 0.5 } }
        XCTAssertEqual(body?.kind, .timeout)
        XCTAssertTrue(body?.message.contains("stalled after 10 bytes") ?? false, body?.message ?? "")
        let early = failure { try self.get("\(self.echoBase)/close-early") }
        XCTAssertEqual(early?.kind, .proto)
    }

    func testHugeHeaderLineIsAProtocolError() throws {
        let e = failure { try self.get("\(self.echoBase)/big-header") }
        XCTAssertEqual(e?.kind, .proto, e?.message ?? "")
        // The server is still usable afterwards.
        XCTAssertEqual(try get("\(echoBase)/status/204").status, 204)
    }

    func testRefusedResolveAndValueErrors() throws {
        let dead = try Peers.freePort()
        let r = failure { try self.get("http://127.0.0.1:\(dead)/") }
        XCTAssertEqual(r?.kind, .refused)
        XCTAssertTrue(r?.message.contains("http://127.0.0.1:\(dead)/") ?? false)
        let n = failure { try self.get("http://no-such-host.invalid/") }
        XCTAssertEqual(n?.kind, .resolve, n?.message ?? "")
        let crlf = failure { try self.get("\(self.echoBase)/inspect") { $0.headers = [("X-Evil", "a\r\nInjected: 1")] } }
        XCTAssertEqual(crlf?.kind, .value)
        let url = failure { try self.get("\(self.echoBase)/inspect\r\nX: y") }
        XCTAssertEqual(url?.kind, .value)
        let scheme = failure { try self.get("ftp://127.0.0.1/") }
        XCTAssertEqual(scheme?.kind, .value)
    }

    func testRetriesWithBackoffForIdempotentMethods() throws {
        let r = try get("\(echoBase)/flaky?id=a&fail=2") { $0.retries = 3 }
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "ok after 3")
        // POST is not retried.
        let p = try HTTPAgent().perform({ var s = HTTPRequestSpec(method: "POST", url: "\(echoBase)/flaky?id=b&fail=1"); s.retries = 3; return s }())
        XCTAssertEqual(p.status, 503)
    }

    func testRedirect303BecomesGetAndTraceMasksAuthorization() throws {
        let t = Transcript()
        let r = try HTTPAgent(transcript: t).perform(HTTPRequestSpec(method: "POST", url: "\(echoBase)/see-other",
            headers: [("Authorization", "Basic dXNlcjpwYXNz")], body: Array("x".utf8)))
        XCTAssertEqual(try echoJSON(r)["method"] as? String, "GET")
        let text = t.steps.map(Transcript.render).joined(separator: "\n")
        XCTAssertTrue(text.contains("C: POST /see-other HTTP/1.1"), text)
        XCTAssertTrue(text.contains("S: HTTP/1.1 303 See Other"), text)
        XCTAssertTrue(text.contains("Authorization: Basic ********"), text)
        XCTAssertFalse(text.contains("dXNlcjpwYXNz"), text)
        XCTAssertTrue(text.contains("bytes"), text)
    }

    /// The same requests through AsyncHTTPClient and through the plain-HTTP path give the same
    /// responses, errors and transcript lines (Date lines aside).
    func testPlainHTTPPathMatchesAsyncHTTPClient() throws {
        func spec(_ m: String, _ url: String, _ headers: [(String, String)] = [], _ body: String? = nil, timeout: Double = 30) -> HTTPRequestSpec {
            var s = HTTPRequestSpec(method: m, url: url, headers: headers, body: body.map { Array($0.utf8) })
            s.timeout = timeout
            return s
        }
        let cases = [
            spec("GET", "\(base)/hello.txt"), spec("GET", "\(base)/moved"), spec("GET", "\(base)/chain/1"),
            spec("POST", "\(echoBase)/inspect?a=1&b=x%20y", [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", "Basic dXNlcjpwYXNz")], "name=Ada"),
            spec("PUT", "\(echoBase)/inspect", [], ""), spec("DELETE", "\(echoBase)/inspect"), spec("HEAD", "\(echoBase)/inspect"),
            spec("GET", "\(echoBase)/chunked"), spec("GET", "\(echoBase)/gzip"), spec("GET", "\(echoBase)/deflate"),
            spec("GET", "\(echoBase)/status/404"), spec("GET", "\(echoBase)/status/299"), spec("POST", "\(echoBase)/see-other", [], "x"),
            spec("GET", "\(echoBase)/latin1"), spec("GET", "\(echoBase)/inspect", [("Host", "example.test"), ("Content-Length", "9")]),
            spec("GET", "\(echoBase)/close-early"), spec("GET", "\(echoBase)/big-header"),
            spec("GET", "\(echoBase)/stall-body", timeout: 0.5), spec("GET", "http://127.0.0.1:\(try Peers.freePort())/"),
        ]
        func run(fast: Bool) -> [String] {
            HTTPAgent.plainHTTPFastPath = fast
            defer { HTTPAgent.plainHTTPFastPath = true }
            return cases.map { c in
                let t = Transcript()
                let agent = HTTPAgent(transcript: t, pool: HTTPConnectionPool())
                var out: String
                do {
                    let r = try agent.perform(c)
                    let headers = r.headers.filter { $0.0 != "Date" }.map { "\($0.0): \($0.1)" }.joined(separator: "|")
                    out = "\(r.status) \(r.reason) \(r.version) \(r.url) \(r.history.map(\.status)) \(r.bodySize) \(headers)\n\(String(decoding: r.body, as: UTF8.self))"
                } catch let e as HTTPClientFailure {
                    out = "error \(e.kind.rawValue): \(e.message)"
                } catch {
                    out = "other error: \(error)"
                }
                let steps = t.steps.map(Transcript.render).joined(separator: "\n").split(separator: "\n").filter { !$0.hasPrefix("S: Date:") }
                return c.method + " " + c.url + "\n" + out + "\n" + steps.joined(separator: "\n")
            }
        }
        let viaAHC = run(fast: false)
        let viaPlain = run(fast: true)
        // Both paths note a request sent on a kept-alive connection: the redirect's second hop.
        // AsyncHTTPClient's pool is the process's (it also reuses connections the earlier cases
        // left open), the fast path's is each agent's: the notes are compared apart from the rest.
        let reuse = "*: reusing the kept-alive connection to 127.0.0.1:\(port) (opened by an earlier request): no new TCP connect"
        XCTAssertTrue(viaPlain[1].contains(reuse), viaPlain[1])
        XCTAssertTrue(viaAHC[1].contains(reuse), viaAHC[1])
        XCTAssertFalse(viaPlain[0].contains("reusing"), "a fresh agent's first request opens a connection: \(viaPlain[0])")
        func withoutReuse(_ s: String) -> String {
            s.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("*: reusing the kept-alive connection") }.joined(separator: "\n")
        }
        for (a, b) in zip(viaAHC, viaPlain) { XCTAssertEqual(withoutReuse(a), withoutReuse(b)) }
        XCTAssertEqual(viaPlain.count, cases.count)
        XCTAssertTrue(viaPlain[0].contains("C: host: 127.0.0.1:\(port)"), viaPlain[0])
        XCTAssertTrue(viaPlain[3].contains("C: Authorization: Basic ********"), viaPlain[3])
        XCTAssertTrue(viaPlain[15].contains("error http.protocol: GET \(echoBase)/close-early: the server closed the connection"), viaPlain[15])
        XCTAssertTrue(viaPlain[17].contains("error http.timeout: GET \(echoBase)/stall-body: timed out after 0.5 s (the body stalled after 10 bytes)"), viaPlain[17])
        XCTAssertTrue(viaPlain[18].contains("error refused: GET http://127.0.0.1:"), viaPlain[18])
    }

    func testProxyFromEnvironment() {
        let u = URL(string: "http://example.test/x")!
        XCTAssertEqual(HTTPClientSupport.proxy(for: u, environment: ["HTTP_PROXY": "http://127.0.0.1:3128"])?.port, 3128)
        XCTAssertNil(HTTPClientSupport.proxy(for: u, environment: ["HTTP_PROXY": "http://127.0.0.1:3128", "NO_PROXY": ".example.test"]))
        XCTAssertNil(HTTPClientSupport.proxy(for: URL(string: "https://a.test/")!, environment: ["http_proxy": "127.0.0.1:3128"]))
        XCTAssertEqual(HTTPClientSupport.proxy(for: URL(string: "https://a.test/")!, environment: ["https_proxy": "user:pw@127.0.0.1:8443"])?.user, "user")
    }
}
