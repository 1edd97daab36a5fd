import Foundation
import XCTest
import NetKit

/// `c.certificate` and `tls.inspect` against `openssl s_server` on loopback, with a CA and a
/// leaf made by openssl in the test; every fact is compared with what openssl itself reads.
final class TLSCertificateScriptTests: XCTestCase {
    var exe = ""
    var peers: [Process] = []
    var dir: URL!
    override func setUpWithError() throws {
        exe = try NetScriptBinary.path()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { throw XCTSkip("openssl is not installed") }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-cert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() {
        stopProcesses(peers); peers = []
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    @discardableResult
    func openssl(_ args: [String]) throws -> String {
        let r = try runProcess("/usr/bin/openssl", args, cwd: dir)
        XCTAssertEqual(r.status, 0, "openssl \(args.joined(separator: " ")): \(r.stderr)")
        return r.stdout
    }

    /// A CA, a leaf for leaf.test and 127.0.0.1 signed by it (30 days), and s_server with both.
    func startServer() throws -> Int {
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "365", "-subj", "/CN=Test CA/O=NetScript Tests"])
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=leaf.test"])
        try "subjectAltName=DNS:leaf.test,IP:127.0.0.1\n".write(to: dir.appendingPathComponent("ext.cnf"), atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "30", "-extfile", "ext.cnf"])
        let port = try freePort()
        let p = try startQuiet("/usr/bin/openssl", ["s_server", "-quiet", "-accept", "127.0.0.1:\(port)", "-cert", "leaf.pem", "-key", "leaf.key", "-cert_chain", "ca.pem"], cwd: dir, openStdin: true)
        peers.append(p)
        waitForListening(port)
        return port
    }

    func testConnectionCertificateFactsMatchOpenSSL() throws {
        let port = try startServer()
        let serial = try openssl(["x509", "-in", "leaf.pem", "-noout", "-serial"])
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
        let fingerprint = try openssl(["x509", "-in", "leaf.pem", "-noout", "-fingerprint", "-sha256"])
            .trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: "=").last!
        let r = try runProcess(exe, ["-e", """
        c = connect "127.0.0.1:\(port)" tls: true ca: "\(dir.path)/ca.pem" sni: "leaf.test"
        cert = c.certificate
        print cert.subject
        print cert.issuer
        print cert.sans
        print cert.days_left cert.self_signed
        print (replace cert.serial ":" "")
        print cert.sha256
        print (len cert.chain) cert.chain[0].subject cert.chain[0].self_signed
        print (len cert.not_before) (cert.not_after > cert.not_before)
        close c
        print (connect "127.0.0.1:\(port)" tls: true verify: false).certificate.chain
        """], timeout: 30)
        XCTAssertEqual(r.stderr, "")
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 9 else { return XCTFail(r.stdout) }
        XCTAssertEqual(lines[0], "CN=leaf.test")
        XCTAssertTrue(lines[1].contains("CN=Test CA") && lines[1].contains("O=NetScript Tests"), lines[1])
        XCTAssertEqual(lines[2], "[\"DNS:leaf.test\", \"IP:127.0.0.1\"]")
        XCTAssertTrue(lines[3] == "29 false" || lines[3] == "30 false", lines[3])
        XCTAssertEqual(lines[4].uppercased(), serial.uppercased())
        XCTAssertEqual(lines[5], fingerprint)
        XCTAssertTrue(lines[6].hasPrefix("1 ") && lines[6].contains("CN=Test CA") && lines[6].hasSuffix(" true"), lines[6])
        XCTAssertEqual(lines[7], "20 true")
        XCTAssertEqual(lines[8], "[]")
    }

    func testInspectShowsUnverifiableCertificatesAndSaysWhy() throws {
        let port = try startServer()
        let r = try runProcess(exe, ["-e", """
        a = tls.inspect "127.0.0.1:\(port)"
        print a.verified a.subject (len a.chain) a.peer
        print (contains a.verify_error "127.0.0.1")
        b = tls.inspect "127.0.0.1:\(port)" ca: "\(dir.path)/ca.pem" sni: "leaf.test"
        print b.verified b.verify_error (len b.chain)
        print (connect "127.0.0.1:\(port)").certificate
        tls.inspect "127.0.0.1:1" timeout: 2
        """], timeout: 30)
        XCTAssertEqual(r.stdout, "false CN=leaf.test 0 127.0.0.1:\(port)\ntrue\ntrue nil 1\nnil\n")
        XCTAssertTrue(r.stderr.contains("error[refused]"), r.stderr)
    }
}
