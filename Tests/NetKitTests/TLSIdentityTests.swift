import Foundation
import XCTest
@testable import NetKit
import NIOSSL

/// The RFC 9525 identity rule of TLSClientSetup, case by case: a name asked matches only DNS-ID
/// subjectAltNames (a `*` only as the whole left-most label, for exactly one label), an
/// address asked only iPAddress ones, and the subject's CN never.
final class TLSIdentityTests: XCTestCase {
    func ids(dns: [String] = [], ips: [String] = [], cn: String? = nil) -> TLSPresentedIdentities {
        TLSPresentedIdentities(dnsNames: dns, ipAddresses: ips.map { TLSIdentity.parseAddress($0)! }, commonName: cn)
    }

    func testWhatIsAsked() {
        XCTAssertEqual(TLSIdentity(asked: "LocalHost."), .name("localhost"))
        XCTAssertEqual(TLSIdentity(asked: "127.0.0.1"), .address([127, 0, 0, 1]))
        XCTAssertEqual(TLSIdentity(asked: "[::1]"), .address(Array(repeating: 0, count: 15) + [1]))
        XCTAssertEqual(TLSIdentity(asked: "::1"), TLSIdentity(asked: "[::1]"))
        XCTAssertEqual(TLSIdentity(asked: "fe80::1%eth0"), TLSIdentity(asked: "fe80::1"))
        XCTAssertEqual(TLSIdentity(asked: "127.0.0.1").description, "127.0.0.1")
        XCTAssertEqual(TLSIdentity(asked: "[2001:db8::1]").description, "2001:db8::1")
        // SNI carries names only (RFC 6066 §3).
        XCTAssertEqual(TLSIdentity(asked: "Mail.Example.Test").sniName, "mail.example.test")
        XCTAssertNil(TLSIdentity(asked: "127.0.0.1").sniName)
        XCTAssertNil(TLSIdentity(asked: "[::1]").sniName)
    }

    func testANameMatchesOnlyDNSNames() {
        let localhost = TLSIdentity(asked: "localhost")
        // The case: an IP SAN, even of the address connected to, is not a name.
        XCTAssertFalse(localhost.isMatched(by: ids(ips: ["127.0.0.1"])))
        XCTAssertFalse(localhost.isMatched(by: ids(dns: ["other.test"])))
        XCTAssertTrue(localhost.isMatched(by: ids(dns: ["localhost"], ips: ["127.0.0.1"])))
        // CN is not used, with or without SANs.
        XCTAssertFalse(localhost.isMatched(by: ids(cn: "localhost")))
        XCTAssertFalse(localhost.isMatched(by: ids(dns: ["other.test"], cn: "localhost")))
        // Case and a trailing dot do not matter, on either side.
        XCTAssertTrue(TLSIdentity(asked: "WWW.Example.TEST.").isMatched(by: ids(dns: ["www.example.test"])))
        XCTAssertTrue(TLSIdentity(asked: "www.example.test").isMatched(by: ids(dns: ["WWW.EXAMPLE.TEST."])))
        // A DNS SAN spelling an address is not an address, nor does it match the address asked as a name.
        XCTAssertFalse(TLSIdentity(asked: "127.0.0.1").isMatched(by: ids(dns: ["127.0.0.1"])))
    }

    func testWildcards() {
        let m = TLSIdentity.dnsName
        XCTAssertTrue(m("*.example.test", "a.example.test"))
        XCTAssertTrue(m("*.EXAMPLE.test", "A.example.TEST."))
        XCTAssertFalse(m("*.example.test", "a.b.example.test"), "exactly one label")
        XCTAssertFalse(m("*.example.test", "example.test"), "not the parent")
        XCTAssertFalse(m("*.example.test", ".example.test"), "not an empty label")
        XCTAssertFalse(m("a.*.example.test", "a.b.example.test"), "only the left-most label")
        XCTAssertFalse(m("f*.example.test", "foo.example.test"), "only a whole label")
        XCTAssertFalse(m("*oo.example.test", "foo.example.test"))
        XCTAssertFalse(m("*.test", "example.test"), "at least two labels after the wildcard")
        XCTAssertFalse(m("*", "localhost"))
        XCTAssertFalse(m("*.example.test", "*.example.test"), "an asked name with a * is never matched")
        XCTAssertFalse(TLSIdentity(asked: "127.0.0.1").isMatched(by: ids(dns: ["*.0.0.1"])), "never for an address asked")
        XCTAssertTrue(TLSIdentity(asked: "a.example.test").isMatched(by: ids(dns: ["other.test", "*.example.test"])))
    }

    func testAnAddressMatchesOnlyIPAddresses() {
        let v4 = TLSIdentity(asked: "127.0.0.1")
        XCTAssertTrue(v4.isMatched(by: ids(ips: ["127.0.0.1"])))
        XCTAssertFalse(v4.isMatched(by: ids(dns: ["localhost"])))
        XCTAssertFalse(v4.isMatched(by: ids(ips: ["127.0.0.2"])))
        XCTAssertFalse(v4.isMatched(by: ids(ips: ["::ffff:127.0.0.1"])), "octets compared as they are")
        let v6 = TLSIdentity(asked: "[::1]")
        XCTAssertTrue(v6.isMatched(by: ids(ips: ["0:0:0:0:0:0:0:1"])))
        XCTAssertFalse(v6.isMatched(by: ids(ips: ["127.0.0.1"])))
        XCTAssertFalse(v6.isMatched(by: ids(dns: ["localhost"], cn: "::1")))
    }

    func testWhatTheCertificateIsForInWords() {
        XCTAssertEqual(ids(ips: ["127.0.0.1"]).describe(for: .name("localhost")), "IP 127.0.0.1 (DNS names: none)")
        XCTAssertEqual(ids(dns: ["other.test"]).describe(for: TLSIdentity(asked: "127.0.0.1")), "other.test (IP addresses: none)")
        XCTAssertEqual(ids(dns: ["a.test", "b.test"], ips: ["::1"]).describe(for: .name("c.test")), "a.test, b.test, IP ::1")
    }

    /// The check reads the SANs of a real certificate (parsed with swift-certificates).
    func testCheckOnARealCertificate() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { throw XCTSkip("openssl is not installed") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-tlsid-unit-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.appendingPathComponent("k.pem").path,
                       "-out", dir.appendingPathComponent("c.pem").path, "-days", "1", "-subj", "/CN=localhost",
                       "-addext", "subjectAltName=IP:127.0.0.1,DNS:*.example.test"]
        p.standardError = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        let cert = try NIOSSLCertificate.fromPEMFile(dir.appendingPathComponent("c.pem").path)[0]
        let setup = { (host: String) in try TLSClientSetup(TLSOptions(), host: host, shownPeer: "\(host):443") }
        XCTAssertNoThrow(try setup("127.0.0.1").check(peer: cert))
        XCTAssertNoThrow(try setup("a.example.test").check(peer: cert))
        XCTAssertThrowsError(try setup("localhost").check(peer: cert)) { e in
            XCTAssertEqual("\(e)", "the certificate of localhost:443 is for *.example.test, IP 127.0.0.1, not for \"localhost\"")
        }
        XCTAssertNoThrow(try TLSClientSetup(TLSOptions(verify: false), host: "localhost", shownPeer: "x").check(peer: cert))
    }
}
