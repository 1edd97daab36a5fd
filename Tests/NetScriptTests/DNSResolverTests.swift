import Foundation
import XCTest
import NetKit

/// Unbound on loopback as a recursive (stub) resolver in front of NSD, and serving DNS over
/// TLS (RFC 7858) with a certificate from a CA made by `scripts/lab.d/unbound.sh`. Answers
/// through it equal dig's (UDP) and kdig's (+tls), record for record.
final class DNSResolverTests: XCTestCase {
    nonisolated(unsafe) static var nsd: LabServer?
    nonisolated(unsafe) static var unbound: LabServer?
    nonisolated(unsafe) static var tlsPort: UInt16 = 0
    nonisolated(unsafe) static var startError: Error?

    override class func setUp() {
        super.setUp()
        do {
            let n = try LabServer("nsd", binary: "/usr/sbin/nsd", portVariable: "NSD_PORT", probeZone: "example.test")
            nsd = n
            var tls: UInt16 = 0
            repeat { tls = LabServer.freePort() } while tls == n.port
            tlsPort = tls
            unbound = try LabServer("unbound", binary: "/usr/sbin/unbound", portVariable: "UNBOUND_PORT", probeZone: "example.test",
                                    environment: ["NSD_PORT": String(n.port), "UNBOUND_TLS_PORT": String(tls)])
        } catch { startError = error }
    }

    override class func tearDown() {
        unbound?.stop(); unbound = nil
        nsd?.stop(); nsd = nil
        super.tearDown()
    }

    func peers() throws -> (udp: DNSServer, tls: DNSServer, ca: String) {
        if let e = Self.startError { throw e }
        let u = Self.unbound!
        let local = try IPAddress("127.0.0.1")
        return (DNSServer(address: local, port: u.port), DNSServer(address: local, port: Self.tlsPort),
                u.dir.appendingPathComponent("unbound/ca.pem").path)
    }

    static let questions: [(String, String)] = [
        ("MX", "example.test"), ("A", "www.example.test"), ("AAAA", "mail.example.test"), ("TXT", "txt.example.test"),
        ("SRV", "_sip._tcp.example.test"), ("CAA", "example.test"), ("PTR", "25.2.0.192.in-addr.arpa"), ("A", "h4321.hosts.example.test"),
    ]

    /// Records with the TTL cleared: a cache counts TTLs down between two askers.
    func normalised(_ rs: [DNSRecord]) -> Set<DNSRecord> {
        Set(rs.map { var r = $0; r.ttl = 0; return r })
    }

    func parse(_ text: String) throws -> [DNSRecord] {
        try text.split(separator: "\n").filter { !$0.hasPrefix(";") && !$0.isEmpty }.map { try DNSRecord(String($0)) }
    }

    func tlsOptions(_ ca: String?, verify: Bool = true, name: String? = "localhost") -> DNSQueryOptions {
        var o = DNSQueryOptions()
        o.timeout = 5; o.retries = 0
        o.tls = TLSOptions(verify: verify, caFile: ca, serverName: name)
        return o
    }

    func testRecursiveAnswersThroughUnboundEqualDig() throws {
        let (udp, _, _) = try peers()
        var o = DNSQueryOptions()
        o.timeout = 5
        for (type, name) in Self.questions {
            let r = try DNSClient().query(try DNSName(name), DNSType(type)!, server: udp, options: o)
            XCTAssertTrue(r.message.flags.ra, "a recursive server sets RA")
            let dig = try runProcess("/usr/bin/dig", ["+noall", "+answer", "@127.0.0.1", "-p", String(udp.port), type, name]).stdout
            let theirs = try parse(dig)
            XCTAssertFalse(theirs.isEmpty, "dig got nothing for \(type) \(name)")
            XCTAssertEqual(normalised(r.message.answers), normalised(theirs), "\(type) \(name)")
        }
        // A CNAME is followed by the resolver: the chain and the target's addresses come back.
        let www = try DNSClient().query(try DNSName("www.example.test"), .A, server: udp, options: o)
        XCTAssertEqual(www.message.answers.first?.type, .CNAME)
        XCTAssertTrue(www.message.answers.contains { $0.type == .A })
    }

    func testDNSOverTLSEqualsKdig() throws {
        let (_, tls, ca) = try peers()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/kdig") else { throw XCTSkip("kdig is not installed (knot-dnsutils)") }
        let t = Transcript()
        let client = DNSClient(transcript: t)
        for (type, name) in Self.questions {
            let r = try client.query(try DNSName(name), DNSType(type)!, server: tls, options: tlsOptions(ca))
            XCTAssertTrue(r.overTLS)
            let kdig = try runProcess("/usr/bin/kdig", ["+tls", "+tls-ca=\(ca)", "+tls-hostname=localhost", "+noall", "+answer",
                                                        "@127.0.0.1", "-p", String(tls.port), type, name]).stdout
            let theirs = try parse(kdig)
            XCTAssertFalse(theirs.isEmpty, "kdig got nothing for \(type) \(name): \(kdig)")
            XCTAssertEqual(normalised(r.message.answers), normalised(theirs), "\(type) \(name)")
        }
        XCTAssertTrue(t.steps.contains { $0.text.contains("(TLS)") }, "the transcript names the transport")
    }

    func testManyNamesOverOneTLSConnection() throws {
        let (_, tls, ca) = try peers()
        let names = try (0..<50).map { try DNSName("h\($0).hosts.example.test") } + [try DNSName("nope.example.test")]
        let results = try DNSClient().queryMany(names, .A, server: tls, options: tlsOptions(ca))
        XCTAssertEqual(results.count, 51)
        for i in 0..<50 {
            let r = try results[i].get()
            XCTAssertEqual(r.message.answers.map { $0.data.text(.A) }, ["10.0.0.\(i)"], "h\(i)")
        }
        XCTAssertEqual(try results[50].get().message.rcode, 3, "NXDOMAIN comes back as an answer, in its place")
    }

    func testTLSVerificationFailuresAreNamed() throws {
        let (udp, tls, ca) = try peers()
        // The system's roots do not know the lab CA.
        XCTAssertThrowsError(try DNSClient().query(try DNSName("example.test"), .SOA, server: tls, options: tlsOptions(nil))) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .tls, "\(e)")
            XCTAssertTrue("\(e)".contains("is not signed by a trusted CA (its issuer \"NetScript Lab CA\" is not among the system's CAs"), "\(e)")
        }
        // verify: false is the explicit opt-out.
        let r = try DNSClient().query(try DNSName("example.test"), .SOA, server: tls, options: tlsOptions(nil, verify: false))
        XCTAssertEqual(r.message.answers.first?.type, .SOA)
        // TLS to a server that speaks plain DNS over TCP fails as dns.tls or a timeout, bounded.
        var o = tlsOptions(nil, verify: false)
        o.timeout = 2
        XCTAssertThrowsError(try DNSClient().query(try DNSName("example.test"), .SOA, server: udp, options: o)) { e in
            let k = (e as? DNSError)?.kind
            XCTAssertTrue(k == .tls || k == .timeout || k == .io, "\(e)")
        }
    }

    /// Issue 18: the name asked (sni:, or the server's name) is the name checked, by RFC 9525.
    /// The lab certificate names localhost, 127.0.0.1 and ::1; before, NIOSSL took its IP
    /// 127.0.0.1 (the address connected to) for any name asked.
    func testDNSOverTLSChecksTheNameAsked() throws {
        let (_, tls, ca) = try peers()
        var o = tlsOptions(ca, name: "other.test")
        XCTAssertThrowsError(try DNSClient().query(try DNSName("example.test"), .SOA, server: tls, options: o)) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .tls, "\(e)")
            XCTAssertTrue("\(e)".contains("the certificate of 127.0.0.1:\(tls.port) is for localhost, IP 127.0.0.1, IP ::1, not for \"other.test\""), "\(e)")
        }
        o = tlsOptions(ca, name: nil)
        XCTAssertEqual(try DNSClient().query(try DNSName("example.test"), .SOA, server: tls, options: o).message.answers.first?.type, .SOA)
        let bin = try NetScriptBinary.path()
        let r = try runProcess(bin, ["-e", """
            try { dns "SOA" "example.test" server: "127.0.0.1:\(tls.port)" tls: true ca: "\(ca)" sni: "other.test" } catch e { print e.kind }
            print (dns "SOA" "example.test" server: "[::1]:\(tls.port)" tls: true ca: "\(ca)").answer[0].type
            """])
        XCTAssertEqual(r.stdout, "dns.tls\nSOA\n", r.stderr)
    }

    func testScriptsAskOverTLS() throws {
        let (_, tls, ca) = try peers()
        let bin = try NetScriptBinary.path()
        let ok = try runProcess(bin, ["-e", """
            r = dns "MX" "example.test" server: "localhost:\(tls.port)" tls: true ca: "\(ca)"
            for m in r { print m.preference m.exchange }
            print r.tls r.server
            """])
        XCTAssertEqual(ok.stdout, "10 mail.example.test.\ntrue 127.0.0.1:\(tls.port)\n", ok.stderr)
        let bad = try runProcess(bin, ["-e", """
            try { dns "MX" "example.test" server: "127.0.0.1:\(tls.port)" tls: true } catch e { print e.kind }
            print (len (dns "A" ["www.example.test", "mail.example.test"] server: "127.0.0.1:\(tls.port)" tls: true verify: false))
            dns "A" "example.test" server: "127.0.0.1:\(tls.port)" verify: false
            """])
        XCTAssertEqual(bad.stdout, "dns.tls\n2\n", bad.stderr)
        XCTAssertTrue(bad.stderr.contains("error[value]: dns: verify: only applies with tls: true"), bad.stderr)
    }
}
