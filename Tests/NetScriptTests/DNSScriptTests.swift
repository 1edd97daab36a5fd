import Foundation
import XCTest
import NetKit

/// The `dns` commands as a user runs them: the built `netscript` against NSD on loopback,
/// started through `scripts/lab.d/nsd.sh` like the lab does.
/// A lab server started from `scripts/lab.d/NAME.sh` on a free port for these tests, ready
/// once it answers `probeZone` SOA at `probeAddress`; stopped by PID.
final class LabServer {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let process: Process
    let port: UInt16
    let dir: URL

    /// A lab server that would not start: the test fails (only a missing binary is a skip).
    struct StartFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts the server on a port free for UDP and TCP right now; if it exits at once (the port
    /// was taken meanwhile), tries again on another, three times at most. Its output goes to
    /// `DIR/server.log`, quoted when it fails.
    init(_ name: String, binary: String, portVariable: String, probeAddress: String = "127.0.0.1", probeZone: String,
         environment extra: [String: String] = [:]) throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw XCTSkip("\(binary) is not installed") }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-script-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let log = dir.appendingPathComponent("server.log")
        var o = DNSQueryOptions()
        o.timeout = 0.2; o.retries = 0
        var lastLog = ""
        for _ in 0..<3 {
            let port = LabServer.freePort()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["-c", "source scripts/lab.d/\(name).sh && lab_start"]
            p.currentDirectoryURL = LabServer.repoRoot
            var env = ProcessInfo.processInfo.environment
            env["LAB_DIR"] = dir.path
            env[portVariable] = String(port)
            env.merge(extra) { $1 }
            p.environment = env
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let h = try FileHandle(forWritingTo: log)
            p.standardOutput = h
            p.standardError = h
            try p.run()
            let server = DNSServer(address: try IPAddress(probeAddress), port: port)
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, p.isRunning {
                if let r = try? DNSClient().query(try DNSName(probeZone), .SOA, server: server, options: o), !r.message.answers.isEmpty {
                    process = p
                    self.port = port
                    return
                }
                usleep(50_000)
            }
            let running = p.isRunning
            LabServer.end(p)
            lastLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if running { break }        // it ran but never answered: another port will not help
        }
        try? FileManager.default.removeItem(at: dir)
        throw StartFailure(description: "\(name) did not start: \(lastLog.suffix(2000))")
    }

    /// A port that was free for UDP and TCP on 127.0.0.1 a moment ago.
    static func freePort() -> UInt16 {
        for _ in 0..<50 {
            let port = UInt16.random(in: 20000...60000)
            guard let tcp = try? Listener.listen("127.0.0.1:\(port)") else { continue }
            tcp.close()
            guard let udp = try? DatagramSocket.open(bind: "127.0.0.1:\(port)") else { continue }
            udp.close()
            return port
        }
        return UInt16.random(in: 20000...60000)
    }

    static func end(_ p: Process) {
        if p.isRunning {
            p.terminate()
            let deadline = Date().addingTimeInterval(5)
            while p.isRunning && Date() < deadline { usleep(10_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
    }

    func stop() {
        LabServer.end(process)
        try? FileManager.default.removeItem(at: dir)
    }
}

/// The `dns` commands as a user runs them: the built `netscript` against NSD on loopback,
/// started through `scripts/lab.d/nsd.sh` like the lab does (Knot and the delegation tree
/// for updates, IXFR and traces).
final class DNSScriptTests: XCTestCase {
    nonisolated(unsafe) static var nsd: LabServer?
    nonisolated(unsafe) static var startError: Error?
    static var port: UInt16 { nsd?.port ?? 0 }

    override class func setUp() {
        super.setUp()
        do { nsd = try LabServer("nsd", binary: "/usr/sbin/nsd", portVariable: "NSD_PORT", probeZone: "example.test") } catch {
            startError = error
        }
    }

    override class func tearDown() {
        nsd?.stop(); nsd = nil
        super.tearDown()
    }

    var srv: String { "127.0.0.1:\(Self.port)" }

    func run(_ program: String, _ extra: [String] = []) throws -> RunResult {
        if let e = Self.startError { throw e }
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

    /// DNS responses and records read like maps too.
    func testResponsesAndRecordsReadLikeMaps() throws {
        let r = try run("""
        resp = dns "MX" "example.test" server: "\(srv)"
        print (keys resp)[0] resp["rcode"] ("answer" in resp) (len (items resp))
        for k, v in resp { if k == "rcode" { print "rcode is" v } }
        mx = resp.answer[0]
        print (keys mx) mx["type"] ("exchange" in mx)
        print (json.parse (json mx)).type
        """)
        XCTAssertEqual(r.stdout, """
        rcode NOERROR true 15
        rcode is NOERROR
        ["name", "ttl", "type", "class", "data", "preference", "exchange"] MX true
        MX

        """, r.stderr)
    }

    /// `dns NAMES` and `dns TYPE NAMES` (help's `dns [TYPE] NAME|[NAMES]`): a list of responses
    /// in order, an error value in place of each failed name.
    func testListsOfNames() throws {
        let r = try run("""
        s = "\(srv)"
        rs = dns ["mail.example.test", "nope.example.test", "ns1.example.test"] server: s
        print (len rs) rs[0][0].address rs[1].kind rs[2][0].address
        for x in dns "MX" ["example.test", "mail.example.test"] server: s concurrency: 1 { print (len x) }
        print (dns "AAAA" ["mail.example.test"] server: s concurrency: 2)[0][0].address
        print (len (dns [] server: s))
        try { dns [1] server: s } catch e { print e.kind e.message }
        try { dns ["a.example.test"] server: s concurrency: 0 } catch e { print e.kind e.message }
        """)
        XCTAssertEqual(r.stdout, """
        3 192.0.2.25 dns.nxdomain 192.0.2.1
        1
        0
        2001:db8::25
        0
        type dns: names must be strings, not an int
        value dns: concurrency: must be between 1 and 1024

        """, r.stderr)
    }

    /// A query to a port where nothing listens is `refused` at once (ICMP port unreachable on a
    /// connected UDP socket, RST over TCP), as dig says "connection refused", not a timeout.
    func testNothingListeningIsRefusedAtOnce() throws {
        let port = try freeUDPPort()
        let r = try run("""
        t0 = clock
        try { dns "A" "x.example.test" server: "127.0.0.1:\(port)" } catch e { print e.kind e.message }
        try { dns "A" "x.example.test" server: "127.0.0.1:\(port)" tcp: true } catch e { print e.kind e.message }
        try { dns "A" "x.example.test" server: "127.0.0.1:\(port)" } catch "dns" e { print "not a dns.* kind" } catch "refused" { print "caught as refused" }
        print (clock - t0 < 3)
        """)
        XCTAssertEqual(r.stdout, """
        refused 127.0.0.1:\(port) refused the query: nothing listens on UDP port \(port) (ICMP port unreachable)
        refused TCP connect to 127.0.0.1:\(port): connection refused (nothing listens there)
        caught as refused
        true

        """, r.stderr)
    }

    /// Every type in IANA's registry is asked by its name (RFC 3597 data where there is no
    /// typed form), as dig asks it; an unknown name is still a clear error.
    func testEveryRegisteredTypeIsAskedByName() throws {
        let r = try run("""
        for t in ["RP", "LOC", "URI", "OPENPGPKEY", "AFSDB", "CERT", "SMIMEA", "ZONEMD", "EUI48", "AMTRELAY"] {
            q = dns t "example.test" server: "\(srv)"
            print q.question.type q.rcode
        }
        print (dns.parse 'x.test. 60 IN URI \\# 4 000a0001')
        try { dns "NOTATYPE" "example.test" server: "\(srv)" } catch e { print e.kind e.message }
        """)
        XCTAssertEqual(r.stdout, """
        RP NOERROR
        LOC NOERROR
        URI NOERROR
        OPENPGPKEY NOERROR
        AFSDB NOERROR
        CERT NOERROR
        SMIMEA NOERROR
        ZONEMD NOERROR
        EUI48 NOERROR
        AMTRELAY NOERROR
        x.test.\t\t\t60\tIN\tURI\t\\# 4 000A0001
        value dns: unknown record type 'NOTATYPE' (A, AAAA, MX, TXT, … or TYPEn)

        """, r.stderr)
    }

    /// A signed answer shows its TSIG record as dig does, in a pseudosection of its own, and
    /// keeps it out of `r.additional` (it is `r.tsig`).
    func testSignedAnswerPrintsTheTSIGPseudosection() throws {
        let key = "hmac-sha256:xfr-key:eGZyLWtleS1zZWNyZXQtZm9yLXRoZS10ZXN0cw=="
        let r = try run("""
        r = dns "SOA" "example.test" server: "\(srv)" key: "\(key)"
        print r
        print (len r.additional) r.tsig.type r.tsig.name ("TSIG" in (map fn(x) { x.type } r.additional))
        """)
        XCTAssertEqual(r.status, 0, r.stderr)
        let ours = r.stdout.components(separatedBy: "\n")
        guard let i = ours.firstIndex(of: ";; TSIG PSEUDOSECTION:"), i + 1 < ours.count else { return XCTFail(r.stdout) }
        let dig = try runProcess("/usr/bin/dig", ["+nocmd", "+nostats", "-y", key, "SOA", "example.test", "@127.0.0.1", "-p", srv.components(separatedBy: ":").last!]).stdout
        let digLines = dig.components(separatedBy: "\n")
        guard let j = digLines.firstIndex(of: ";; TSIG PSEUDOSECTION:"), j + 1 < digLines.count else { return XCTFail(dig) }
        // Name, TTL, class, type, algorithm, fudge, MAC size, error and other length agree; the
        // time, MAC and id are the answer's own.
        func fields(_ line: String) -> [String] {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            return f.count >= 12 ? [f[0], f[1], f[2], f[3], f[4], f[6], f[7], f[10], f[11]] : f
        }
        XCTAssertEqual(fields(ours[i + 1]), fields(digLines[j + 1]))
        XCTAssertEqual(fields(ours[i + 1]), ["xfr-key.", "0", "ANY", "TSIG", "hmac-sha256.", "300", "32", "NOERROR", "0"])
        XCTAssertTrue(r.stdout.contains("ADDITIONAL: 5"), r.stdout)
        XCTAssertTrue(r.stdout.contains("3 TSIG xfr-key. false\n"), r.stdout)
    }

    /// A zone transfer is bounded by bytes as well as records: over `max:` it stops with
    /// dns.transfer naming the limit, long before the memory could grow.
    func testZoneTransferBoundedByBytes() throws {
        let r = try run("""
        try { dns.axfr "example.test" server: "\(srv)" max: 20000 } catch e { print e.kind e.message }
        print (len (dns.axfr "example.test" server: "\(srv)" max: 10000000))
        try { dns.axfr "example.test" server: "\(srv)" max: 10 } catch e { print e.kind e.message }
        """)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, r.stdout + r.stderr)
        XCTAssertTrue(lines.first?.hasPrefix("dns.transfer AXFR of example.test. from \(srv): more than 20000 bytes (") == true, r.stdout)
        XCTAssertTrue(lines.first?.hasSuffix("records) without the closing SOA; max: raises the limit") == true, r.stdout)
        XCTAssertEqual(lines.dropFirst().first, "10079")
        XCTAssertEqual(lines.last, "value dns.axfr: max: must be a number of bytes from 512 on")
    }

    /// A UDP port nothing listens on (bound, read, closed).
    func freeUDPPort() throws -> Int {
        let (fd, port) = boundUDPSocket()
        close(fd)
        return port
    }

    /// A UDP socket bound to a free loopback port, and the port.
    func boundUDPSocket() -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = UInt32(0x7F000001).bigEndian
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, Int(UInt16(bigEndian: sa.sin_port)))
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
        // A socket that listens but never answers: two short tries, then dns.timeout.
        let (silent, silentPort) = boundUDPSocket()
        defer { close(silent) }
        r = try run("try { dns \"A\" \"x.test\" server: \"127.0.0.1:\(silentPort)\" timeout: 0.2 retries: 1 } catch e { print e.kind }")
        XCTAssertEqual(r.stdout, "dns.timeout\n", r.stderr)
        r = try run("dns \"BOGUS\" \"x.test\" server: \"\(srv)\"")
        XCTAssertTrue(r.stderr.contains("error[value]: dns: unknown record type 'BOGUS'"), r.stderr)
        XCTAssertEqual(r.status, 1)
        r = try run("help dns")
        XCTAssertTrue(r.stdout.contains("for r in dns \"MX\" \"example.test\""), r.stdout)
    }

    func testUpdateIXFRAndSignedAXFR() throws {
        let knot = try LabServer("knot", binary: "/usr/sbin/knotd", portVariable: "KNOT_PORT", probeZone: "update.test")
        defer { knot.stop() }
        let k = "127.0.0.1:\(knot.port)"
        let key = "hmac-sha256:update-key:c2VjcmV0LXNoYTI1Ni1rZXktZm9yLXRlc3Rz"
        let r = try run("""
        k = "\(key)"
        print (dns.update "update.test" server: "\(k)" key: k add: ["www 300 A 192.0.2.80"] delete: ["old A"] absent: ["www"]).rcode
        print (dns "A" "www.update.test" server: "\(k)")[0].address
        try { dns.update "update.test" server: "\(k)" key: k add: ["x A 192.0.2.1"] absent: ["www"] } catch e { print e.kind }
        try { dns.update "update.test" server: "\(k)" add: ["x A 192.0.2.1"] } catch e { print e.kind }
        try { dns.update "update.test" server: "\(k)" key: "update-key:d3Jvbmc=" add: ["x A 192.0.2.1"] } catch e { print e.kind }
        for r in dns.ixfr "update.test" serial: 1 server: "\(k)" key: k { print r.type r.name r.data }
        print (len (dns.axfr "example.test" server: "\(srv)" key: "hmac-sha256:xfr-key:eGZyLWtleS1zZWNyZXQtZm9yLXRoZS10ZXN0cw=="))
        # Failed updates say which prerequisite did not hold, in update terms.
        try { dns.update "update.test" server: "\(k)" key: k add: ["x A 192.0.2.1"] exists: ["nothere"] } catch e { print e.message }
        try { dns.update "update.test" server: "\(k)" key: k add: ["x A 192.0.2.1"] absent: ["www A"] } catch e { print e.message }
        try { dns.update "update.test" server: "\(k)" key: k add: ["x A 192.0.2.1"] exists: ["www MX"] } catch e { print e.message }
        try { dns.update "update.test" server: "\(k)" key: k add: ["x A 192.0.2.1"] absent: ["www"] } catch e { print e.message }
        try { dns.update "update.test" server: "\(k)" key: k add: ["x.other.test. 60 A 192.0.2.1"] } catch e { print e.message }
        """)
        XCTAssertEqual(r.stdout, """
        NOERROR
        192.0.2.80
        dns.yxdomain
        dns.notauth
        dns.tsig
        SOA update.test. ns1.update.test. hostmaster.update.test. 2 7200 900 1209600 300
        SOA update.test. ns1.update.test. hostmaster.update.test. 1 7200 900 1209600 300
        A old.update.test. 192.0.2.1
        SOA update.test. ns1.update.test. hostmaster.update.test. 2 7200 900 1209600 300
        A www.update.test. 192.0.2.80
        SOA update.test. ns1.update.test. hostmaster.update.test. 2 7200 900 1209600 300
        10079
        NXDOMAIN: update of update.test. at \(k) not applied: the prerequisite exists: "nothere.update.test." does not hold: the name does not exist
        YXRRSET: update of update.test. at \(k) not applied: the prerequisite absent: "www.update.test. A" does not hold: records of that type exist
        NXRRSET: update of update.test. at \(k) not applied: the prerequisite exists: "www.update.test. MX" does not hold: no such records (or not with that data)
        YXDOMAIN: update of update.test. at \(k) not applied: the prerequisite absent: "www.update.test." does not hold: the name exists
        NOTZONE: update of update.test. at \(k) not applied: outside the zone: x.other.test.

        """, r.stderr)
    }

    /// `dns.message` / `dns.send`: a message built and edited by hand goes out as built, and
    /// the answer comes back as NSD sent it — rcodes as fields, not errors; UDP and TCP.
    func testSingleMessageBuiltSentAndReadAsReceived() throws {
        let r = try run("""
        m = dns.message "example.test" "MX" rd: false
        m.id = 4242
        print m.id m.flags m.rd m.question.name m.question.type (m.edns).udp m.size (len m.wire)
        r = dns.send m server: "\(srv)"
        print r.id r.rcode r.flags (len r.answer) r.answer[0].exchange r.tcp
        m.question = "nope.example.test A"
        m.cd = true
        r = dns.send m server: "\(srv)" tcp: true
        print r.rcode r.tcp r.flags r.authority[0].type r.question.name m.flags
        c = dns.message m
        c.id = 1
        print m.id c.id (dns.message m.wire).id
        d = dns.message r
        print d.rcode d.qr (len d.authority)
        m.edns = nil
        m.answer = ["x.test. 60 IN A 192.0.2.1", dns.parse "y.test. 60 IN A 192.0.2.2"]
        m.opcode = "NOTIFY"
        m.rcode = "REFUSED"
        print m.opcode m.rcode (len m.answer) m.edns
        print (dns.message m.wire).answer[1].address
        try { m.id = 70000 } catch e { print e.kind }
        try { m.flags = ["xx"] } catch e { print e.kind }
        try { m.rcode = "BADVERS" } catch e { print e.kind }
        try { dns.send m } catch e { print e.kind }
        """)
        XCTAssertEqual(r.stdout, """
        4242 [] false example.test. MX 1232 41 41
        4242 NOERROR ["qr", "aa"] 1 mail.example.test. false
        NXDOMAIN true ["qr", "aa"] SOA nope.example.test. ["cd"]
        4242 1 4242
        NXDOMAIN true 1
        NOTIFY REFUSED 2 nil
        192.0.2.2
        value
        value
        value
        value

        """, r.stderr)
    }

    /// Sent once, nothing listening: refused at once over UDP (ICMP), no retry; a timeout is
    /// dns.timeout after the one try.
    func testSingleMessageFailures() throws {
        let dead = LabServer.freePort()
        let r = try run("""
        m = dns.message "example.test"
        try { dns.send m server: "127.0.0.1:\(dead)" } catch e { print e.kind }
        try { dns.send m server: "127.0.0.1:\(dead)" tcp: true } catch e { print e.kind }
        try { dns.message (bytes "abc") } catch e { print e.kind }
        """)
        XCTAssertEqual(r.stdout, "refused\nrefused\ndns.malformed\n", r.stderr)
    }

    /// A referral asked for by hand from the tree's root: glossed as a referral in trace explain.
    func testSingleMessageReferralIsExplained() throws {
        let tree = try LabServer("nsd-tree", binary: "/usr/sbin/nsd", portVariable: "TREE_PORT", probeAddress: "127.0.0.3", probeZone: "example.test")
        defer { tree.stop() }
        let r = try run("""
        r = dns.send (dns.message "www.example.test" rd: false) server: "127.0.0.1:\(tree.port)"
        print r.rcode (len r.answer) r.authority[0].type r.authority[0].target
        trace explain
        """)
        XCTAssertTrue(r.stdout.hasPrefix("NOERROR 0 NS "), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("C: ; message to 127.0.0.1:\(tree.port) (UDP)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("S: ; answer from 127.0.0.1:\(tree.port) (UDP)"), r.stdout)
        XCTAssertTrue(r.stdout.lowercased().contains("referral"), r.stdout)
        XCTAssertTrue(r.stdout.contains("rd off"), r.stdout)
    }

    func testTraceThroughTheLocalTree() throws {
        let tree = try LabServer("nsd-tree", binary: "/usr/sbin/nsd", portVariable: "TREE_PORT", probeAddress: "127.0.0.3", probeZone: "example.test")
        defer { tree.stop() }
        let r = try run("""
        for s in dns.trace "A" "www.example.test" roots: ["127.0.0.1:\(tree.port)"] { print s.zone s.server s.referral (len s.response) }
        try { dns.trace "nope.example.test" roots: ["127.0.0.1:\(tree.port)"] } catch e { print e.kind }
        """)
        XCTAssertEqual(r.stdout, """
        . 127.0.0.1:\(tree.port) test. 0
        test. 127.0.0.2:\(tree.port) example.test. 0
        example.test. 127.0.0.3:\(tree.port) nil 1
        dns.nxdomain

        """, r.stderr)
    }

    /// `trace explain`'s output as steps: each step's text (its C:/S: lines) and the glosses under it.
    func explainedSteps(_ out: String) -> [(text: String, glosses: [String])] {
        var steps: [(text: String, glosses: [String])] = []
        var inGlosses = true
        for line in out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("   ↳ ") {
                if !steps.isEmpty { steps[steps.count - 1].glosses.append(String(line.dropFirst(5))) }
                inGlosses = true
            } else if line.hasPrefix("C: ") || line.hasPrefix("S: ") || line.hasPrefix("*: ") {
                let continues = !inGlosses && !steps.isEmpty && steps[steps.count - 1].text.prefix(3) == line.prefix(3) && !line.hasPrefix("C: ; query") && !line.hasPrefix("S: ; answer")
                if continues { steps[steps.count - 1].text += "\n" + line } else { steps.append((line, [])) }
                inGlosses = false
            }
        }
        return steps
    }

    func testExplainTellsReferralNodataNxdomainAndAnswerApart() throws {
        let tree = try LabServer("nsd-tree", binary: "/usr/sbin/nsd", portVariable: "TREE_PORT", probeAddress: "127.0.0.3", probeZone: "example.test")
        defer { tree.stop() }
        func explained(_ call: String) throws -> (query: [String], response: [String], text: String) {
            let r = try run("try { \(call) } catch e { print e.kind }\ntrace explain")
            let steps = explainedSteps(r.stdout)
            let q = try XCTUnwrap(steps.first { $0.text.hasPrefix("C: ; query to") }, r.stdout)
            let a = try XCTUnwrap(steps.first { $0.text.hasPrefix("S: ; answer from") }, r.stdout)
            return (q.glosses, a.glosses, r.stdout)
        }
        // The root server, asked without recursion, refers to test.'s servers.
        let referral = try explained("dns \"A\" \"www.example.test\" server: \"127.0.0.1:\(tree.port)\" rd: false")
        XCTAssertEqual(referral.query.first, "query: asks for the A records of www.example.test.", referral.text)
        XCTAssertTrue(referral.query.contains { $0.hasPrefix("rd off: no recursion") }, referral.text)
        XCTAssertFalse(referral.query.contains { $0.contains("NODATA") || $0.contains("NOERROR") || $0.contains("referral") }, "a query is not glossed as an answer: \(referral.text)")
        XCTAssertTrue(referral.query.contains { $0.hasPrefix("EDNS(0) (RFC 6891): the asker takes UDP messages up to 1232 bytes") }, referral.text)
        XCTAssertEqual(referral.response.first, "referral: the server does not know; it points to the servers of test. (the NS records in AUTHORITY: ns.nic.test.) — ask one of them next", referral.text)
        XCTAssertFalse(referral.response.contains { $0.contains("NODATA") }, referral.text)
        XCTAssertTrue(referral.response.contains { $0.hasPrefix("glue: ns.nic.test. A 127.0.0.2 — ") }, referral.text)
        XCTAssertTrue(referral.response.contains { $0.hasPrefix("flags: qr = a response") && $0.contains("no ra: ") && !$0.contains("aa =") }, referral.text)
        XCTAssertTrue(referral.response.contains { $0.hasPrefix("TTL 3600: the seconds a resolver may remember this delegation") }, referral.text)

        // The zone's own server: the name exists, not with AAAA.
        let nodata = try explained("dns \"AAAA\" \"www.example.test\" server: \"127.0.0.3:\(tree.port)\"")
        XCTAssertTrue(nodata.query.contains { $0.hasPrefix("rd on: recursion desired") }, nodata.text)
        XCTAssertEqual(nodata.response.first, "NODATA: the name exists but has no AAAA records (NOERROR with an empty answer); the SOA of example.test. in AUTHORITY says how long that may be cached: 300 s (RFC 2308)", nodata.text)
        XCTAssertFalse(nodata.response.contains { $0.contains("referral") || $0.hasPrefix("glue") }, nodata.text)
        XCTAssertTrue(nodata.response.contains { $0.contains("aa = authoritative answer") && $0.contains("rd = recursion desired: the asker wants the whole answer found for it (copied from the query)") }, nodata.text)

        // A name that does not exist.
        let nx = try explained("dns \"A\" \"nope.example.test\" server: \"127.0.0.3:\(tree.port)\"")
        XCTAssertTrue(nx.text.hasPrefix("dns.nxdomain\n"), nx.text)
        XCTAssertEqual(nx.response.first, "NXDOMAIN: the name does not exist — no records of any type, said with authority by a server of the zone; the SOA of example.test. in AUTHORITY says how long that may be cached: 300 s (RFC 2308)", nx.text)
        XCTAssertFalse(nx.response.contains { $0.contains("NODATA") || $0.contains("referral") }, nx.text)
        XCTAssertTrue(nx.response.contains { $0.hasPrefix("sections: QUESTION: what was asked, echoed; AUTHORITY (1): the zone's SOA, standing for the negative answer") }, nx.text)

        // An answer.
        let answer = try explained("dns \"A\" \"www.example.test\" server: \"127.0.0.3:\(tree.port)\"")
        XCTAssertEqual(answer.response.first, "answer: 1 record answering the question (www.example.test. A), from a server of the zone (authoritative)", answer.text)
        XCTAssertFalse(answer.response.contains { $0.contains("NODATA") || $0.contains("referral") || $0.hasPrefix("glue") }, answer.text)
        XCTAssertTrue(answer.response.contains { $0.hasPrefix("additional addresses: ns1.example.test. A 127.0.0.3") }, answer.text)
        XCTAssertTrue(answer.response.contains { $0.hasPrefix("TTL 3600: the seconds a resolver may keep this record in its cache") }, answer.text)
        XCTAssertTrue(answer.response.contains { $0.hasPrefix("EDNS(0) (RFC 6891): the server takes UDP messages up to") && $0.contains("DO bit off") }, answer.text)
    }

    func testExplainGlossesTheDOBitAndDnssecFlags() throws {
        let tree = try LabServer("nsd-tree", binary: "/usr/sbin/nsd", portVariable: "TREE_PORT", probeAddress: "127.0.0.3", probeZone: "example.test")
        defer { tree.stop() }
        let r = try run("dns \"A\" \"www.example.test\" server: \"127.0.0.3:\(tree.port)\" dnssec: true\ntrace explain")
        let steps = explainedSteps(r.stdout)
        let q = try XCTUnwrap(steps.first { $0.text.hasPrefix("C: ; query to") }, r.stdout)
        XCTAssertTrue(q.glosses.contains { $0.contains("DO bit set: DNSSEC records (RRSIG, NSEC) wanted") }, r.stdout)
    }
}
