import XCTest
@testable import NetKit

/// The DNS codec: names, compression, every record type through wire and presentation text.
final class DNSCodecTests: XCTestCase {
    /// One zone-file line per type the codec knows, as dig prints it.
    static let presentationSamples: [String] = [
        "example.test.\t\t3600\tIN\tA\t192.0.2.1",
        "example.test.\t\t3600\tIN\tAAAA\t2001:db8::1",
        "example.test.\t\t3600\tIN\tNS\tns1.example.test.",
        "www.example.test.\t3600\tIN\tCNAME\tweb.example.test.",
        "example.test.\t\t300\tIN\tSOA\tns1.example.test. hostmaster.example.test. 2026112501 7200 900 1209600 300",
        "example.test.\t\t3600\tIN\tMX\t10 mail.example.test.",
        "txt.example.test.\t3600\tIN\tTXT\t\"hello world\" \"second \\\"quoted\\\" string\" \"semi;colon\" \"tab\\009byte\\255\"",
        "txt.example.test.\t3600\tIN\tTXT\t\"\"",
        "ptr.example.test.\t3600\tIN\tPTR\twww.example.test.",
        "_sip._tcp.example.test.\t3600\tIN\tSRV\t10 60 5060 sip.example.test.",
        "example.test.\t\t3600\tIN\tCAA\t0 issue \"letsencrypt.org\"",
        "naptr.example.test.\t3600\tIN\tNAPTR\t102 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.test!\" .",
        "ds.example.test.\t3600\tIN\tDS\t60485 8 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4 469DA50A",
        "dnskey.example.test.\t3600\tIN\tDNSKEY\t257 3 8 AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjF FVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoX bfDaUeVPQuYEhg37NZWAJQ9VnMVDxP/VHL496M/QZxkjf5/Efucp2gaD X6RS6CXpoY68LsvPVjR0ZSwzz1apAzvN9dlzEheX7ICJBBtuA6G3LQpz W5hOA2hzCTMjJPJ8LbqF6dsV6DoBQzgul0sGIcGOYl7OyQdXfZ57relS Qageu+ipAdTTJ25AsRTAoub8ONGcLmqrAmRLKBP1dfwhYB4N7knNnulq QxA+Uk1ihz0=",
        "rrsig.example.test.\t3600\tIN\tRRSIG\tA 8 3 3600 20261231000000 20261101000000 60485 example.test. kBy3ZxTr/pczYfmq4kkgSu/KVXj9tU0MfNS9D7Gh3+K7RrhTaIfKYP8h RSAoY3Wr/fW2H9V0jQe8L1NIzTvxHg==",
        "nsec.example.test.\t3600\tIN\tNSEC\tns1.example.test. A MX RRSIG NSEC TYPE1234",
        "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.test.\t3600 IN NSEC3 1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG",
        "example.test.\t\t0\tIN\tNSEC3PARAM 1 0 0 -",
        "tlsa.example.test.\t3600\tIN\tTLSA\t3 1 1 0B9FA5A59EED715C26C1020C711B4F6EC42D58B0015E14337A39DAD3 01C5AFC3",
        "svcb.example.test.\t3600\tIN\tSVCB\t1 svc.example.test. alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.5,192.0.2.6",
        "alias.example.test.\t3600\tIN\tSVCB\t0 target.example.test.",
        "https.example.test.\t3600\tIN\tHTTPS\t1 . alpn=\"h2\" ipv6hint=2001:db8::443",
        "sshfp.example.test.\t3600\tIN\tSSHFP\t1 1 DC4EAD4EB3F5FF9CE35BB6D5D1BB7C5F1EF3C3E4",
        "generic.example.test.\t3600\tIN\tTYPE65280 \\# 4 0A000001",
        "escaped\\.dot.example.test. 3600\tIN\tTXT\t\"a label with a dot\"",
        "chaos.\t\t\t0\tCH\tTXT\t\"x\"",
    ]

    func testEveryTypeRoundTripsThroughTextAndWire() throws {
        for line in Self.presentationSamples {
            let rec = try DNSRecord(line)
            // text → record → text is exact (dig's layout, canonical spacing)
            let canonical = try DNSRecord(rec.description)
            XCTAssertEqual(canonical, rec, line)
            if line.contains("\t") && !line.contains("NSEC3") {
                XCTAssertEqual(rec.description, line)
            }
            // record → wire → record
            var m = DNSMessage()
            m.flags.qr = true
            m.answers = [rec, rec]
            let decoded = try DNSMessage(decoding: m.encode())
            XCTAssertEqual(decoded.answers, [rec, rec], line)
        }
    }

    func testTypedFields() throws {
        let mx = try DNSRecord("example.test. 300 IN MX 10 mail.example.test.")
        XCTAssertEqual(mx.field("preference"), .int(10))
        XCTAssertEqual(mx.field("exchange"), .name(try DNSName("mail.example.test.")))
        let soa = try DNSRecord("@ SOA ns1 hostmaster 1 2 3 4 5", origin: try DNSName("example.test"))
        XCTAssertEqual(soa.name, try DNSName("example.test."))
        XCTAssertEqual(soa.field("rname"), .name(try DNSName("hostmaster.example.test.")))
        XCTAssertEqual(soa.field("minimum"), .int(5))
        let srv = try DNSRecord("_x._tcp.example.test. SRV 1 2 3 t.example.test.")
        XCTAssertEqual(srv.fieldNames, ["priority", "weight", "port", "target"])
    }

    func testGenericFormForKnownAndUnknownTypes() throws {
        let a = try DNSRecord("x. 1 IN A \\# 4 C0000201")
        XCTAssertEqual(a.dataText, "192.0.2.1")
        let unk = try DNSRecord("x. 1 IN TYPE999 \\# 3 ABCDEF")
        XCTAssertEqual(unk.dataText, "\\# 3 ABCDEF")
        XCTAssertEqual(unk.type.description, "TYPE999")
        XCTAssertThrowsError(try DNSRecord("x. 1 IN TYPE999 \\# 4 ABCDEF"))
        XCTAssertThrowsError(try DNSRecord("x. 1 IN TYPE999 abc"))
    }

    func testBadPresentationIsRejected() {
        for bad in ["x. A 300.1.1.1", "x. AAAA 192.0.2.1", "x. MX mail.", "x. MX 70000 mail.", "x. TXT", "x. DS 1 2 3 XYZ",
                    "x. CAA 0", "x. A 1.2.3.4 extra", "x. NSEC3 1 0 1 zz 0 A", "x. SVCB 1 . bogus=1",
                    String(repeating: "a", count: 64) + ". A 1.2.3.4"] {
            XCTAssertThrowsError(try DNSRecord(bad), bad)
        }
    }

    func testNamesEscapeCompareAndLimit() throws {
        let n = try DNSName("Escaped\\.Dot.Example.TEST")
        XCTAssertEqual(n.labels.count, 3)
        XCTAssertEqual(n.description, "Escaped\\.Dot.Example.TEST.")
        XCTAssertEqual(n, try DNSName("escaped\\.dot.example.test."))
        XCTAssertEqual(try DNSName("a\\032b.").description, "a\\032b.")
        XCTAssertEqual(try DNSName("\\065.").labels, [[65]])
        XCTAssertEqual(DNSName.root.description, ".")
        XCTAssertThrowsError(try DNSName("a..b"))
        XCTAssertThrowsError(try DNSName(String(repeating: "a", count: 64)))
        let long = Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")
        XCTAssertThrowsError(try DNSName(long))  // 4 × 64 + 1 = 257 bytes
        XCTAssertTrue(try DNSName("a.b.example.test").isSubdomain(of: try DNSName("EXAMPLE.test")))
    }

    func testCompressionOnWriteAndSafeDecompression() throws {
        var m = DNSMessage.query(DNSQuestion(try DNSName("example.test"), .MX), id: 7)
        m.flags.qr = true
        m.answers = [try DNSRecord("example.test. 60 IN MX 10 mail.example.test."),
                     try DNSRecord("example.test. 60 IN MX 20 mail2.example.test.")]
        let wire = try m.encode()
        // 12 header + 18 question + two compressed answers; uncompressed would be far longer.
        XCTAssertLessThan(wire.count, 12 + 18 + 2 * 30 + 11)
        XCTAssertEqual(try DNSMessage(decoding: wire), m)

        func header(qd: UInt16) -> [UInt8] { [0, 1, 0x81, 0x80, 0, UInt8(qd), 0, 0, 0, 0, 0, 0] }
        // A pointer to itself: a loop.
        XCTAssertThrowsError(try DNSMessage(decoding: header(qd: 1) + [0xC0, 12, 0, 1, 0, 1])) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .malformed)
        }
        // Two names pointing at each other.
        XCTAssertThrowsError(try DNSMessage(decoding: header(qd: 1) + [1, 97, 0xC0, 17, 0, 1, 0, 1, 1, 98, 0xC0, 12]))
        // A forward pointer and an out-of-range one.
        XCTAssertThrowsError(try DNSMessage(decoding: header(qd: 1) + [0xC0, 20, 0, 1, 0, 1, 0, 0, 0, 0]))
        XCTAssertThrowsError(try DNSMessage(decoding: header(qd: 1) + [0xFF, 0xFF, 0, 1, 0, 1]))
        // Labels of reserved types (0x40, 0x80).
        XCTAssertThrowsError(try DNSMessage(decoding: header(qd: 1) + [0x41, 0, 0, 1, 0, 1]))
        // A name over 255 bytes built from legal backward pointers: five questions, each a
        // 63-byte label followed by a pointer to the previous question's name.
        var body: [UInt8] = []
        var prev: Int? = nil
        for _ in 0..<5 {
            let at = 12 + body.count
            body += [63] + Array(repeating: 97, count: 63)
            if let p = prev { body += [0xC0 | UInt8(p >> 8), UInt8(p & 0xFF)] } else { body += [0] }
            body += [0, 1, 0, 1]
            prev = at
        }
        XCTAssertThrowsError(try DNSMessage(decoding: header(qd: 5) + body)) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .malformed)
            XCTAssertTrue("\(e)".contains("255"), "\(e)")
        }
        XCTAssertEqual(try DNSMessage(decoding: header(qd: 3) + body).questions.count, 3)
        // Truncated and impossible counts.
        XCTAssertThrowsError(try DNSMessage(decoding: [0, 1, 2]))
        XCTAssertThrowsError(try DNSMessage(decoding: [0, 1, 0x81, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]))
    }

    func testEDNS() throws {
        var m = DNSMessage.query(DNSQuestion(try DNSName("x.test"), .A), id: 1,
                                 edns: DNSEDNS(udpSize: 4096, dnssecOK: true, options: [DNSEDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])]))
        m.rcode = 16  // BADVERS needs the extended rcode bits
        let d = try DNSMessage(decoding: m.encode())
        XCTAssertEqual(d.edns?.udpSize, 4096)
        XCTAssertEqual(d.edns?.dnssecOK, true)
        XCTAssertEqual(d.edns?.options.first?.data.count, 8)
        XCTAssertEqual(d.rcode, 16)
        XCTAssertEqual(d.rcodeName, "BADVERS")
        XCTAssertTrue(d.additional.isEmpty)
    }

    func testEncodingsAndTimes() throws {
        for n in 0..<20 {
            let d = (0..<n).map { UInt8(($0 * 37 + 11) & 0xFF) }
            XCTAssertEqual(try DNSText.fromBase64(DNSText.base64(d)), d)
            XCTAssertEqual(try DNSText.fromHex(DNSText.hex(d)), d)
            XCTAssertEqual(try DNSText.fromBase32hex(DNSText.base32hex(d)), d)
        }
        XCTAssertEqual(DNSText.timestamp(0), "19700101000000")
        XCTAssertEqual(try DNSText.parseTimestamp("20261231000000"), 1_798_675_200)
        XCTAssertEqual(DNSText.timestamp(1_798_675_200), "20261231000000")
        XCTAssertEqual(DNSText.base32hex([0x00, 0x01]), "000G")
    }

    func testMessageText() throws {
        var m = DNSMessage.query(DNSQuestion(try DNSName("example.test"), .MX), id: 4242)
        m.flags.qr = true; m.flags.aa = true
        m.answers = [try DNSRecord("example.test. 3600 IN MX 10 mail.example.test.")]
        let t = m.text()
        XCTAssertTrue(t.contains(";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4242"), t)
        XCTAssertTrue(t.contains(";; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1"), t)
        XCTAssertTrue(t.contains(";example.test.\t\t\tIN\tMX\n"), t)
        XCTAssertTrue(t.contains("example.test.\t\t3600\tIN\tMX\t10 mail.example.test."), t)
    }

    func testResolvConf() throws {
        let c = ResolvConf(text: "# comment\nnameserver 192.0.2.53\nnameserver ::1\nsearch corp.test example.test\noptions ndots:2 edns0\n")
        XCTAssertEqual(c.nameservers.map(\.description), ["192.0.2.53:53", "[::1]:53"])
        XCTAssertEqual(c.ndots, 2)
        XCTAssertEqual(try c.candidates("www").map(\.description), ["www.corp.test.", "www.example.test.", "www."])
        XCTAssertEqual(try c.candidates("a.b.c").map(\.description).first, "a.b.c.")
        XCTAssertEqual(try c.candidates("www.").map(\.description), ["www."])
        XCTAssertEqual(try DNSServer("[::1]:5300").port, 5300)
        XCTAssertEqual(try DNSServer("127.0.0.1:5300").description, "127.0.0.1:5300")
        XCTAssertThrowsError(try DNSServer("dns.example:53"))
    }
}
