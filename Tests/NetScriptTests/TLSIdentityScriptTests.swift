import Foundation
import XCTest
import NetKit

/// Issue 18, TLS: the name asked is the name checked (RFC 9525), for every TLS client, and TLS
/// failures in plain words. Certificates from a test CA made with the openssl CLI name only
/// `IP:127.0.0.1`, only `DNS:other.test`, only `DNS:*.example.test`, both `DNS:localhost` and
/// `IP:127.0.0.1`, only `IP:::1`, nothing (CN only); plus a self-signed and an expired one.
/// Servers: `openssl s_server -www` (sockets and HTTPS) and aiosmtpd (Tests/peers/smtp_peer.py)
/// on loopback. FTPS and DNS over TLS are in FTPPeerTests and DNSResolverTests.
final class TLSIdentityScriptTests: XCTestCase {
    nonisolated(unsafe) static var certs: URL?
    nonisolated(unsafe) static var certError: String?
    var exe = ""
    var peers: [Process] = []

    static let peersDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("peers")

    override class func setUp() {
        super.setUp()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { certError = "openssl is not installed"; return }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-tlsid-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let script = """
        set -e
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=NetScript TLS Test CA" 2>/dev/null
        leaf() {
            openssl req -newkey rsa:2048 -nodes -keyout $1.key -out $1.csr -subj "/CN=localhost" 2>/dev/null
            if [ -n "$2" ]; then printf 'subjectAltName=%s\\nbasicConstraints=CA:FALSE\\n' "$2" > $1.cnf; else printf 'basicConstraints=CA:FALSE\\n' > $1.cnf; fi
            openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $1.pem -days 2 -extfile $1.cnf 2>/dev/null
        }
        leaf iponly "IP:127.0.0.1"
        leaf other "DNS:other.test"
        leaf wild "DNS:*.example.test"
        leaf both "DNS:localhost,IP:127.0.0.1"
        leaf v6only "IP:::1"
        leaf cnonly ""
        openssl req -x509 -newkey rsa:2048 -nodes -keyout self.key -out self.pem -days 2 -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
        touch index.txt; echo 01 > serial
        printf '[ca]\\ndefault_ca = d\\n[d]\\ndatabase = index.txt\\nnew_certs_dir = .\\nserial = serial\\ndefault_md = sha256\\npolicy = p\\n[p]\\ncommonName = supplied\\n' > ca.cnf
        openssl req -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr -subj "/CN=localhost" 2>/dev/null
        openssl ca -batch -notext -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem -startdate 20200101000000Z -enddate 20200102000000Z -extfile both.cnf 2>/dev/null
        """
        guard let r = try? runProcess("/bin/sh", ["-c", script], cwd: dir, timeout: 60), r.status == 0 else {
            certError = "openssl could not make the certificates"; return
        }
        certs = dir
    }

    override class func tearDown() {
        if let d = certs { try? FileManager.default.removeItem(at: d) }
        super.tearDown()
    }

    override func setUpWithError() throws {
        exe = try NetScriptBinary.path()
        if let e = Self.certError { throw XCTSkip(e) }
    }

    override func tearDown() {
        stopProcesses(peers)
        peers = []
    }

    var ca: String { Self.certs!.appendingPathComponent("ca.pem").path }
    func file(_ name: String) -> String { Self.certs!.appendingPathComponent(name).path }

    /// `openssl s_server -www` with the named certificate on 127.0.0.1 (or ::1): a TLS server
    /// that answers any request with an HTTP 200 page.
    func tlsServer(_ cert: String, host: String = "127.0.0.1") throws -> Int {
        let port = try freePort()
        let accept = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let p = try startQuiet("/usr/bin/openssl", ["s_server"] + (host.contains(":") ? ["-6"] : []) + ["-accept", accept, "-cert", file("\(cert).pem"), "-key", file("\(cert).key"), "-www", "-quiet"])
        peers.append(p)
        waitForPort(port, host: host)
        return port
    }

    func run(_ code: String) throws -> RunResult {
        try runProcess(exe, ["-e", code], cwd: Self.certs, timeout: 40)
    }

    /// Runs `code` (one statement) expecting a failure; returns "kind: message".
    func failure(_ code: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try run("try { \(code) } catch e { print \"{e.kind}: {e.message}\" }")
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        XCTAssertFalse(r.stdout.isEmpty, "no error from: \(code)", file: file, line: line)
        // No Swift type or enum names in a TLS message.
        for inner in ["NIOSSL", "BoringSSL", "failedToValidateHostname", "handshakeFailed", "sslError", "Error("] {
            XCTAssertFalse(r.stdout.contains(inner), "internal name in: \(r.stdout)", file: file, line: line)
        }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func ok(_ code: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try run(code)
        XCTAssertEqual(r.stdout, expected, r.stderr, file: file, line: line)
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
    }

    // MARK: sockets

    func testSocketAskedNameMatchesOnlyDNSNames() throws {
        let ipOnly = try tlsServer("iponly")
        // The case: an IP-only certificate is not for the name localhost.
        let e = try failure("connect \"localhost:\(ipOnly)\" tls: true ca: \"ca.pem\"")
        XCTAssertTrue(e.hasPrefix("tls: connect localhost:\(ipOnly)"), e)
        XCTAssertTrue(e.contains("the certificate of localhost:\(ipOnly) is for IP 127.0.0.1 (DNS names: none), not for \"localhost\""), e)
        // Asked by address it is the right certificate; verify: false skips the check.
        try ok("c = connect \"127.0.0.1:\(ipOnly)\" tls: true ca: \"ca.pem\"; print c.proto; close c", "tls\n")
        try ok("c = connect \"localhost:\(ipOnly)\" tls: true verify: false; print c.proto; close c", "tls\n")
        // sni: names what is asked (as Python's server_hostname): a name, never matched by the IP SAN.
        let sni = try failure("connect \"127.0.0.1:\(ipOnly)\" tls: true ca: \"ca.pem\" sni: \"localhost\"")
        XCTAssertTrue(sni.contains("is for IP 127.0.0.1 (DNS names: none), not for \"localhost\""), sni)

        let other = try tlsServer("other")
        XCTAssertTrue(try failure("connect \"localhost:\(other)\" tls: true ca: \"ca.pem\"")
            .contains("the certificate of localhost:\(other) is for other.test, not for \"localhost\""))
        XCTAssertTrue(try failure("connect \"127.0.0.1:\(other)\" tls: true ca: \"ca.pem\"")
            .contains("is for other.test (IP addresses: none), not for IP 127.0.0.1"))
        try ok("c = connect \"127.0.0.1:\(other)\" tls: true ca: \"ca.pem\" sni: \"OTHER.test.\"; print c.proto; close c", "tls\n")

        let both = try tlsServer("both")
        try ok("""
            a = connect "localhost:\(both)" tls: true ca: "ca.pem"
            close a
            b = connect "127.0.0.1:\(both)" tls: true ca: "ca.pem"
            close b
            print a.proto b.proto
            """, "tls tls\n")
    }

    func testSocketWildcardIsOneLeftMostLabel() throws {
        let wild = try tlsServer("wild")
        try ok("c = connect \"127.0.0.1:\(wild)\" tls: true ca: \"ca.pem\" sni: \"a.example.test\"; print c.proto; close c", "tls\n")
        for asked in ["a.b.example.test", "example.test"] {
            let e = try failure("connect \"127.0.0.1:\(wild)\" tls: true ca: \"ca.pem\" sni: \"\(asked)\"")
            XCTAssertTrue(e.contains("is for *.example.test, not for \"\(asked)\""), e)
        }
        // A wildcard never matches an address.
        XCTAssertTrue(try failure("connect \"127.0.0.1:\(wild)\" tls: true ca: \"ca.pem\"").contains("not for IP 127.0.0.1"))
    }

    func testSocketIPv6AndCommonNameOnly() throws {
        let v6 = try tlsServer("v6only", host: "::1")
        try ok("c = connect \"[::1]:\(v6)\" tls: true ca: \"ca.pem\"; print c.proto; close c", "tls\n")
        XCTAssertTrue(try failure("connect \"[::1]:\(v6)\" tls: true ca: \"ca.pem\" sni: \"localhost\"")
            .contains("is for IP ::1 (DNS names: none), not for \"localhost\""))
        // RFC 9525: the subject's CN is not an identity, even with no subjectAltName at all.
        let cn = try tlsServer("cnonly")
        let e = try failure("connect \"localhost:\(cn)\" tls: true ca: \"ca.pem\"")
        XCTAssertTrue(e.contains("has no DNS name or IP address in subjectAltName; its subject CN \"localhost\" is not used"), e)
    }

    func testChainFailuresInPlainWords() throws {
        let both = try tlsServer("both")
        let unknown = try failure("connect \"localhost:\(both)\" tls: true")
        XCTAssertTrue(unknown.hasPrefix("tls: "), unknown)
        XCTAssertTrue(unknown.contains("is not signed by a trusted CA (its issuer \"NetScript TLS Test CA\" is not among the system's CAs"), unknown)
        let selfSigned = try tlsServer("self")
        XCTAssertTrue(try failure("connect \"localhost:\(selfSigned)\" tls: true ca: \"ca.pem\"")
            .contains("the certificate of localhost:\(selfSigned) is self-signed (\"localhost\") and not among ca: ca.pem"))
        let expired = try tlsServer("expired")
        XCTAssertTrue(try failure("connect \"localhost:\(expired)\" tls: true ca: \"ca.pem\"")
            .contains("the certificate of localhost:\(expired) expired on 2020-01-02 00:00:00 UTC"))
        XCTAssertTrue(try failure("connect \"localhost:\(both)\" tls: true ca: \"no-such-ca.pem\"")
            .contains("cannot read the CA file no-such-ca.pem"))
    }

    // MARK: HTTPS (AsyncHTTPClient: the plain-HTTP fast path never carries https)

    func testHTTPSChecksTheURLHost() throws {
        let ipOnly = try tlsServer("iponly")
        let e = try failure("http.get \"https://localhost:\(ipOnly)/\" ca: \"ca.pem\"")
        XCTAssertTrue(e.hasPrefix("http.tls: GET https://localhost:\(ipOnly)/"), e)
        XCTAssertTrue(e.contains("the certificate of localhost:\(ipOnly) is for IP 127.0.0.1 (DNS names: none), not for \"localhost\""), e)
        try ok("print (http.get \"https://127.0.0.1:\(ipOnly)/\" ca: \"ca.pem\").status_code", "200\n")
        try ok("print (http.get \"https://localhost:\(ipOnly)/\" verify: false).status_code", "200\n")
        // A session keeps one check per host: the right host still passes after a refused one.
        let both = try tlsServer("both")
        try ok("""
            s = http.session ca: "ca.pem"
            try { s.get "https://localhost:\(ipOnly)/" } catch e { print e.kind }
            print (s.get "https://localhost:\(both)/").status_code (s.get "https://127.0.0.1:\(both)/").status_code
            """, "http.tls\n200 200\n")
        let other = try tlsServer("other")
        XCTAssertTrue(try failure("http.get \"https://127.0.0.1:\(other)/\" ca: \"ca.pem\"").contains("is for other.test (IP addresses: none), not for IP 127.0.0.1"))
        let wild = try tlsServer("wild")
        XCTAssertTrue(try failure("http.get \"https://localhost:\(wild)/\" ca: \"ca.pem\"").contains("is for *.example.test, not for \"localhost\""))
        let v6 = try tlsServer("v6only", host: "::1")
        try ok("print (http.get \"https://[::1]:\(v6)/\" ca: \"ca.pem\").status_code", "200\n")
    }

    func testHTTPSChainFailuresInPlainWords() throws {
        let both = try tlsServer("both")
        XCTAssertTrue(try failure("http.get \"https://localhost:\(both)/\"").contains("is not signed by a trusted CA"))
        let expired = try tlsServer("expired")
        XCTAssertTrue(try failure("http.get \"https://localhost:\(expired)/\" ca: \"ca.pem\"").contains("expired on 2020-01-02 00:00:00 UTC"))
        let selfSigned = try tlsServer("self")
        XCTAssertTrue(try failure("http.get \"https://localhost:\(selfSigned)/\" ca: \"ca.pem\"").contains("is self-signed"))
    }

    func testHelpSaysWhatACertificateMustBe() throws {
        let r = try run("help \"tls\"")
        XCTAssertTrue(r.stdout.contains("RFC 9525") && r.stdout.contains("sni: NAME replaces it") && r.stdout.contains("CN is never used"), r.stdout)
        XCTAssertTrue(try run("help \"connect\"").stdout.contains("the identity by RFC 9525 against the host given or sni:"))
    }

    // MARK: SMTP

    func smtpPeer(_ cert: String, implicit: Bool = false) throws -> Int {
        let py = try python()
        guard (try? runProcess(py, ["-c", "import aiosmtpd"]))?.status == 0 else { throw XCTSkip("aiosmtpd is not installed") }
        let port = try freePort()
        let dir = Self.certs!.appendingPathComponent("mail-\(port)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let p = try startQuiet(py, [Self.peersDir.appendingPathComponent("smtp_peer.py").path, "--port", "\(port)", "--host", "127.0.0.1", "--dir", dir.path,
                       "--cert", file("\(cert).pem"), "--key", file("\(cert).key")] + (implicit ? ["--implicit"] : []))
        peers.append(p)
        waitForPort(port)
        return port
    }

    func testSMTPStartTLSAndImplicitTLSCheckTheServerName() throws {
        let port = try smtpPeer("iponly")
        // The case: smtplib refuses this; so must we, and say STARTTLS.
        let e = try failure("mail from: \"a@example.test\" to: \"b@example.test\" body: \"x\" server: \"localhost:\(port)\" tls: \"starttls\" ca: \"ca.pem\"")
        XCTAssertTrue(e.hasPrefix("tls: STARTTLS with localhost:\(port) failed: the certificate of localhost:\(port) is for IP 127.0.0.1 (DNS names: none), not for \"localhost\""), e)
        try ok("print (mail from: \"a@example.test\" to: \"b@example.test\" body: \"x\" server: \"127.0.0.1:\(port)\" tls: \"starttls\" ca: \"ca.pem\")", "{}\n")
        let unknown = try failure("s = smtp.connect \"127.0.0.1:\(port)\"; smtp.starttls s")
        XCTAssertTrue(unknown.hasPrefix("tls: STARTTLS with 127.0.0.1:\(port) failed: the certificate of 127.0.0.1:\(port) is not signed by a trusted CA"), unknown)

        let implicit = try smtpPeer("other", implicit: true)
        let i = try failure("smtp.connect \"127.0.0.1:\(implicit)\" tls: \"implicit\" ca: \"ca.pem\"")
        XCTAssertTrue(i.contains("is for other.test (IP addresses: none), not for IP 127.0.0.1"), i)
        try ok("s = smtp.connect \"127.0.0.1:\(implicit)\" tls: \"implicit\" ca: \"ca.pem\" sni: \"other.test\"; print s.tls; smtp.quit s", "true\n")
    }
}
