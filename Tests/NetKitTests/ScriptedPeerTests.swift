import XCTest
@testable import NetKit

// Protocol state machines over an in-memory peer (ScriptedStream): each step of SMTP, FTP
// and DNS over TCP checked without a socket, beside the real-server tests (SMTPTests,
// FTPPeerTests, DNSPeerTests) that run the same clients against Postfix, vsftpd and NSD.

final class ScriptedStreamTests: XCTestCase {
    func testLinesRepliesAndEnd() throws {
        let s = ScriptedStream([.reply("hello\r\n"), .expect("ping"), .reply("pong\n"), .close], name: "peer:1")
        let c = StreamConnection(over: s)
        XCTAssertEqual(c.peerText, "peer:1")
        XCTAssertEqual(try c.recvUntil([0x0A]), Array("hello\r\n".utf8))
        try c.send(Array("ping\r\n".utf8))
        XCTAssertEqual(try c.recvUntil([0x0A]), Array("pong\n".utf8))
        XCTAssertNil(try c.recv(max: 10))
        XCTAssertTrue(c.atEOF)
        try s.checkFinished()
        XCTAssertEqual(s.clientLines, ["ping"])
    }

    func testAMismatchNamesTheStepAndBothLines() throws {
        let s = ScriptedStream([.expect("EHLO a.test"), .reply("250 ok\r\n")])
        let c = StreamConnection(over: s)
        XCTAssertThrowsError(try c.send(Array("EHLO b.test\r\n".utf8))) { e in
            XCTAssertEqual((e as? SocketError)?.kind, .io)
            XCTAssertEqual("\(e)", "scripted-peer: step 1: expected the client to send \"EHLO a.test\", got \"EHLO b.test\"")
        }
        XCTAssertNotNil(s.failure)
        XCTAssertThrowsError(try s.checkFinished())
    }

    func testReadingWhileThePeerWaitsFailsAtOnce() throws {
        let s = ScriptedStream([.expect("QUIT")])
        let c = StreamConnection(over: s)
        let t0 = Date()
        XCTAssertThrowsError(try c.recv(max: 10, timeout: 5)) { e in
            XCTAssertTrue("\(e)".contains("the client waits for the peer, but the script is expecting the client to send \"QUIT\""), "\(e)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1, "a script mismatch must not wait for the timeout")
    }

    func testSendingAfterThePeerClosedIsABrokenPipe() throws {
        let s = ScriptedStream([.reply("bye\n"), .close])
        let c = StreamConnection(over: s)
        _ = try c.recvUntil([0x0A])
        XCTAssertThrowsError(try c.send([0x41])) { XCTAssertEqual(($0 as? SocketError)?.kind, .reset) }
        XCTAssertTrue(c.peerGone)
    }
}

final class SMTPScriptedTests: XCTestCase {
    static let greeting = ScriptedStream.Step.reply("220 mx.example.test ESMTP scripted\r\n")

    func client(_ s: ScriptedStream) throws -> SMTPClient {
        try SMTPClient(over: s, address: "mx.example.test:25", timeout: 5, localName: "client.test")
    }

    func testSTARTTLSIsNotTriedWhenEHLODoesNotOfferIt() throws {
        let s = ScriptedStream([Self.greeting, .expect("EHLO client.test"), .reply("250-mx.example.test\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n")])
        let c = try client(s)
        XCTAssertEqual(c.greeting.code, 220)
        XCTAssertThrowsError(try c.startTLS(TLSOptions())) { e in
            XCTAssertEqual((e as? SMTPError)?.kind, .notSupported)
            XCTAssertTrue("\(e)".contains("does not offer STARTTLS (EHLO lists: PIPELINING SIZE)"), "\(e)")
        }
        try s.checkFinished()   // and nothing was sent after EHLO
        XCTAssertEqual(c.feature("size"), "10240000")
    }

    func testSTARTTLSWhenOfferedAsksThenUpgrades() throws {
        let s = ScriptedStream([Self.greeting, .expect("EHLO client.test"), .reply("250-mx.example.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n"),
                                .expect("STARTTLS"), .reply("220 2.0.0 Ready to start TLS\r\n")])
        let c = try client(s)
        // The 220 came, so the client upgrades the stream: an in-memory stream cannot carry
        // TLS, and says so (the real upgrade is tested against Postfix in SMTPTests).
        XCTAssertThrowsError(try c.startTLS(TLSOptions())) { e in
            XCTAssertEqual((e as? SocketError)?.kind, .tls)
            XCTAssertTrue("\(e)".contains("only a plain TCP client connection can be upgraded"), "\(e)")
        }
        try s.checkFinished()
        XCTAssertFalse(c.isTLS)
    }

    func testSTARTTLSRefusedIsAResponseError() throws {
        let s = ScriptedStream([Self.greeting, .expect("EHLO client.test"), .reply("250-mx.example.test\r\n250 STARTTLS\r\n"),
                                .expect("STARTTLS"), .reply("454 4.7.0 TLS not available due to local problem\r\n")])
        let c = try client(s)
        XCTAssertThrowsError(try c.startTLS(TLSOptions())) { e in
            XCTAssertEqual((e as? SMTPError)?.kind, .response)
            XCTAssertEqual((e as? SMTPError)?.code, 454)
        }
        try s.checkFinished()
    }

    func testAuthPlainIsChosenAndThePasswordStaysOutOfErrors() throws {
        let ok = ScriptedStream([Self.greeting, .expect("EHLO client.test"), .reply("250-mx.example.test\r\n250 AUTH LOGIN PLAIN\r\n"),
                                 .expect("AUTH PLAIN AHVzZXIAc2VjcmV0"), .reply("235 2.7.0 Authentication successful\r\n")])
        let c = try client(ok)
        try c.login(user: "user", password: "secret")
        XCTAssertTrue(c.authenticated)
        try ok.checkFinished()

        let bad = ScriptedStream([Self.greeting, .expect("EHLO client.test"), .reply("250-mx.example.test\r\n250 AUTH LOGIN\r\n"),
                                  .expect("AUTH LOGIN"), .reply("334 VXNlcm5hbWU6\r\n"), .expect("dXNlcg=="),
                                  .reply("334 UGFzc3dvcmQ6\r\n"), .expect("c2VjcmV0"), .reply("535 5.7.8 Error: authentication failed\r\n")])
        let d = try client(bad)
        XCTAssertThrowsError(try d.login(user: "user", password: "secret")) { e in
            XCTAssertEqual((e as? SMTPError)?.kind, .auth)
            XCTAssertTrue("\(e)".contains("535"), "\(e)")
            XCTAssertFalse("\(e)".contains("secret") || "\(e)".contains("c2VjcmV0"), "\(e)")
        }
        try bad.checkFinished()
    }

    func testPipelinedEnvelopeWithARefusedRecipient() throws {
        let s = ScriptedStream([
            Self.greeting, .expect("EHLO client.test"), .reply("250-mx.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"),
            // RFC 2920: MAIL, every RCPT and DATA go in one write; the replies come in order.
            .expect("MAIL FROM:<a@example.test>"), .expect("RCPT TO:<b@example.test>"), .expect("RCPT TO:<c@example.test>"), .expect("DATA"),
            .reply("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <c@example.test>: Recipient address rejected\r\n354 End data with <CR><LF>.<CR><LF>\r\n"),
            .expect("Subject: hi"), .expect(""), .expect("hello"), .expect("..a dot-stuffed line"), .expect("."),
            .reply("250 2.0.0 Ok: queued as 1234\r\n"),
        ])
        let c = try client(s)
        let refused = try c.sendmail(from: "a@example.test", to: ["b@example.test", "c@example.test"],
                                     message: Array("Subject: hi\n\nhello\n.a dot-stuffed line\n".utf8))
        XCTAssertEqual(refused.map { $0.0 }, ["c@example.test"])
        XCTAssertEqual(refused.first?.1.code, 550)
        try s.checkFinished()
    }

    func testEveryRecipientRefusedEndsThePipelinedDATA() throws {
        let s = ScriptedStream([
            Self.greeting, .expect("EHLO client.test"), .reply("250-mx.example.test\r\n250 PIPELINING\r\n"),
            .expect("MAIL FROM:<a@example.test>"), .expect("RCPT TO:<b@example.test>"), .expect("DATA"),
            .reply("250 Ok\r\n550 no such user\r\n354 go ahead anyway\r\n"),
            // A DATA answered 354 although no recipient was taken: an empty message ends it, then RSET.
            .expect("."), .reply("554 no valid recipients\r\n"), .expect("RSET"), .reply("250 Ok\r\n"),
        ])
        let c = try client(s)
        XCTAssertThrowsError(try c.sendmail(from: "a@example.test", to: ["b@example.test"], message: Array("x\n".utf8))) { e in
            XCTAssertEqual((e as? SMTPError)?.kind, .recipientsRefused)
        }
        try s.checkFinished()
    }

    func test421MidSessionThenTheConnectionIsGone() throws {
        let s = ScriptedStream([Self.greeting, .expect("EHLO client.test"), .reply("250 mx.example.test\r\n"),
                                .expect("MAIL FROM:<a@example.test>"), .reply("421 4.3.2 Service shutting down, closing channel\r\n"), .close])
        let c = try client(s)
        XCTAssertThrowsError(try c.sendmail(from: "a@example.test", to: ["b@example.test"], message: Array("x\n".utf8))) { e in
            XCTAssertEqual((e as? SMTPError)?.code, 421)
            XCTAssertTrue("\(e)".contains("421 4.3.2 Service shutting down"), "\(e)")
        }
        XCTAssertThrowsError(try c.noop()) { e in XCTAssertEqual((e as? SMTPError)?.kind, .disconnected) }
        try s.checkFinished()
    }

    func testAGreetingOtherThan220RefusesTheSession() throws {
        let s = ScriptedStream([.reply("554 5.3.2 no service for you\r\n")])
        XCTAssertThrowsError(try client(s)) { e in
            XCTAssertEqual((e as? SMTPError)?.kind, .response)
            XCTAssertTrue("\(e)".contains("refused the session: 554"), "\(e)")
        }
    }
}

final class FTPScriptedTests: XCTestCase {
    func client(_ s: ScriptedStream) throws -> FTPClient {
        var o = FTPOptions()
        o.timeout = 5
        return try FTPClient(over: s, host: "ftp.example.test", options: o)
    }

    func testMultiLineGreetingLoginAndFeatures() throws {
        let s = ScriptedStream([
            .reply("220-Welcome to the scripted server\r\n220-It keeps to RFC 959\r\n220 Ready\r\n"),
            .expect("USER alice"), .reply("331 Please specify the password.\r\n"),
            .expect("PASS s3cret"), .reply("230 Login successful.\r\n"),
            // A multi-line reply whose middle lines do not start with the code.
            .expect("FEAT"), .reply("211-Features:\r\n EPSV\r\n MDTM\r\n 211 looks like an end but is not\r\n SIZE\r\n211 End\r\n"),
            .expect("PWD"), .reply("257 \"/home/alice\" is the current directory\r\n"),
        ])
        let c = try client(s)
        XCTAssertEqual(c.welcome.code, 220)
        XCTAssertEqual(c.welcome.lines.count, 3)
        try c.login(user: "alice", password: "s3cret")
        XCTAssertEqual(c.user, "alice")
        XCTAssertEqual(c.features, ["EPSV", "MDTM", "211 looks like an end but is not", "SIZE"])
        XCTAssertEqual(try c.pwd(), "/home/alice")
        try s.checkFinished()
    }

    func testA5xxReplyIsPermanentWithTheReply() throws {
        let s = ScriptedStream([.reply("220 ready\r\n"), .expect("USER bob"), .reply("331 ok\r\n"),
                                .expect("PASS wrong"), .reply("530 Login incorrect.\r\n")])
        let c = try client(s)
        XCTAssertThrowsError(try c.login(user: "bob", password: "wrong")) { e in
            XCTAssertEqual((e as? FTPError)?.kind, .perm)
            XCTAssertEqual((e as? FTPError)?.reply?.code, 530)
            XCTAssertTrue("\(e)".contains("login refused: 530 Login incorrect."), "\(e)")
        }
        try s.checkFinished()
    }

    func testA4xxGreetingIsTemporary() throws {
        let s = ScriptedStream([.reply("120 wait a moment\r\n"), .reply("421 Too many users, try later\r\n"), .close])
        XCTAssertThrowsError(try client(s)) { e in
            XCTAssertEqual((e as? FTPError)?.kind, .temp)
            XCTAssertEqual((e as? FTPError)?.reply?.code, 421)
        }
    }

    func testAReplyThatIsNotFTPIsAProtocolError() throws {
        let s = ScriptedStream([.reply("220 ready\r\n"), .expect("CWD /x"), .reply("hello there\r\n")])
        let c = try client(s)
        XCTAssertThrowsError(try c.cwd("/x")) { e in XCTAssertEqual((e as? FTPError)?.kind, .proto, "\(e)") }
    }
}

final class DNSScriptedTests: XCTestCase {
    let server = DNSServer(address: try! IPAddress("127.0.0.1"), port: 53)

    /// A step that reads one length-prefixed query and answers it with `answer(query)`.
    static func answering(_ answer: @escaping (DNSMessage) throws -> [[UInt8]]) -> ScriptedStream.Step {
        .custom("a length-prefixed DNS query", take: { bytes in
            guard bytes.count >= 2 else { return nil }
            let n = Int(bytes[0]) << 8 | Int(bytes[1])
            guard bytes.count >= 2 + n else { return nil }
            let q = try DNSMessage(decoding: Array(bytes[2..<(2 + n)]))
            return (2 + n, try answer(q).flatMap { [UInt8($0.count >> 8), UInt8($0.count & 0xFF)] + $0 })
        })
    }

    static func reply(to q: DNSMessage, id: UInt16? = nil, _ records: [String]) throws -> [UInt8] {
        var r = DNSMessage()
        r.id = id ?? q.id
        r.flags.qr = true
        r.flags.rd = q.flags.rd
        r.questions = q.questions
        r.answers = try records.map { try DNSRecord($0) }
        return try r.encode()
    }

    func testAQueryOverTCPAndItsAnswer() throws {
        var asked: DNSQuestion? = nil
        let s = ScriptedStream([Self.answering { q in
            asked = q.questions.first
            // A message with another id first: dropped, the client keeps reading.
            return [try Self.reply(to: q, id: q.id &+ 1, ["www.example.test. 60 IN A 192.0.2.99"]),
                    try Self.reply(to: q, ["www.example.test. 300 IN A 192.0.2.1"])]
        }])
        var o = DNSQueryOptions()
        o.timeout = 5
        let r = try DNSClient().query(try DNSName("www.example.test"), .A, over: DNSSocket(stream: s, server: server), options: o)
        XCTAssertEqual(asked?.name.description, "www.example.test.")
        XCTAssertEqual(asked?.type, .A)
        XCTAssertTrue(r.overTCP)
        XCTAssertEqual(r.message.answers.count, 1)
        if case .address(let a)? = r.message.answers.first?.field("address") { XCTAssertEqual(a.description, "192.0.2.1") }
        else { XCTFail("no address in \(r.message.answers)") }
        try s.checkFinished()
    }

    func testAMessageCutShortIsMalformed() throws {
        let s = ScriptedStream([
            .custom("a query", take: { b in b.count >= 2 && b.count >= 2 + (Int(b[0]) << 8 | Int(b[1])) ? (b.count, []) : nil }),
            .replyBytes([0x00, 0x40] + [UInt8](repeating: 0, count: 10)), .close,
        ])
        XCTAssertThrowsError(try DNSClient().query(try DNSName("example.test"), .SOA, over: DNSSocket(stream: s, server: server))) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .malformed, "\(e)")
            XCTAssertTrue("\(e)".contains("closed in the middle of a message"), "\(e)")
        }
    }

    func testTheServerClosingWithoutAnAnswerIsNamed() throws {
        let s = ScriptedStream([
            .custom("a query", take: { b in b.count >= 2 && b.count >= 2 + (Int(b[0]) << 8 | Int(b[1])) ? (b.count, []) : nil }), .close,
        ])
        XCTAssertThrowsError(try DNSClient().query(try DNSName("example.test"), .MX, over: DNSSocket(stream: s, server: server))) { e in
            XCTAssertTrue("\(e)".contains("closed the TCP connection without answering example.test. MX"), "\(e)")
        }
    }
}
