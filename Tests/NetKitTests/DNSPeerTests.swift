import Foundation
import XCTest
@testable import NetKit

/// The resolver against a real authoritative server (NSD, started here on loopback) and
/// against misbehaving fake servers. Answers are compared record for record with dig's.
final class DNSPeerTests: XCTestCase {
    nonisolated(unsafe) static var nsd: NSDServer?
    nonisolated(unsafe) static var startError: Error?

    override class func setUp() {
        super.setUp()
        do { nsd = try NSDServer() } catch { startError = error }
    }
    override class func tearDown() {
        nsd?.stop(); nsd = nil
        super.tearDown()
    }

    func server() throws -> NSDServer {
        if let e = Self.startError { throw e }
        return Self.nsd!
    }

    func options(tcp: Bool = false, timeout: Double = 3) -> DNSQueryOptions {
        var o = DNSQueryOptions()
        o.tcp = tcp; o.timeout = timeout; o.retries = 1; o.recursionDesired = false
        return o
    }

    /// The fixed questions, every type in the zone.
    static let questions: [(String, String)] = [
        ("MX", "example.test"), ("SOA", "example.test"), ("NS", "example.test"), ("A", "example.test"), ("AAAA", "mail.example.test"),
        ("A", "www.example.test"), ("TXT", "txt.example.test"), ("TXT", "escaped\\.dot.example.test"), ("PTR", "ptr.example.test"),
        ("SRV", "_sip._tcp.example.test"), ("CAA", "example.test"), ("NAPTR", "naptr.example.test"), ("DS", "ds.example.test"),
        ("DNSKEY", "dnskey.example.test"), ("RRSIG", "rrsig.example.test"), ("NSEC", "nsec.example.test"), ("TLSA", "tlsa.example.test"),
        ("TLSA", "_443._tcp.www.example.test"), ("SVCB", "svcb.example.test"), ("SVCB", "alias.example.test"), ("HTTPS", "https.example.test"),
        ("SSHFP", "sshfp.example.test"), ("TYPE65280", "generic.example.test"), ("A", "h1234.hosts.example.test"),
        ("PTR", "25.2.0.192.in-addr.arpa"), ("TXT", "big.example.test"),
    ]

    func testAnswersEqualDigRecordForRecord() throws {
        let nsd = try server()
        let client = DNSClient()
        for (type, name) in Self.questions {
            let dig = try runTool("/usr/bin/dig", ["+norec", "+noall", "+answer", "@127.0.0.1", "-p", String(nsd.port), type, name])
            let digLines = dig.split(separator: "\n").map(String.init)
            XCTAssertFalse(digLines.isEmpty, "dig gave no answer for \(type) \(name)")
            let r = try client.query(try DNSName(name), DNSType(type)!, server: nsd.server, options: options())
            let ours = r.message.answers
            // Same text as dig prints, line for line…
            XCTAssertEqual(ours.map(\.description).sorted(), digLines.sorted(), "\(type) \(name)")
            // …and dig's text parses back into the same records.
            XCTAssertEqual(Set(try digLines.map { try DNSRecord($0) }), Set(ours), "\(type) \(name)")
        }
    }

    func testAXFRMatchesDig() throws {
        let nsd = try server()
        let records = try DNSClient().axfr(try DNSName("example.test"), server: nsd.server)
        XCTAssertEqual(records.count, 38 + 40 + 10_000 + 1)
        XCTAssertEqual(records.first?.type, .SOA)
        XCTAssertEqual(records.last?.type, .SOA)
        let dig = try runTool("/usr/bin/dig", ["+noall", "+answer", "axfr", "example.test", "@127.0.0.1", "-p", String(nsd.port)])
        XCTAssertEqual(records.map(\.description), dig.split(separator: "\n").map(String.init))
    }

    func testNXDOMAINAndNODATA() throws {
        let nsd = try server()
        let client = DNSClient()
        let nx = try client.query(try DNSName("nope.example.test"), .A, server: nsd.server, options: options())
        XCTAssertEqual(nx.message.rcode, 3)
        XCTAssertEqual(nx.message.authority.first?.type, .SOA)
        let e = DNSClient.rcodeError(nx.message, nx.question, nx.server)
        XCTAssertEqual(e?.kind, .nxdomain)
        XCTAssertTrue(e!.message.contains("nope.example.test.") && e!.message.contains(nsd.server.description), e!.message)
        let nodata = try client.query(try DNSName("mail.example.test"), .MX, server: nsd.server, options: options())
        XCTAssertEqual(nodata.message.rcode, 0)
        XCTAssertTrue(nodata.message.answers.isEmpty)
        XCTAssertNil(DNSClient.rcodeError(nodata.message, nodata.question, nodata.server))
        // Names compare case-insensitively: the server may echo any case.
        let mixed = try client.query(try DNSName("ExAmPlE.TeSt"), .MX, server: nsd.server, options: options())
        XCTAssertEqual(mixed.message.answers.count, 1)
        // Not authoritative for this zone: REFUSED.
        let refused = try client.query(try DNSName("example.org"), .A, server: nsd.server, options: options())
        XCTAssertEqual(DNSClient.rcodeError(refused.message, refused.question, refused.server)?.kind, .refused)
    }

    /// `query` gives each response as it came; `resolve` raises the rcode's error, as
    /// dnspython's resolver does, and keeps NODATA a response.
    func testResolveRaisesRcodeErrorsInNetKit() throws {
        let nsd = try server()
        let client = DNSClient()
        XCTAssertThrowsError(try client.resolve("nope.example.test", .A, server: nsd.server, options: options())) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .nxdomain)
        }
        XCTAssertEqual(try client.resolve("mail.example.test", .MX, server: nsd.server, options: options()).message.answers.count, 0)
        let names = [try DNSName("h1.hosts.example.test"), try DNSName("nope.example.test"), try DNSName("example.org")]
        let results = try client.resolveMany(names, .A, server: nsd.server, options: options())
        XCTAssertEqual(try results[0].get().message.answers.first?.dataText, "10.0.0.1")
        XCTAssertThrowsError(try results[1].get()) { XCTAssertEqual(($0 as? DNSError)?.kind, .nxdomain) }
        XCTAssertThrowsError(try results[2].get()) { XCTAssertEqual(($0 as? DNSError)?.kind, .refused) }
    }

    func testResolvConfSearchAndFailover() throws {
        let nsd = try server()
        // A first nameserver that never answers, then NSD; relative names use the search list.
        let silent = try FakeUDPServer { _ in [] }
        defer { silent.stop() }
        let conf = ResolvConf(text: "nameserver \(silent.server)\nnameserver \(nsd.server)\nsearch nowhere.test example.test\n")
        var o = options(timeout: 0.3)
        o.retries = 0
        let r = try DNSClient().query("mail", .A, options: o, resolvConf: conf)
        XCTAssertEqual(r.question.name, try DNSName("mail.example.test"))
        XCTAssertEqual(r.server, nsd.server)
        XCTAssertEqual(r.message.answers.first?.dataText, "192.0.2.25")
        // A server given by name is looked up the same way.
        let byName = try DNSServer.resolving("mail:5300", client: DNSClient(), options: o, resolvConf: conf)
        XCTAssertEqual(byName.description, "192.0.2.25:5300")
        XCTAssertEqual(try DNSServer.resolving("[::1]:53", client: DNSClient(), resolvConf: conf).description, "[::1]:53")
        XCTAssertThrowsError(try DNSServer.resolving("nope.example.test", client: DNSClient(), options: o, resolvConf: conf))
        // An absolute name is asked as is.
        let nx = try DNSClient().query("mail.", .A, options: o, resolvConf: conf)
        XCTAssertEqual(nx.message.rcode, 5)
    }

    func testTCPAndTruncationFallback() throws {
        let nsd = try server()
        let client = DNSClient()
        let tcp = try client.query(try DNSName("example.test"), .MX, server: nsd.server, options: options(tcp: true))
        XCTAssertTrue(tcp.overTCP)
        XCTAssertEqual(tcp.message.answers.first?.dataText, "10 mail.example.test.")
        let big = try client.query(try DNSName("big.example.test"), .TXT, server: nsd.server, options: options())
        XCTAssertTrue(big.overTCP, "a truncated UDP answer is asked again over TCP")
        XCTAssertEqual(big.message.answers.count, 40)
        XCTAssertFalse(big.message.flags.tc)
    }

    func testIPv6LoopbackAndTranscript() throws {
        let nsd = try server()
        let t = Transcript()
        let client = DNSClient(transcript: t)
        let r = try client.query(try DNSName("example.test"), .MX, server: DNSServer(address: try IPAddress("::1"), port: nsd.port), options: options())
        XCTAssertEqual(r.message.answers.count, 1)
        let steps = t.steps
        XCTAssertEqual(steps.first?.direction, .client)
        XCTAssertTrue(steps.first!.text.contains(";; QUESTION SECTION:\n;example.test.\t\t\tIN\tMX"), steps.first!.text)
        XCTAssertTrue(steps.last!.text.contains(";; ANSWER SECTION:\nexample.test.\t\t3600\tIN\tMX\t10 mail.example.test."), steps.last!.text)
    }

    func testManyNamesConcurrently() throws {
        let nsd = try server()
        var names = try (0..<2000).map { try DNSName("h\($0).hosts.example.test") }
        names.append(try DNSName("nope.example.test"))
        names.append(try DNSName("big.example.test"))
        let results = try DNSClient().queryMany(names, .A, server: nsd.server, options: options(), concurrency: 50)
        XCTAssertEqual(results.count, names.count)
        for i in [0, 1, 255, 256, 1999] {
            let r = try results[i].get()
            XCTAssertEqual(r.question.name, names[i])
            XCTAssertEqual(r.message.answers.first?.dataText, "10.0.\(i / 256).\(i % 256)")
        }
        XCTAssertEqual(try results[2000].get().message.rcode, 3)
        XCTAssertEqual(try results[2001].get().message.answers.count, 0, "big.example.test has TXT, not A: NODATA")
        let txt = try DNSClient().queryMany([try DNSName("big.example.test")], .TXT, server: nsd.server, options: options())
        XCTAssertTrue(try txt[0].get().overTCP)
    }

    func testManyNamesAgainstAFakeServerThatLiesAndDrops() throws {
        // Answers every other query only, first with a wrong id each time.
        let fake = try FakeUDPServer(maxQueries: 200) { q in
            let id = UInt16(q[0]) << 8 | UInt16(q[1])
            guard let m = try? DNSMessage(decoding: q), m.questions.first?.name.labels.first?.first.map({ $0 % 2 == 0 }) ?? false else { return [] }
            return [Self.reply(to: q, id: id &+ 7), Self.reply(to: q)]
        }
        defer { fake.stop() }
        let names = try (0..<20).map { try DNSName("\(Character(UnicodeScalar(UInt8(97 + $0)))).test") }
        var o = options(timeout: 0.3)
        o.retries = 1
        let start = Date()
        let results = try DNSClient().queryMany(names, .A, server: fake.server, options: o, concurrency: 8)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2.5)
        for (i, r) in results.enumerated() {
            if (97 + i) % 2 == 0 {
                XCTAssertEqual(try r.get().message.answers.first?.name, names[i])
            } else {
                XCTAssertThrowsError(try r.get()) { XCTAssertEqual(($0 as? DNSError)?.kind, .timeout) }
            }
        }
    }

    // MARK: fake servers

    /// Builds the answer a fake server sends for a query, with optional changes.
    static func reply(to query: [UInt8], id: UInt16? = nil, name: String? = nil) -> [UInt8] {
        guard var m = try? DNSMessage(decoding: query) else { return [] }
        m.flags.qr = true
        if let id { m.id = id }
        if let name { m.questions[0].name = try! DNSName(name) }
        m.answers = [DNSRecord(name: m.questions[0].name, type: .A, ttl: 60, data: .fields([.address(try! IPAddress("192.0.2.7"))]))]
        return (try? m.encode()) ?? []
    }

    func testWrongIDAndWrongQuestionAreDroppedWhileWaiting() throws {
        let fake = try FakeUDPServer { q in
            let id = UInt16(q[0]) << 8 | UInt16(q[1])
            return [Self.reply(to: q, id: id &+ 1), Self.reply(to: q, name: "other.test"), Self.reply(to: q)]
        }
        defer { fake.stop() }
        let t = Transcript()
        let r = try DNSClient(transcript: t).query(try DNSName("x.test"), .A, server: fake.server, options: options(timeout: 2))
        XCTAssertEqual(r.message.answers.first?.dataText, "192.0.2.7")
        XCTAssertEqual(t.steps.filter { $0.text.contains("dropped") }.count, 2)
    }

    func testSilentServerTimesOutWithinTheBound() throws {
        let fake = try FakeUDPServer { _ in [] }
        defer { fake.stop() }
        var o = options(timeout: 0.3)
        o.retries = 2
        let start = Date()
        XCTAssertThrowsError(try DNSClient().query(try DNSName("x.test"), .A, server: fake.server, options: o)) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .timeout)
            XCTAssertTrue("\(e)".contains("x.test.") && "\(e)".contains("3 tries"), "\(e)")
        }
        let took = Date().timeIntervalSince(start)
        XCTAssertGreaterThan(took, 0.85)
        XCTAssertLessThan(took, 2.0)
        XCTAssertEqual(fake.queriesSeen, 3)
    }

    func testCompressionLoopIsMalformedWithinTheTimeout() throws {
        let fake = try FakeUDPServer { q in
            // Header echoing the id, one question whose name is a pointer to itself.
            [[q[0], q[1], 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]]
        }
        defer { fake.stop() }
        let start = Date()
        XCTAssertThrowsError(try DNSClient().query(try DNSName("x.test"), .A, server: fake.server, options: options(timeout: 0.5))) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .malformed, "\(e)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.5)
    }

    /// Length-prefixed for TCP.
    static func framed(_ m: [UInt8]) -> [UInt8] { [UInt8(m.count >> 8), UInt8(m.count & 0xFF)] + m }

    func testNeverEndingTCPStreamsEndAtTheTimeout() throws {
        // Answers with a wrong id, forever.
        let fake = try FakeTCPServer { q in
            let id = UInt16(q[0]) << 8 | UInt16(q[1])
            return Self.framed(Self.reply(to: q, id: id &+ 1))
        }
        defer { fake.stop() }
        var start = Date()
        XCTAssertThrowsError(try DNSClient().query(try DNSName("x.test"), .A, server: fake.server, options: options(tcp: true, timeout: 0.5))) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .timeout, "\(e)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.2)

        // A transfer that starts with a SOA and never closes it.
        final class Count: @unchecked Sendable { var n = 0 }
        let sent = Count()
        let endless = try FakeTCPServer { q in
            guard var m = try? DNSMessage(decoding: q) else { return [] }
            m.flags.qr = true
            m.answers = (sent.n == 0 ? [try! DNSRecord("x.test. 60 IN SOA ns.x.test. h.x.test. 1 2 3 4 5")] : []) +
                (0..<50).map { _ in try! DNSRecord("a.x.test. 60 IN A 192.0.2.1") }
            sent.n += 1
            return Self.framed((try? m.encode()) ?? [])
        }
        defer { endless.stop() }
        start = Date()
        XCTAssertThrowsError(try DNSClient().axfr(try DNSName("x.test"), server: endless.server, timeout: 0.5, totalTimeout: 1)) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .timeout, "\(e)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)

        // A length prefix, then a trickle that never completes the message.
        let trickle = try FakeTCPServer { _ in [0xFF] }
        defer { trickle.stop() }
        start = Date()
        XCTAssertThrowsError(try DNSClient().query(try DNSName("x.test"), .A, server: trickle.server, options: options(tcp: true, timeout: 0.5))) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .timeout, "\(e)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.2)
    }

    func testCancelStopsAWaitPromptly() throws {
        let fake = try FakeUDPServer { _ in [] }
        defer { fake.stop() }
        let start = Date()
        let client = DNSClient(shouldCancel: { Date().timeIntervalSince(start) > 0.2 })
        XCTAssertThrowsError(try client.query(try DNSName("x.test"), .A, server: fake.server, options: options(timeout: 10))) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .interrupted)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.6)
    }
}
