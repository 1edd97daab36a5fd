import XCTest
@testable import NetKit

final class TranscriptTests: XCTestCase {
    func testEscapeAndElide() {
        XCTAssertEqual(Transcript.escape(Array("GET / HTTP/1.0\r\n\r\n".utf8)), "GET / HTTP/1.0\\r\\n\\r\\n")
        XCTAssertEqual(Transcript.escape([0, 255, 0x41]), "\\x00\\xffA")
        let long = Transcript.escape(Array(repeating: UInt8(ascii: "a"), count: 1000), limit: 50)
        XCTAssertTrue(long.contains(" … "))
        XCTAssertLessThanOrEqual(long.count, 50)
    }

    func testLiveSinkAndCapacity() {
        var seen: [String] = []
        let t = Transcript(capacity: 3) { seen.append(Transcript.render($0)) }
        t.record("smtp", .client, "EHLO a")   // not live: kept, not shown
        t.isLive = true
        t.record("smtp", .server, "250-a\n250 SIZE 10")
        t.record("smtp", .client, "AUTH PLAIN \(Transcript.mask("secret"))")
        t.record("smtp", .client, "QUIT")
        XCTAssertEqual(seen, ["S: 250-a\nS: 250 SIZE 10", "C: AUTH PLAIN ********", "C: QUIT"])
        XCTAssertEqual(t.steps.count, 3)
        XCTAssertFalse(t.steps.contains { $0.text.contains("secret") })
    }

    // MARK: explain and diagram

    func ev(_ proto: String, _ d: TranscriptDirection, _ text: String) -> TranscriptEvent {
        TranscriptEvent(proto: proto, direction: d, text: text)
    }

    func testGlossesFromTheRFCs() {
        XCTAssertEqual(ProtocolGlossary.explain(ev("smtp", .server, "250-mail.example.test")), "250: requested action okay, completed (RFC 5321)")
        XCTAssertEqual(ProtocolGlossary.explain(ev("smtp", .server, "354 go ahead")), "354: start mail input; end it with a line holding only \".\" (RFC 5321)")
        XCTAssertEqual(ProtocolGlossary.explain(ev("smtp", .client, "ehlo me")), "EHLO: identifies the client and asks for the server's extensions (ESMTP)")
        XCTAssertEqual(ProtocolGlossary.explain(ev("ftp", .server, "229 Entering Extended Passive Mode (|||40001|)")),
                       "229: entering extended passive mode: connect to the same host on port |||N| (RFC 2428) (RFC 959)")
        XCTAssertEqual(ProtocolGlossary.explain(ev("ftp", .client, "PASS ********")), "PASS: sends the password")
        // An unlisted code is explained by its class; a line that is not a reply, not at all.
        XCTAssertEqual(ProtocolGlossary.explain(ev("ftp", .server, "299 odd")), "299: positive completion (RFC 959)")
        XCTAssertNil(ProtocolGlossary.explain(ev("smtp", .server, "25x nonsense")))
        XCTAssertNil(ProtocolGlossary.explain(ev("smtp", .server, "2500 too long")))
        XCTAssertEqual(ProtocolGlossary.explain(ev("http", .server, "HTTP/1.1 304 Not Modified\nDate: x")), "304: not modified: your cached copy is current (RFC 9110)")
        XCTAssertEqual(ProtocolGlossary.explain(ev("http", .client, "GET /index.html HTTP/1.1\nHost: a")), "GET: asks for a resource")
        XCTAssertEqual(ProtocolGlossary.explain(ev("dns", .server, ";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 1")), "NXDOMAIN: the name does not exist — no records of any type")
        XCTAssertNil(ProtocolGlossary.explain(ev("tcp", .server, "← 5 bytes \"250 x\"")))
        // EHLO's extension lines and FTP's FEAT lines say what the extension is.
        XCTAssertEqual(ProtocolGlossary.explain(ev("smtp", .server, "250-PIPELINING")), "PIPELINING: commands may be sent in batches without waiting for each reply (RFC 2920)")
        XCTAssertEqual(ProtocolGlossary.explain(ev("smtp", .server, "250 SIZE 1000")), "SIZE: the largest message the server accepts, in bytes (RFC 1870)")
        XCTAssertEqual(ProtocolGlossary.explain(ev("ftp", .server, " MLST type*;size*;")), "MLST: machine-readable listings and the facts given (RFC 3659)")
    }

    func testDiagramDrawsOneArrowPerStepWithinTheWidth() {
        let steps = [ev("smtp", .note, "connected 127.0.0.1:5000 → 127.0.0.1:25"), ev("smtp", .server, "220 mx ESMTP"),
                     ev("smtp", .client, "EHLO me"), ev("smtp", .server, "250-mx\n250 SIZE 1000"),
                     ev("smtp", .client, String(repeating: "x", count: 300))]
        let lines = TranscriptDiagram.render(steps, width: 60).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 6)
        XCTAssertTrue(lines[0].hasPrefix("      client") && lines[0].hasSuffix("server"))
        XCTAssertTrue(lines[2].hasPrefix("smtp  |<- 220 mx ESMTP -") && lines[2].hasSuffix("--|"), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("smtp  |--- EHLO me -") && lines[3].hasSuffix("->|"), lines[3])
        XCTAssertTrue(lines[4].contains("250-mx (+1 lines)"), lines[4])
        XCTAssertTrue(lines[5].contains("…"), "long text is clipped: \(lines[5])")
        for l in lines.dropFirst() { XCTAssertEqual(l.count, 58, l) }
    }

    /// DNS messages as the trace shows them (taken from a real exchange with the lab's root
    /// server), so the glosses are checked where NSD is not installed too.
    func testDNSGlossesTellAQueryAndAReferralApart() {
        let query = """
        ; query to 127.0.0.1:5302 (UDP)
        ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 20019
        ;; flags: ; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1

        ;; OPT PSEUDOSECTION:
        ; EDNS: version: 0, flags: do; udp: 1232

        ;; QUESTION SECTION:
        ;www.example.test.\t\tIN\tA
        """
        let referral = """
        ; answer from 127.0.0.1:5302 (UDP) in 0 ms, 82 bytes
        ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 20019
        ;; flags: qr; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 2

        ;; QUESTION SECTION:
        ;www.example.test.\t\tIN\tA

        ;; AUTHORITY SECTION:
        test.\t\t\t3600\tIN\tNS\tns.nic.test.

        ;; ADDITIONAL SECTION:
        ns.nic.test.\t\t3600\tIN\tA\t127.0.0.2
        """
        let q = ProtocolGlossary.glosses(ev("dns", .client, query))
        XCTAssertEqual(q.first, "query: asks for the A records of www.example.test.")
        XCTAssertTrue(q.contains { $0.hasPrefix("rd off: ") }, "\(q)")
        XCTAssertTrue(q.contains { $0.contains("DO bit set: DNSSEC records (RRSIG, NSEC) wanted") }, "\(q)")
        XCTAssertFalse(q.contains { $0.contains("NODATA") || $0.contains("NOERROR") }, "\(q)")
        let r = ProtocolGlossary.glosses(ev("dns", .server, referral))
        XCTAssertEqual(r.first, "referral: the server does not know; it points to the servers of test. (the NS records in AUTHORITY: ns.nic.test.) — ask one of them next")
        XCTAssertTrue(r.contains { $0.hasPrefix("glue: ns.nic.test. A 127.0.0.2") }, "\(r)")
        XCTAssertFalse(r.contains { $0.contains("NODATA") }, "\(r)")
        // Notes and retries say nothing.
        XCTAssertEqual(ProtocolGlossary.glosses(ev("dns", .note, "; no answer from 127.0.0.1:53")), [])
    }

    func testDiagramPutsSocketArrowsInWords() {
        let steps = [ev("tcp", .client, "← 6 bytes \"HELLO\\n\""), ev("tcp", .server, "→ 6 bytes \"WORLD\\n\""),
                     ev("udp", .client, "← 127.0.0.1:5000 4 bytes \"ping\"")]
        let lines = TranscriptDiagram.render(steps, width: 72).split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[1].hasPrefix("tcp   |--- received 6 bytes") && lines[1].hasSuffix("->|"), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("tcp   |<- sent 6 bytes") && lines[2].hasSuffix("--|"), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("udp   |--- received from 127.0.0.1:5000 4 bytes"), lines[3])
    }

    /// Long data is shown by its two ends, the same text `escape` gives for the whole, though
    /// the step keeps only those ends.
    func testRecordBytesShowsLongDataByItsEnds() {
        let t = Transcript()
        let big = [UInt8](repeating: 0x41, count: 1_000_000) + Array("\r\nend".utf8)
        t.recordBytes("tcp", .client, "→ ", big)
        t.recordBytes("tcp", .server, "← ", Array("hi\n".utf8))
        XCTAssertEqual(t.steps[0].text, "→ 1000005 bytes \"\(Transcript.escape(big))\"")
        XCTAssertTrue(t.steps[0].text.hasSuffix("AAA\\r\\nend\""), t.steps[0].text)
        XCTAssertLessThan(t.steps[0].text.count, 250)
        XCTAssertEqual(t.steps[1].text, "← 3 bytes \"hi\\n\"")
    }
}
