import Foundation
import XCTest
import NetKit

/// The `dns` commands as a user runs them: the built `netscript` against NSD on loopback,
/// started through `scripts/lab.d/nsd.sh` like the lab does.
final class DNSScriptTests: XCTestCase {
    nonisolated(unsafe) static var nsd: Process?
    nonisolated(unsafe) static var port: UInt16 = 0
    nonisolated(unsafe) static var dir: URL?
    nonisolated(unsafe) static var skipReason: String?

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    override class func setUp() {
        super.setUp()
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nsd") else { skipReason = "nsd is not installed"; return }
        port = UInt16.random(in: 20000...60000)
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-script-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        dir = d
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", "source scripts/lab.d/nsd.sh && lab_start"]
        p.currentDirectoryURL = repoRoot
        var env = ProcessInfo.processInfo.environment
        env["LAB_DIR"] = d.path
        env["NSD_PORT"] = String(port)
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { skipReason = "cannot start nsd: \(error)"; return }
        nsd = p
        var o = DNSQueryOptions()
        o.timeout = 0.2; o.retries = 0
        let server = DNSServer(address: try! IPAddress("127.0.0.1"), port: port)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, p.isRunning {
            if let r = try? DNSClient().query(try! DNSName("example.test"), .SOA, server: server, options: o), !r.message.answers.isEmpty { return }
            usleep(50_000)
        }
        skipReason = "NSD did not start on port \(port)"
    }

    override class func tearDown() {
        if let p = nsd, p.isRunning {
            p.terminate()
            let deadline = Date().addingTimeInterval(5)
            while p.isRunning && Date() < deadline { usleep(10_000) }
        }
        if let d = dir { try? FileManager.default.removeItem(at: d) }
        super.tearDown()
    }

    var srv: String { "127.0.0.1:\(Self.port)" }

    func run(_ program: String, _ extra: [String] = []) throws -> RunResult {
        if let why = Self.skipReason { throw XCTSkip(why) }
        return try runProcess(try NetScriptBinary.path(), extra + ["-e", program], timeout: 30)
    }

    func testContract() throws {
        var r = try run("for r in dns \"MX\" \"example.test\" server: \"\(srv)\" { print r.preference r.exchange }")
        XCTAssertEqual(r.stdout, "10 mail.example.test.\n", r.stderr)
        r = try run("print (len (dns.axfr \"example.test\" server: \"\(srv)\"))")
        XCTAssertEqual(r.stdout, "10079\n", r.stderr)
        r = try run("try { dns \"A\" \"nope.example.test\" server: \"\(srv)\" } catch e { print e.kind }")
        XCTAssertEqual(r.stdout, "dns.nxdomain\n", r.stderr)
    }

    func testTypedFieldsAndResponse() throws {
        let r = try run("""
        s = "\(srv)"
        soa = (dns "SOA" "example.test" server: s)[0]
        print soa.mname soa.rname soa.serial soa.refresh soa.retry soa.expire soa.minimum
        t = (dns "TXT" "txt.example.test" server: s)[0]
        print (len t.strings) t.strings[0]
        for x in dns "SRV" "_sip._tcp.example.test" server: s { print x.priority x.weight x.port x.target }
        for x in dns "CAA" "example.test" server: s { print x.flags x.tag x.value }
        a = (dns "A" "mail.example.test" server: s)[0]
        print a.name a.ttl a.class a.type (type a.address) a.address
        print (dns "AAAA" "mail.example.test" server: s)[0].address
        resp = dns "A" "www.example.test" server: s
        print resp.rcode resp.flags (len resp.answer) resp.answer[0].type resp.answer[0].target resp.question.name resp.server
        print (len (dns "MX" "mail.example.test" server: s))
        for x in dns.reverse "192.0.2.25" server: s { print x.target }
        print (dns "SVCB" "svcb.example.test" server: s)[0].params.alpn
        print (dns "TXT" "big.example.test" server: s).tcp
        print (dns "MX" "example.test" server: s tcp: true).tcp
        print (dns.parse "x.test. 60 IN MX 5 m.x.test.").exchange
        """)
        XCTAssertEqual(r.stdout, """
        ns1.example.test. hostmaster.example.test. 2026112501 7200 900 1209600 300
        4 hello world
        10 60 5060 sip.example.test.
        20 0 5061 sip2.example.test.
        0 issue letsencrypt.org
        128 iodef mailto:security@example.test
        mail.example.test. 3600 IN A ip 192.0.2.25
        2001:db8::25
        NOERROR ["qr", "aa", "rd"] 3 CNAME web.example.test. www.example.test. \(srv)
        0
        mail.example.test.
        h2,h3
        true
        true
        m.x.test.

        """, r.stderr)
    }

    func testPrintsLikeDigAndTraces() throws {
        let r = try run("trace on\nprint (dns \"MX\" \"example.test\" server: \"\(srv)\" rd: false)")
        XCTAssertTrue(r.stdout.contains(";; ANSWER SECTION:\nexample.test.\t\t3600\tIN\tMX\t10 mail.example.test.\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains(";; flags: qr aa; QUERY: 1, ANSWER: 1"), r.stdout)
        XCTAssertTrue(r.stderr.contains("C: ;; QUESTION SECTION:\nC: ;example.test.\t\t\tIN\tMX"), r.stderr)
        XCTAssertTrue(r.stderr.contains("S: ;; ANSWER SECTION:"), r.stderr)
    }

    func testErrorsNameTheQuestionAndServer() throws {
        var r = try run("try { dns \"A\" \"nope.example.test\" server: \"\(srv)\" } catch e { print e.question \"|\" e.server \"|\" e.message }")
        XCTAssertEqual(r.stdout, "nope.example.test A | \(srv) | NXDOMAIN: nope.example.test. does not exist (asked nope.example.test. A at \(srv))\n", r.stderr)
        r = try run("try { dns \"A\" \"example.org\" server: \"\(srv)\" } catch e { print e.kind }")
        XCTAssertEqual(r.stdout, "dns.refused\n", r.stderr)
        // Nothing answers on port 9: two short tries, then dns.timeout.
        r = try run("try { dns \"A\" \"x.test\" server: \"127.0.0.1:9\" timeout: 0.2 retries: 1 } catch e { print e.kind }")
        XCTAssertEqual(r.stdout, "dns.timeout\n", r.stderr)
        r = try run("dns \"BOGUS\" \"x.test\" server: \"\(srv)\"")
        XCTAssertTrue(r.stderr.contains("error[value]: dns: unknown record type 'BOGUS'"), r.stderr)
        XCTAssertEqual(r.status, 1)
        r = try run("help dns")
        XCTAssertTrue(r.stdout.contains("for r in dns \"MX\" \"example.test\""), r.stdout)
    }
}
