import Foundation
import XCTest
@testable import NetKit

/// The SMTP client's codecs (reply lines, DATA framing, MIME encodings, addresses) and the
/// client itself against a real aiosmtpd on loopback (Tests/peers/smtp_peer.py).
final class SMTPTests: XCTestCase {
    var peer: Process?
    override func tearDown() { Peers.stop(peer); peer = nil }

    func testReplyLines() {
        XCTAssertEqual(SMTPReply.parseLine("250-PIPELINING")?.more, true)
        XCTAssertEqual(SMTPReply.parseLine("250 OK")?.text, "OK")
        XCTAssertEqual(SMTPReply.parseLine("354")?.code, 354)
        XCTAssertNil(SMTPReply.parseLine("hello"))
        XCTAssertNil(SMTPReply.parseLine("25"))
        XCTAssertNil(SMTPReply.parseLine("250xOK"))
        XCTAssertNil(SMTPReply.parseLine("650 no such class"))
    }

    func testDataFramingStuffsDotsAndNormalisesLineEnds() throws {
        let out = try SMTPClient.dataBytes(Array("a\n.b\r..c\r\nd".utf8))
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "a\r\n..b\r\n...c\r\nd\r\n")
        XCTAssertEqual(String(decoding: try SMTPClient.dataBytes(Array(".".utf8)), as: UTF8.self), "..\r\n")
        XCTAssertNoThrow(try SMTPClient.dataBytes([UInt8](repeating: 0x41, count: 998)))
        XCTAssertThrowsError(try SMTPClient.dataBytes([UInt8](repeating: 0x41, count: 999))) { e in
            XCTAssertEqual((e as? SMTPError)?.kind, .value)
        }
    }

    func testBodyEncodingsKeepLinesShort() {
        XCTAssertEqual(MailMessage.encodeBody("plain\ntext").cte, "7bit")
        let mostlyASCII = MailMessage.encodeBody("Grüße, " + String(repeating: "long words here ", count: 40))
        XCTAssertEqual(mostlyASCII.cte, "quoted-printable")
        let lines = String(decoding: mostlyASCII.body, as: UTF8.self).components(separatedBy: "\r\n")
        XCTAssertTrue(lines.allSatisfy { $0.utf8.count <= 76 }, "\(lines.map(\.count))")
        XCTAssertEqual(MailMessage.encodeBody("Ωμέγα ελληνικά κείμενα").cte, "base64")
        XCTAssertEqual(MailMessage.encodeBody(String(repeating: "x", count: 1200)).cte, "quoted-printable")
        // Trailing spaces are encoded so no transport can strip them.
        XCTAssertEqual(String(decoding: MailMessage.quotedPrintable(Array("a \r\n".utf8)), as: UTF8.self), "a=20\r\n")
    }

    func testEncodedWordsAreShortAndWhole() {
        let w = MailMessage.encodeWords(String(repeating: "ünïcödé ", count: 20))
        for word in w.split(separator: " ") {
            XCTAssertLessThanOrEqual(word.count, 75)
            XCTAssertTrue(word.hasPrefix("=?utf-8?b?") && word.hasSuffix("?="))
            let b64 = word.dropFirst(10).dropLast(2)
            XCTAssertNotNil(String(data: Data(base64Encoded: String(b64))!, encoding: .utf8), "each word is whole UTF-8")
        }
        XCTAssertEqual(MailMessage.encodeWords("plain"), "plain")
    }

    func testAddressesAndInjection() throws {
        let a = try MailAddress(parsing: "\"Doe, Jane\" <jane@example.test>", field: "to")
        XCTAssertEqual(a.address, "jane@example.test")
        XCTAssertEqual(a.headerText, "\"Doe, Jane\" <jane@example.test>")
        XCTAssertThrowsError(try MailAddress(parsing: "not an address", field: "to"))
        XCTAssertThrowsError(try MailAddress(parsing: "a@b.test\r\nBcc: x@y.test", field: "to"))
        var m = MailMessage(from: "a@example.test", to: ["b@example.test"], subject: "x\nBcc: v@example.test", body: "y")
        XCTAssertThrowsError(try m.render()) { XCTAssertEqual(($0 as? SMTPError)?.kind, .value) }
        m.subject = "ok"
        m.headers = [("Bcc", "v@example.test")]
        XCTAssertThrowsError(try m.render(), "Bcc goes through bcc:, never headers:")
        m.headers = [("X-Ok", "1")]
        m.bcc = ["hidden@example.test"]
        let text = String(decoding: try m.render(), as: UTF8.self)
        XCTAssertFalse(text.contains("hidden@"))
        XCTAssertEqual(try m.envelopeRecipients(), ["b@example.test", "hidden@example.test"])
    }

    func testClientAgainstAiosmtpdWithoutPipelining() throws {
        guard let py = Peers.python else { throw XCTSkip("python3 is not installed") }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: py)
        check.arguments = ["-c", "import aiosmtpd"]
        try check.run(); check.waitUntilExit()
        guard check.terminationStatus == 0 else { throw XCTSkip("aiosmtpd is not installed") }
        let dir = try Peers.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try Peers.freePort()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/smtp_peer.py").path
        peer = try Peers.start(py, [script, "--port", "\(port)", "--dir", dir.path, "--no-pipelining"])
        try Peers.waitForPort("127.0.0.1:\(port)")
        let t = Transcript()
        let c = try SMTPClient.connect("127.0.0.1:\(port)", timeout: 10, localName: "client.test", transcript: t)
        try c.ehlo()
        XCTAssertNil(c.feature("pipelining"))
        XCTAssertEqual(c.feature("size"), "33554432")
        let refused = try c.sendmail(from: "a@example.test", to: ["b@example.test", "bad@example.test"], message: Array("Subject: t\n\n.x\n".utf8))
        XCTAssertEqual(refused.map(\.0), ["bad@example.test"])
        XCTAssertEqual(refused.first?.1.code, 550)
        XCTAssertThrowsError(try c.sendmail(from: "a@example.test", to: ["bad@example.test"], message: Array("x".utf8))) { e in
            XCTAssertEqual((e as? SMTPError)?.kind, .recipientsRefused)
            XCTAssertEqual((e as? SMTPError)?.recipients.first?.0, "bad@example.test")
        }
        XCTAssertEqual(try c.noop().code, 250)
        XCTAssertEqual(c.quit()?.code, 221)
        let raw = try String(contentsOf: dir.appendingPathComponent("0001.eml"), encoding: .utf8)
        XCTAssertEqual(raw.replacingOccurrences(of: "\r\n", with: "\n"), "Subject: t\n\n.x\n")
        let lines = t.steps.map(Transcript.render)
        XCTAssertTrue(lines.contains("C: EHLO client.test"), "\(lines)")
        XCTAssertTrue(lines.contains("C: RSET"), "a refused transaction is reset: \(lines)")
    }

    /// The mail policy lives in NetKit: `SMTPClient.send` refuses to send a password in the clear
    /// unless told, ends a failed session with QUIT while the server can answer, and returns the
    /// refused recipients.
    func testSendOwnsTheSessionPolicy() throws {
        guard let py = Peers.python else { throw XCTSkip("python3 is not installed") }
        let dir = try Peers.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try Peers.freePort()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/smtp_peer.py").path
        peer = try Peers.start(py, [script, "--port", "\(port)", "--dir", dir.path, "--user", "u", "--password", "p", "--auth-plaintext"])
        try Peers.waitForPort("127.0.0.1:\(port)")
        let message = MailMessage(from: "a@example.test", to: ["b@example.test", "bad@example.test"], cc: [], bcc: [],
                                  subject: "policy", body: "hello", html: nil, attachments: [], headers: [])

        let t = Transcript()
        XCTAssertThrowsError(try SMTPClient.send(message, server: "127.0.0.1:\(port)", credentials: ("u", "p"), timeout: 10, transcript: t)) { e in
            XCTAssertEqual((e as? SMTPError)?.kind, .notSupported, "\(e)")
        }
        let lines = t.steps.map(Transcript.render)
        XCTAssertFalse(lines.contains { $0.hasPrefix("C: AUTH") }, "no password in the clear: \(lines)")
        XCTAssertTrue(lines.contains("C: QUIT"), "the server could still answer, so it got QUIT: \(lines)")

        let refused = try SMTPClient.send(message, server: "127.0.0.1:\(port)", security: .none, credentials: ("u", "p"), timeout: 10)
        XCTAssertEqual(refused.map(\.0), ["bad@example.test"])
        let raw = try String(contentsOf: dir.appendingPathComponent("0001.eml"), encoding: .utf8)
        XCTAssertTrue(raw.contains("Subject: policy"), raw)

        XCTAssertTrue(SMTPClient.sessionIsUnusable(after: SocketError(.timeout, "t", address: "x")))
        XCTAssertTrue(SMTPClient.sessionIsUnusable(after: SMTPError(.disconnected, "gone")))
        XCTAssertFalse(SMTPClient.sessionIsUnusable(after: SMTPError(.recipientsRefused, "no")))
    }
}
