import Foundation
import XCTest

/// `trace explain` on real exchanges: a protocol typed by hand over a socket is explained as
/// SMTP once its greeting gives it away (aiosmtpd), and HTTP heads get their headers explained
/// (Tests/peers/http_echo.py: cookies, redirects, chunked, gzip).
final class TeachingGlossTests: XCTestCase {
    static let peers = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("peers")

    func start(_ args: [String]) throws -> Process {
        let p = try startQuiet(try python(), args)
        return p
    }

    /// The glosses printed under the first step whose text contains `step`.
    func glosses(_ out: String, under step: String) -> [String] {
        var found = false, result: [String] = []
        for l in out.split(separator: "\n").map(String.init) {
            if l.hasPrefix("   ↳ ") { if found { result.append(String(l.dropFirst(5))) }; continue }
            if found { break }
            found = l.contains(step)
        }
        return result
    }

    func testAHandTypedSMTPSessionIsExplainedAsSMTP() throws {
        guard (try? runProcess(try python(), ["-c", "import aiosmtpd"]))?.status == 0 else { throw XCTSkip("aiosmtpd is not installed") }
        let port = try freePort()
        let smtp = try start(["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Sink"])
        defer { stopProcesses([smtp]) }
        waitForListening(port)
        let r = try runProcess(try NetScriptBinary.path(), ["-e", """
        c = connect "127.0.0.1:\(port)" timeout: 5
        recv.line c timeout: 5
        send c "EHLO me\\r\\n"
        recv.until c "250 " timeout: 5
        recv.line c timeout: 5
        send c "QUIT\\r\\n"
        recv.line c timeout: 5
        trace explain all
        """], timeout: 30)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(glosses(r.stdout, under: "\"220 "), ["as SMTP: 220: service ready: the server greets the client (RFC 5321)",
                                                          "as SMTP: next: the client says EHLO (after STARTTLS: the TLS handshake, then EHLO again)"], r.stdout)
        XCTAssertEqual(glosses(r.stdout, under: "\"EHLO me"), ["as SMTP: EHLO: identifies the client and asks for the server's extensions (ESMTP)"], r.stdout)
        XCTAssertTrue(glosses(r.stdout, under: "\"250-").contains("as SMTP: 8BITMIME: 8-bit message bodies are accepted (RFC 6152)"), r.stdout)
        XCTAssertTrue(glosses(r.stdout, under: "\"221 ").contains("as SMTP: next: the server closes the connection"), r.stdout)
        XCTAssertEqual(glosses(r.stdout, under: "connected 127.0.0.1:").first?.hasPrefix("TCP connect: the three-way handshake"), true, r.stdout)
    }

    func testHTTPHeadersThatMatterAreExplained() throws {
        let port = try freePort()
        let server = try start([Self.peers.appendingPathComponent("http_echo.py").path, "\(port)"])
        defer { stopProcesses([server]) }
        waitForListening(port)
        let base = "http://127.0.0.1:\(port)"
        let r = try runProcess(try NetScriptBinary.path(), ["-e", """
        r = http.get "\(base)/setcookie?lesson=1"
        r = http.get "\(base)/redirect/1"
        r = http.get "\(base)/chunked"
        r = http.get "\(base)/gzip"
        trace explain all
        """], timeout: 30)
        XCTAssertEqual(r.status, 0, r.stderr)
        let all = r.stdout.split(separator: "\n").filter { $0.hasPrefix("   ↳ ") }.map { String($0.dropFirst(5)) }
        for expected in ["Set-Cookie: the server asks the client to keep the cookie lesson and send it back with later requests (RFC 6265)",
                         "Location: /redirect/0: where to go next (a redirect) or what was created",
                         "Transfer-Encoding: chunked: the body comes in pieces, each after its size in hex, ended by a 0-size chunk — the length need not be known in advance (RFC 9112 §7.1)",
                         "Content-Encoding: gzip: the body is compressed (gzip); the client decompresses it (RFC 9110 §8.4)",
                         "302: found: follow Location for now (RFC 9110)"] {
            XCTAssertTrue(all.contains(expected), "missing \(expected) in\n\(r.stdout)")
        }
    }

    /// After STARTTLS against aiosmtpd with a certificate made here: the TLS summary names the
    /// version, the certificate's subject, issuer and validity, and the name checked.
    func testTLSHandshakeSummary() throws {
        guard (try? runProcess(try python(), ["-c", "import aiosmtpd"]))?.status == 0 else { throw XCTSkip("aiosmtpd is not installed") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { throw XCTSkip("openssl is not installed") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-tls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let made = try runProcess("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.appendingPathComponent("key.pem").path,
                                                      "-out", dir.appendingPathComponent("cert.pem").path, "-days", "2", "-subj", "/CN=Lesson SMTP",
                                                      "-addext", "subjectAltName=IP:127.0.0.1"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let port = try freePort()
        let smtp = try start([Self.peers.appendingPathComponent("smtp_peer.py").path, "--port", "\(port)",
                              "--cert", dir.appendingPathComponent("cert.pem").path, "--key", dir.appendingPathComponent("key.pem").path])
        defer { stopProcesses([smtp]) }
        waitForListening(port)
        let r = try runProcess(try NetScriptBinary.path(), ["-e", """
        s = smtp.connect "127.0.0.1:\(port)"
        smtp.starttls s ca: "\(dir.appendingPathComponent("cert.pem").path)"
        smtp.quit s
        t = smtp.connect "127.0.0.1:\(port)"
        smtp.starttls t verify: false
        smtp.quit t
        trace show
        """], timeout: 30)
        XCTAssertEqual(r.status, 0, r.stderr)
        let summaries = r.stdout.split(separator: "\n").filter { $0.hasPrefix("*: TLS summary: ") }.map(String.init)
        XCTAssertEqual(summaries.count, 2, r.stdout)
        guard summaries.count == 2 else { return }
        XCTAssertTrue(summaries[0].hasPrefix("*: TLS summary: TLS 1."), summaries[0])
        XCTAssertTrue(summaries[0].contains("; certificate for CN=Lesson SMTP; issued by itself (self-signed); valid "), summaries[0])
        XCTAssertTrue(summaries[0].hasSuffix("; name checked: 127.0.0.1 (it matched)"), summaries[0])
        XCTAssertTrue(summaries[1].hasSuffix("NOT verified (verify: false): neither chain nor name checked"), summaries[1])
    }
}
