import Foundation
import XCTest
import NetKit

/// `mail` and the `smtp.*` session commands through the built `netscript`, against real SMTP
/// servers on loopback: aiosmtpd (Tests/peers/smtp_peer.py: STARTTLS or implicit TLS with a
/// certificate made here, AUTH for one user, "bad@" refused, each message saved) and Postfix
/// from a private config dir delivering into a maildir. Every delivered message is parsed back
/// with Python's email package (Tests/peers/mail_check.py). Faults a real server will not
/// produce come from Tests/peers/smtp_faults.py.
final class MailScriptTests: XCTestCase {
    var exe = ""
    var peers: [Process] = []
    var dirs: [URL] = []
    var postfixConf: String? = nil
    static let peersDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("peers")

    override func setUpWithError() throws { exe = try NetScriptBinary.path() }
    override func tearDown() {
        if let conf = postfixConf { _ = try? runProcess("/usr/sbin/postfix", ["-c", conf, "stop"], timeout: 20) }
        stopProcesses(peers)
        peers = []
        for d in dirs { try? FileManager.default.removeItem(at: d) }
    }

    // MARK: helpers

    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("ns-mail-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        dirs.append(d)
        return d
    }

    lazy var python: String? = {
        guard let r = try? runProcess("/usr/bin/env", ["python3", "-c", "import sys, aiosmtpd; print(sys.executable)"]), r.status == 0 else { return nil }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    func requirePython() throws -> String {
        guard let p = python else { throw XCTSkip("python3 with aiosmtpd is not installed (pip install aiosmtpd)") }
        return p
    }

    /// Starts the aiosmtpd peer; returns its port and the directory it saves messages into.
    func startPeer(_ extra: [String] = [], host: String = "127.0.0.1") throws -> (port: Int, dir: URL) {
        let py = try requirePython()
        let port = try freePort(), dir = try tempDir()
        let p = try startQuiet(py, [Self.peersDir.appendingPathComponent("smtp_peer.py").path, "--port", "\(port)", "--host", host, "--dir", dir.path] + extra)
        peers.append(p)
        waitForPort(port, host: host)
        return (port, dir)
    }

    func startFault(_ mode: String) throws -> Int {
        let py = try requirePython()
        let port = try freePort()
        let p = try startQuiet(py, [Self.peersDir.appendingPathComponent("smtp_faults.py").path, mode, "\(port)"])
        peers.append(p)
        waitForPort(port)
        return port
    }

    /// A CA and a server certificate for localhost / 127.0.0.1, made with the openssl CLI.
    func makeCertificates() throws -> URL {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { throw XCTSkip("openssl is not installed") }
        let dir = try tempDir()
        let script = """
        set -e
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=NetScript Mail Test CA" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=localhost" 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf
        openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf 2>/dev/null
        """
        let r = try runProcess("/bin/sh", ["-c", script], cwd: dir)
        XCTAssertEqual(r.status, 0, "openssl failed: \(r.stderr)")
        return dir
    }

    func run(_ code: String, trace: Bool = false, cwd: URL? = nil, timeout: TimeInterval = 40) throws -> RunResult {
        try runProcess(exe, (trace ? ["--trace"] : []) + ["-e", code], cwd: cwd, timeout: timeout)
    }

    /// The messages a peer saved, in order: (raw bytes path, envelope JSON).
    func saved(_ dir: URL) throws -> [(eml: URL, envelope: [String: Any])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".eml") }.sorted()
        return try names.map { n in
            let eml = dir.appendingPathComponent(n)
            let json = try Data(contentsOf: dir.appendingPathComponent(n.replacingOccurrences(of: ".eml", with: ".json")))
            return (eml, try JSONSerialization.jsonObject(with: json) as! [String: Any])
        }
    }

    /// A delivered message as Python's email package reads it.
    func parsed(_ eml: URL) throws -> [String: Any] {
        let py = try requirePython()
        let r = try runProcess(py, [Self.peersDir.appendingPathComponent("mail_check.py").path, eml.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    }

    func header(_ p: [String: Any], _ name: String) -> [String] {
        (p["headers"] as! [[String]]).filter { $0[0].lowercased() == name.lowercased() }.map { $0[1] }
    }

    func sha256(_ data: [UInt8]) -> String { Digests.sha256(data).map { String(format: "%02x", $0) }.joined() }

    // MARK: the contract

    func testContractMailReturnsEmptyMapAndDelivers() throws {
        let (port, dir) = try startPeer()
        let r = try run("print (mail from: \"a@example.test\" to: [\"b@example.test\"] subject: \"hi\" body: \"hello\" server: \"127.0.0.1:\(port)\" tls: \"none\")")
        XCTAssertEqual(r.stdout, "{}\n", r.stderr)
        XCTAssertEqual(r.status, 0)
        let msgs = try saved(dir)
        XCTAssertEqual(msgs.count, 1)
        XCTAssertEqual(msgs[0].envelope["mail_from"] as? String, "a@example.test")
        XCTAssertEqual(msgs[0].envelope["rcpt_tos"] as? [String], ["b@example.test"])
        let p = try parsed(msgs[0].eml)
        XCTAssertEqual(header(p, "Subject"), ["hi"])
        XCTAssertEqual(header(p, "From"), ["a@example.test"])
        XCTAssertEqual(header(p, "To"), ["b@example.test"])
        XCTAssertEqual(header(p, "MIME-Version"), ["1.0"])
        XCTAssertEqual(header(p, "Date").count, 1)
        XCTAssertEqual(header(p, "Message-ID").count, 1)
        let parts = p["parts"] as! [[String: Any]]
        XCTAssertEqual(parts.count, 1)
        XCTAssertEqual(parts[0]["text"] as? String, "hello\n")
        XCTAssertEqual(p["defects"] as? [String], [])
    }

    func testContractTraceShowsTheDialogue() throws {
        let (port, _) = try startPeer()
        let r = try run("s = smtp.connect \"127.0.0.1:\(port)\"\nsmtp.ehlo s\nsmtp.quit s", trace: true)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("S: 220 ") }, r.stderr)
        XCTAssertTrue(lines.contains { $0.hasPrefix("C: EHLO ") }, r.stderr)
        XCTAssertTrue(lines.contains("S: 250-PIPELINING"), r.stderr)
        XCTAssertTrue(lines.contains("C: QUIT"), r.stderr)
        XCTAssertTrue(lines.contains { $0.hasPrefix("S: 221") }, r.stderr)
        // HELO for servers without ESMTP: no extensions, and mail still goes (one command at a time).
        let helo = try run("s = smtp.connect \"127.0.0.1:\(port)\" name: \"client.test\"\nprint (smtp.helo s).code s.does_esmtp s.esmtp_features\nprint (smtp.sendmail s \"a@example.test\" \"b@example.test\" \"Subject: h\\n\\nx\\n\")\nsmtp.quit s", trace: true)
        XCTAssertEqual(helo.stdout, "250 false {}\n{}\n", helo.stderr)
        XCTAssertTrue(helo.stderr.contains("C: HELO client.test"), helo.stderr)
    }

    func testContractRefusedRecipient() throws {
        let (port, dir) = try startPeer()
        let r = try run("try { mail from: \"a@example.test\" to: [\"bad@example.test\"] subject: \"x\" body: \"y\" server: \"127.0.0.1:\(port)\" tls: \"none\" } catch e { print e.kind; print e.code; print (keys e.recipients) }")
        XCTAssertEqual(r.stdout, "smtp.recipients_refused\n550\n[\"bad@example.test\"]\n", r.stderr)
        XCTAssertEqual(try saved(dir).count, 0)
        // Some refused, some accepted: the message goes, and the refused ones come back.
        let r2 = try run("x = mail from: \"a@example.test\" to: [\"ok@example.test\", \"bad@example.test\"] body: \"y\" server: \"127.0.0.1:\(port)\" tls: \"none\"\nprint (keys x) x[\"bad@example.test\"].code")
        XCTAssertEqual(r2.stdout, "[\"bad@example.test\"] 550\n", r2.stderr)
        XCTAssertEqual(try saved(dir).count, 1)
    }

    /// The same over IPv6 loopback: `mail` and a session to `[::1]:PORT`.
    func testOverIPv6Loopback() throws {
        let (port, dir) = try startPeer(host: "::1")
        let r = try run("""
            print (mail from: "a@example.test" to: ["b@example.test"] subject: "v6" body: "over ::1" server: "[::1]:\(port)" tls: "none")
            s = smtp.connect "[::1]:\(port)"
            smtp.ehlo s
            print s.does_esmtp
            smtp.quit s
            """)
        XCTAssertEqual(r.stdout, "{}\ntrue\n", r.stderr)
        let got = try saved(dir)
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got.first?.envelope["rcpt_tos"] as? [String], ["b@example.test"], "\(got.first?.envelope ?? [:])")
    }

    func testRefusedSenderAndRefusedMessage() throws {
        let (port, dir) = try startPeer()
        let sender = try run("try { mail from: \"bad@example.test\" to: \"b@example.test\" body: \"x\" server: \"127.0.0.1:\(port)\" tls: \"none\" } catch e { print e.kind e.code; print e.reply }")
        XCTAssertEqual(sender.stdout, "smtp.sender_refused 553\n5.7.1 <bad@example.test>: Sender address rejected: not allowed\n", sender.stderr)
        let content = try run("try { mail from: \"a@example.test\" to: \"b@example.test\" body: \"x\" headers: {\"X-Reject\": \"yes\"} server: \"127.0.0.1:\(port)\" tls: \"none\" } catch e { print e.kind e.code; print (\"not sent\" in e.message) }")
        XCTAssertEqual(content.stdout, "smtp.data 554\ntrue\n", content.stderr)
        // The session survives both: the next message goes.
        let after = try run("s = smtp.connect \"127.0.0.1:\(port)\"\ntry { smtp.sendmail s \"bad@example.test\" \"b@example.test\" \"x\" } catch e { print e.kind }\nprint (smtp.sendmail s \"a@example.test\" \"b@example.test\" \"Subject: ok\\n\\nx\\n\")\nsmtp.quit s")
        XCTAssertEqual(after.stdout, "smtp.sender_refused\n{}\n", after.stderr)
        XCTAssertEqual(try saved(dir).count, 1)
    }

    // MARK: a full message, parsed back

    func testFullMessageOverStartTLSWithAuthRoundTrips() throws {
        let certs = try makeCertificates()
        let (port, dir) = try startPeer(["--cert", certs.appendingPathComponent("srv.pem").path, "--key", certs.appendingPathComponent("srv.key").path,
                                         "--user", "ann", "--password", "s3cret-pw"])
        let work = try tempDir()
        var blob = [UInt8](repeating: 0, count: 70_000)
        var seed: UInt64 = 42
        for i in blob.indices { seed = seed &* 6364136223846793005 &+ 1442695040888963407; blob[i] = UInt8(truncatingIfNeeded: seed >> 33) }
        try Data(blob).write(to: work.appendingPathComponent("data.bin"))
        let notes = "first line\n.dot line\nlast line\n"
        try Data(notes.utf8).write(to: work.appendingPathComponent("notes.txt"))
        let long = String(repeating: "0123456789", count: 150)
        let code = """
        body = "Grüße aus NetScript — ça va?\\n.a line with a leading dot\\n\(long)\\nend\\n"
        r = mail from: "Zoë Example <zoe@example.test>" to: ["b@example.test", "Bee <bee@example.test>"] cc: "c@example.test" bcc: ["hidden@example.test"] subject: "Grüße — a subject long enough to need folding across more than one header line, ünïcödé" body: body html: "<p>Grüße <b>Welt</b></p>" attachments: ["data.bin", "notes.txt"] headers: {"X-NetScript-Test": "yes", "Reply-To": "replies@example.test"} server: "127.0.0.1:\(port)" ca: "\(certs.appendingPathComponent("ca.pem").path)" user: "ann" password: "s3cret-pw"
        print r
        """
        let r = try run(code, trace: true, cwd: work)
        XCTAssertEqual(r.stdout, "{}\n", r.stderr)
        // The password never shows; the AUTH exchange is masked; the body is summarised.
        XCTAssertFalse(r.stderr.contains("s3cret-pw"))
        XCTAssertFalse(r.stderr.contains(Data("ann s3cret-pw".utf8).base64EncodedString()))
        XCTAssertTrue(r.stderr.contains("C: AUTH CRAM-MD5"), r.stderr)
        XCTAssertTrue(r.stderr.contains("C: ********"), r.stderr)
        XCTAssertTrue(r.stderr.contains("C: STARTTLS"), r.stderr)
        XCTAssertTrue(r.stderr.contains("(message: "), r.stderr)
        XCTAssertFalse(r.stderr.contains("a line with a leading dot"), "the body is summarised, not traced in full")

        let msgs = try saved(dir)
        XCTAssertEqual(msgs.count, 1)
        let env = msgs[0].envelope
        XCTAssertEqual(env["tls"] as? Bool, true)
        XCTAssertEqual(env["auth"] as? String, "CRAM-MD5")
        XCTAssertEqual(env["mail_from"] as? String, "zoe@example.test")
        XCTAssertEqual(env["rcpt_tos"] as? [String], ["b@example.test", "bee@example.test", "c@example.test", "hidden@example.test"])
        let p = try parsed(msgs[0].eml)
        XCTAssertEqual(header(p, "From"), ["Zoë Example <zoe@example.test>"])
        XCTAssertEqual(header(p, "To"), ["b@example.test, Bee <bee@example.test>"])
        XCTAssertEqual(header(p, "Cc"), ["c@example.test"])
        XCTAssertEqual(header(p, "Bcc"), [])
        XCTAssertFalse(try String(contentsOf: msgs[0].eml, encoding: .utf8).contains("hidden@"))
        XCTAssertEqual(header(p, "Subject"), ["Grüße — a subject long enough to need folding across more than one header line, ünïcödé"])
        XCTAssertEqual(header(p, "X-NetScript-Test"), ["yes"])
        XCTAssertEqual(header(p, "Reply-To"), ["replies@example.test"])
        XCTAssertEqual(p["ascii"] as? Bool, true)
        XCTAssertLessThanOrEqual(p["max_line"] as! Int, 998)
        XCTAssertEqual(p["defects"] as? [String], [])
        let parts = p["parts"] as! [[String: Any]]
        XCTAssertEqual(parts.map { $0["type"] as! String }, ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/octet-stream", "text/plain"])
        XCTAssertEqual(parts[2]["text"] as? String, "Grüße aus NetScript — ça va?\n.a line with a leading dot\n\(long)\nend\n")
        XCTAssertEqual(parts[3]["text"] as? String, "<p>Grüße <b>Welt</b></p>\n")
        XCTAssertEqual(parts[4]["filename"] as? String, "data.bin")
        XCTAssertEqual(parts[4]["cte"] as? String, "base64")
        XCTAssertEqual(parts[4]["sha256"] as? String, sha256(blob))
        XCTAssertEqual(parts[5]["filename"] as? String, "notes.txt")
        XCTAssertEqual(parts[5]["sha256"] as? String, sha256(Array(notes.utf8)))
    }

    /// Encoded-word header lines stay within 76 characters (RFC 2047 §2), as Python folds them,
    /// and a display name that looks like an encoded-word is encoded, so readers show it as
    /// written; Python's email package reads every header back as it was given.
    func testEncodedWordsFoldTo76AndLookalikeNamesAreEncoded() throws {
        let work = try tempDir()
        let subject = "Grüße — ünïcödé everywhere in a subject long enough to take several encoded words"
        let r = try run("""
        m = mail.message from: "Zoë Ünïcödé-Example <zoe@example.test>" to: ["=?utf-8?q?x?= <e@example.test>", "Ännchen von Tharau mit einem langen Namen <ann@example.test>"] cc: "\\"=?iso-8859-1?q?y?=\\" <c@example.test>" subject: "\(subject)" headers: {"X-Note": "ça ne fait rien, c'est une note assez longue pour deux mots codés"} body: "hi"
        write "m.eml" m.text
        """, cwd: work)
        XCTAssertEqual(r.status, 0, r.stderr)
        let raw = try String(contentsOf: work.appendingPathComponent("m.eml"), encoding: .utf8)
        let head = raw.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        for line in head where line.contains("=?") {
            XCTAssertLessThanOrEqual(line.count, 76, "over 76 characters: \(line)")
        }
        XCTAssertFalse(head.contains { $0.contains("=?utf-8?q?x?=") }, "the look-alike name went out raw:\n\(head.joined(separator: "\n"))")
        let p = try parsed(work.appendingPathComponent("m.eml"))
        XCTAssertEqual(header(p, "Subject"), [subject])
        XCTAssertEqual(header(p, "From"), ["Zoë Ünïcödé-Example <zoe@example.test>"])
        XCTAssertEqual(header(p, "To"), ["=?utf-8?q?x?= <e@example.test>, Ännchen von Tharau mit einem langen Namen <ann@example.test>"])
        XCTAssertEqual(header(p, "Cc"), ["=?iso-8859-1?q?y?= <c@example.test>"])
        XCTAssertEqual(header(p, "X-Note"), ["ça ne fait rien, c'est une note assez longue pour deux mots codés"])
        XCTAssertEqual(p["defects"] as? [String], [])
    }

    // MARK: sessions

    func testSessionStepByStep() throws {
        let certs = try makeCertificates()
        let (port, dir) = try startPeer(["--cert", certs.appendingPathComponent("srv.pem").path, "--key", certs.appendingPathComponent("srv.key").path,
                                         "--user", "ann", "--password", "pw-1", "--exclude-auth", "CRAM-MD5"])
        let code = """
        s = smtp.connect "127.0.0.1:\(port)"
        r = smtp.ehlo s
        print r.code s.does_esmtp ("starttls" in s.esmtp_features) ("auth" in s.esmtp_features)
        smtp.starttls s ca: "\(certs.appendingPathComponent("ca.pem").path)"
        print s.tls ("starttls" in s.esmtp_features) s.esmtp_features["auth"] (s.certificate.days_left > 0)
        smtp.login s "ann" "pw-1"
        print s.authenticated
        m = mail.message from: "a@example.test" to: "b@example.test" bcc: "bad@example.test" subject: "via session" body: "one"
        print (smtp.send_message s m)
        print (smtp.sendmail s "a@example.test" ["b@example.test"] "Subject: raw\\n\\n..two dots\\n")
        print (smtp.noop s).code (smtp.rset s).code s.last_reply.code
        print (smtp.verify s "b@example.test").code
        print (smtp.quit s).code s.closed
        """
        let r = try run(code, trace: true)
        XCTAssertEqual(r.stdout, """
        250 true true false
        true false CRAM-MD5 LOGIN PLAIN true
        true
        {"bad@example.test": {code: 550, text: "5.1.1 <bad@example.test>: Recipient address rejected: no such user"}}
        {}
        250 250 250
        252
        221 true

        """.replacingOccurrences(of: "CRAM-MD5 LOGIN PLAIN", with: "LOGIN PLAIN"), r.stderr)
        XCTAssertTrue(r.stderr.contains("C: AUTH PLAIN ********"), r.stderr)
        XCTAssertFalse(r.stderr.contains("pw-1"))
        // Pipelining: the whole envelope and DATA go before the first reply is read.
        let trace = r.stderr.split(separator: "\n").map(String.init)
        if let mail = trace.firstIndex(where: { $0.hasPrefix("C: MAIL FROM:<a@example.test>") }) {
            XCTAssertTrue(trace[mail + 1].hasPrefix("C: RCPT TO:<b@example.test>"))
            XCTAssertTrue(trace[mail + 2].hasPrefix("C: RCPT TO:<bad@example.test>"))
            XCTAssertEqual(trace[mail + 3], "C: DATA")
        } else { XCTFail("no MAIL FROM in the trace") }
        let msgs = try saved(dir)
        XCTAssertEqual(msgs.count, 2)
        XCTAssertEqual(msgs[0].envelope["auth"] as? String, "PLAIN")
        XCTAssertEqual(msgs[0].envelope["tls"] as? Bool, true)
        let raw = try String(contentsOf: msgs[1].eml, encoding: .utf8)
        XCTAssertEqual(raw.replacingOccurrences(of: "\r\n", with: "\n"), "Subject: raw\n\n..two dots\n")
    }

    func testAuthMechanismsAndRefusals() throws {
        let (port, dir) = try startPeer(["--user", "ann", "--password", "pw", "--auth-plaintext", "--exclude-auth", "CRAM-MD5,PLAIN"])
        let r = try run("s = smtp.connect \"127.0.0.1:\(port)\"\nsmtp.login s \"ann\" \"pw\"\nprint (smtp.sendmail s \"a@example.test\" \"b@example.test\" \"Subject: x\\n\\ny\\n\")\nsmtp.quit s", trace: true)
        XCTAssertEqual(r.stdout, "{}\n", r.stderr)
        XCTAssertTrue(r.stderr.contains("C: AUTH LOGIN"), r.stderr)
        XCTAssertEqual(try saved(dir).first?.envelope["auth"] as? String, "LOGIN")
        // A wrong password: smtp.auth with the server's code, the password nowhere.
        let bad = try run("s = smtp.connect \"127.0.0.1:\(port)\"\ntry { smtp.login s \"ann\" \"wrong-pw\" } catch e { print e.kind e.code; print (\"wrong-pw\" in e.message) }")
        XCTAssertEqual(bad.stdout, "smtp.auth 535\nfalse\n", bad.stderr)
        // mail refuses to send a password over plain text unless tls: "none" says so.
        let clear = try run("try { mail from: \"a@example.test\" to: \"b@example.test\" body: \"x\" server: \"127.0.0.1:\(port)\" user: \"ann\" password: \"pw\" } catch e { print e.kind }")
        XCTAssertEqual(clear.stdout, "smtp.not_supported\n", clear.stderr)
        let allowed = try run("print (mail from: \"a@example.test\" to: \"b@example.test\" body: \"x\" server: \"127.0.0.1:\(port)\" user: \"ann\" password: \"pw\" tls: \"none\")")
        XCTAssertEqual(allowed.stdout, "{}\n", allowed.stderr)
        // tls: "starttls" on a server without it is an error, nothing sent.
        let must = try run("try { mail from: \"a@example.test\" to: \"b@example.test\" body: \"x\" server: \"127.0.0.1:\(port)\" tls: \"starttls\" } catch e { print e.kind }")
        XCTAssertEqual(must.stdout, "smtp.not_supported\n", must.stderr)
        XCTAssertEqual(try saved(dir).count, 2)
    }

    func testImplicitTLSAndVerification() throws {
        let certs = try makeCertificates()
        let (port, dir) = try startPeer(["--cert", certs.appendingPathComponent("srv.pem").path, "--key", certs.appendingPathComponent("srv.key").path, "--implicit"])
        let ok = try run("print (mail from: \"a@example.test\" to: \"b@example.test\" body: \"x\" server: \"127.0.0.1:\(port)\" tls: \"implicit\" ca: \"\(certs.appendingPathComponent("ca.pem").path)\")")
        XCTAssertEqual(ok.stdout, "{}\n", ok.stderr)
        XCTAssertEqual(try saved(dir).first?.envelope["tls"] as? Bool, true)
        // Verification is on by default: a private CA is not trusted without ca:.
        let untrusted = try run("try { smtp.connect \"127.0.0.1:\(port)\" tls: \"implicit\" } catch e { print e.kind }")
        XCTAssertEqual(untrusted.stdout, "tls\n", untrusted.stderr)
        let skip = try run("s = smtp.connect \"127.0.0.1:\(port)\" tls: \"implicit\" verify: false; print s.tls; smtp.quit s")
        XCTAssertEqual(skip.stdout, "true\n", skip.stderr)
    }

    // MARK: safety and extensions

    func testHeaderInjectionIsRefusedAndNothingSent() throws {
        let (port, dir) = try startPeer()
        for (opt, value) in [("subject", "hi\\r\\nBcc: victim@example.test"), ("to", "b@example.test\\nBcc: v@example.test"),
                             ("from", "a@example.test\\r"), ("headers", "{\"X-A\": \"1\\nX-B: 2\"}")] {
            let v = opt == "headers" ? value : "\"\(value)\""
            let base = ["from": "\"a@example.test\"", "to": "\"b@example.test\""]
            var args = base.filter { $0.key != opt }.map { "\($0.key): \($0.value)" }
            args.append("\(opt): \(v)")
            let r = try run("try { mail \(args.joined(separator: " ")) body: \"x\" server: \"127.0.0.1:\(port)\" tls: \"none\" } catch e { print e.kind }", trace: true)
            XCTAssertEqual(r.stdout, "value\n", "\(opt): \(r.stdout) \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("connected"), "\(opt): nothing may be sent")
        }
        XCTAssertEqual(try saved(dir).count, 0)
    }

    func testSizeEightBitAndSMTPUTF8() throws {
        let small = try startPeer(["--size", "2000", "--no-smtputf8"])
        let big = try run("try { mail from: \"a@example.test\" to: \"b@example.test\" body: (\"x\" * 5000) server: \"127.0.0.1:\(small.port)\" tls: \"none\" } catch e { print e.kind }", trace: true)
        XCTAssertEqual(big.stdout, "smtp.data\n", big.stderr)
        XCTAssertFalse(big.stderr.contains("C: MAIL FROM"), "over SIZE: nothing sent")
        let utf8 = try run("try { mail from: \"zoë@example.test\" to: \"b@example.test\" body: \"x\" server: \"127.0.0.1:\(small.port)\" tls: \"none\" } catch e { print e.kind }")
        XCTAssertEqual(utf8.stdout, "smtp.not_supported\n", utf8.stderr)
        let raw8 = try run("s = smtp.connect \"127.0.0.1:\(small.port)\"\nprint (smtp.sendmail s \"a@example.test\" \"b@example.test\" \"Subject: 8\\n\\nGrüße\\n\")")
        XCTAssertEqual(raw8.stdout, "{}\n", raw8.stderr)
        XCTAssertEqual(try saved(small.dir).first?.envelope["mail_options"] as? [String], ["SIZE=23", "BODY=8BITMIME"])
        let longLine = try run("s = smtp.connect \"127.0.0.1:\(small.port)\"\ntry { smtp.sendmail s \"a@example.test\" \"b@example.test\" (\"x\" * 1000) } catch e { print e.kind }")
        XCTAssertEqual(longLine.stdout, "value\n", longLine.stderr)

        let full = try startPeer()
        let ok = try run("print (mail from: \"Zoë <zoë@example.test>\" to: \"bjørn@example.test\" subject: \"ø\" body: \"ø\" server: \"127.0.0.1:\(full.port)\" tls: \"none\")")
        XCTAssertEqual(ok.stdout, "{}\n", ok.stderr)
        let msgs = try saved(full.dir)
        XCTAssertEqual(msgs.first?.envelope["rcpt_tos"] as? [String], ["bjørn@example.test"])
        XCTAssertTrue((msgs.first?.envelope["mail_options"] as? [String] ?? []).contains("SMTPUTF8"))
        let p = try parsed(msgs[0].eml)
        XCTAssertEqual(header(p, "To"), ["bjørn@example.test"])
        XCTAssertEqual(header(p, "From"), ["Zoë <zoë@example.test>"])
    }

    func testBatchSendsEachContentWithTheNextEnvelope() throws {
        for extra in [[], ["--no-pipelining"]] {
            let (port, dir) = try startPeer(extra)
            let code = """
            m = mail.message from: "a@example.test" to: "b@example.test" subject: "batch" body: "x"
            b = mail.message from: "a@example.test" to: "bad@example.test" subject: "refused" body: "x"
            s = smtp.connect "127.0.0.1:\(port)"
            for r in smtp.send_message s [m, b, m, b, b, m] {
                if type r == "error" { print "error" r.kind } else { print "map" (len r) }
            }
            smtp.quit s
            """
            let r = try run(code, trace: true)
            XCTAssertEqual(r.stdout, "map 0\nerror smtp.recipients_refused\nmap 0\nerror smtp.recipients_refused\nerror smtp.recipients_refused\nmap 0\n", "\(extra): \(r.stderr)")
            XCTAssertEqual(try saved(dir).count, 3)
            for msg in try saved(dir) { XCTAssertEqual(header(try parsed(msg.eml), "Subject"), ["batch"]) }
            if extra.isEmpty {
                // The first message's end and the second envelope leave in one write, before the reply to ".".
                let trace = r.stderr.split(separator: "\n").map(String.init)
                let dot = try XCTUnwrap(trace.firstIndex(of: "C: ."))
                XCTAssertTrue(trace[dot + 1].hasPrefix("C: MAIL FROM:<a@example.test>"), "\(trace[dot...].prefix(4))")
            }
        }
    }

    func testWithoutPipeliningOneCommandAtATime() throws {
        let (port, dir) = try startPeer(["--no-pipelining"])
        let r = try run("print (mail from: \"a@example.test\" to: [\"b@example.test\", \"bad@example.test\"] body: \"x\" server: \"127.0.0.1:\(port)\" tls: \"none\")", trace: true)
        XCTAssertTrue(r.stdout.hasPrefix("{\"bad@example.test\": "), r.stderr)
        let trace = r.stderr.split(separator: "\n").map(String.init)
        let mail = try XCTUnwrap(trace.firstIndex { $0.hasPrefix("C: MAIL FROM") })
        XCTAssertTrue(trace[mail + 1].hasPrefix("S: 250"), "without PIPELINING each command waits for its reply")
        XCTAssertEqual(try saved(dir).count, 1)
    }

    // MARK: one command at a time (smtplib's mail, rcpt, data, docmd)

    func testSingleStepsAsALearnerTypesThem() throws {
        let (port, dir) = try startPeer()
        let r = try run("""
        s = smtp.connect "127.0.0.1:\(port)"
        print (smtp.ehlo s).code
        r = smtp.mail s "ann@example.test"
        print "mail" r.code r.text
        r = smtp.rcpt s "bob@example.test"
        print "rcpt" r.code r.text
        r = smtp.rcpt s "bad@example.test"
        print "rcpt" r.code r.text
        r = smtp.data s "Subject: steps\\n\\n.a dot first\\nhello\\n"
        print "data" r.code r.text
        r = smtp.docmd s "NOOP"
        print "noop" r.code
        r = smtp.rset s
        print "rset" r.code
        r = smtp.mail s "bad@example.test"
        print "refused sender" r.code
        try { smtp.docmd s "NOOP\\r\\nQUIT" } catch e { print e.kind }
        try { smtp.mail s "a@example.test\\r\\nRSET" } catch e { print e.kind }
        print (smtp.quit s).code
        """, trace: true)
        XCTAssertEqual(r.stdout, """
        250
        mail 250 OK
        rcpt 250 OK
        rcpt 550 5.1.1 <bad@example.test>: Recipient address rejected: no such user
        data 250 OK queued as 1
        noop 250
        rset 250
        refused sender 553
        value
        value
        221

        """, r.stderr)
        let m = try saved(dir)
        XCTAssertEqual(m.count, 1)
        XCTAssertEqual(m[0].envelope["mail_from"] as? String, "ann@example.test")
        XCTAssertEqual(m[0].envelope["rcpt_tos"] as? [String], ["bob@example.test"])
        let body = String(decoding: try Data(contentsOf: m[0].eml), as: UTF8.self)
        XCTAssertTrue(body.contains("\r\n.a dot first\r\n"), "the dot was doubled on the wire and undone by the server: \(body)")
        // Each command is followed by its own reply in the trace.
        let trace = r.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("C: ") || $0.hasPrefix("S: ") }
        func replyAfter(_ command: String) -> String? {
            guard let i = trace.firstIndex(where: { $0.hasPrefix("C: " + command) }), i + 1 < trace.count else { return nil }
            return trace[i + 1]
        }
        XCTAssertEqual(replyAfter("MAIL FROM:<ann@example.test>"), "S: 250 OK", r.stderr)
        XCTAssertEqual(replyAfter("RCPT TO:<bob@example.test>"), "S: 250 OK", r.stderr)
        XCTAssertEqual(replyAfter("RCPT TO:<bad@example.test>")?.hasPrefix("S: 550"), true, r.stderr)
        XCTAssertEqual(replyAfter("DATA")?.hasPrefix("S: 354"), true, r.stderr)
        XCTAssertEqual(replyAfter("NOOP"), "S: 250 OK", r.stderr)
        XCTAssertEqual(replyAfter("MAIL FROM:<bad@example.test>")?.hasPrefix("S: 553"), true, r.stderr)
        XCTAssertEqual(trace.filter { $0.hasPrefix("C: NOOP") }.count, 1, "the NOOP with CR LF in it was not sent")
    }

    func testDataRefusedIsAnError() throws {
        let (port, _) = try startPeer()
        // DATA with no recipient: the server answers 503, which smtplib raises as SMTPDataError.
        let r = try run("""
        s = smtp.connect "127.0.0.1:\(port)"
        smtp.ehlo s
        smtp.mail s "ann@example.test"
        try { smtp.data s "Subject: x\\n\\nx\\n" } catch e { print e.kind e.code }
        smtp.quit s
        """)
        XCTAssertEqual(r.stdout, "smtp.data 503\n", r.stderr)
    }

    func testPipeliningFalseSendsOneCommandAtATime() throws {
        let (port, dir) = try startPeer()
        let code = { (pipelining: Bool) in """
            s = smtp.connect "127.0.0.1:\(port)"\(pipelining ? "" : " pipelining: false")
            smtp.ehlo s
            print (smtp.sendmail s "ann@example.test" ["bob@example.test", "bad@example.test"] "Subject: p\\n\\nx\\n")
            smtp.quit s
            """ }
        let off = try run(code(false), trace: true)
        XCTAssertTrue(off.stdout.hasPrefix("{\"bad@example.test\": "), off.stderr)
        XCTAssertTrue(off.stderr.contains("S: 250-PIPELINING"), "the server offers PIPELINING: \(off.stderr)")
        let lines = off.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("C: ") || $0.hasPrefix("S: ") }
        let mail = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("C: MAIL FROM") })
        XCTAssertEqual(Array(lines[mail...].prefix(8)).map { String($0.prefix(7)) },
                       ["C: MAIL", "S: 250 ", "C: RCPT", "S: 250 ", "C: RCPT", "S: 550 ", "C: DATA", "S: 354 "], off.stderr)
        // With the default, the server's PIPELINING is used: the three commands go before any reply.
        let on = try run(code(true), trace: true)
        let l2 = on.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("C: ") || $0.hasPrefix("S: ") }
        let m2 = try XCTUnwrap(l2.firstIndex { $0.hasPrefix("C: MAIL FROM") })
        XCTAssertEqual(Array(l2[m2...].prefix(5)).map { String($0.prefix(4)) }, ["C: M", "C: R", "C: R", "C: D", "S: 2"], on.stderr)
        XCTAssertEqual(try saved(dir).count, 2)
    }

    // MARK: faults

    func testFaultsAreNamedErrorsWithinTheTimeout() throws {
        let cases: [(String, String, String)] = [
            ("drop-mid-data", "mail from: \"a@example.test\" to: \"b@example.test\" body: (\"line\\n\" * 20000) server: \"127.0.0.1:PORT\" tls: \"none\" timeout: 5", "smtp.disconnected"),
            ("garbage", "mail from: \"a@example.test\" to: \"b@example.test\" body: \"x\" server: \"127.0.0.1:PORT\" tls: \"none\" timeout: 5", "smtp.response"),
            ("long-line", "mail from: \"a@example.test\" to: \"b@example.test\" body: \"x\" server: \"127.0.0.1:PORT\" tls: \"none\" timeout: 5", "smtp.response"),
            ("silent", "mail from: \"a@example.test\" to: \"b@example.test\" body: \"x\" server: \"127.0.0.1:PORT\" tls: \"none\" timeout: 1", "timeout"),
            ("silent-after-data", "mail from: \"a@example.test\" to: \"b@example.test\" body: \"x\" server: \"127.0.0.1:PORT\" tls: \"none\" timeout: 1", "timeout"),
            ("starttls-inject", "s = smtp.connect \"127.0.0.1:PORT\" timeout: 5; smtp.starttls s verify: false", "tls"),
            ("refuse-auth", "s = smtp.connect \"127.0.0.1:PORT\" timeout: 5; smtp.login s \"ann\" \"hunter2\"", "smtp.auth"),
        ]
        for (mode, call, kind) in cases {
            let port = try startFault(mode)
            let code = "try { \(call.replacingOccurrences(of: "PORT", with: "\(port)")) } catch e { print e.kind; print e.message }"
            let r = try run(code, timeout: 20)
            XCTAssertFalse(r.timedOut, mode)
            let out = r.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(out.first, kind, "\(mode): \(r.stdout) \(r.stderr)")
            if mode == "drop-mid-data" { XCTAssertTrue(r.stdout.contains("not sent"), r.stdout) }
            if mode == "silent-after-data" { XCTAssertTrue(r.stdout.contains("not confirmed as sent"), r.stdout) }
            if mode == "starttls-inject" { XCTAssertTrue(r.stdout.contains("in the clear"), r.stdout) }
            if mode == "refuse-auth" { XCTAssertFalse(r.stdout.contains("hunter2")) }
        }
        // A short message dropped after DATA: the final reply never comes, so it is not sent either.
        let port = try startFault("drop-mid-data")
        let r = try run("try { mail from: \"a@example.test\" to: \"b@example.test\" body: \"x\" server: \"127.0.0.1:\(port)\" tls: \"none\" timeout: 5 } catch e { print e.kind }")
        XCTAssertEqual(r.stdout, "smtp.disconnected\n", r.stderr)
    }

    // MARK: Postfix

    /// Postfix from a private config dir (loopback only, no DNS), delivering to a maildir.
    func startPostfix() throws -> (port: Int, maildir: URL) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/postfix") else { throw XCTSkip("postfix is not installed") }
        guard getuid() == 0 else { throw XCTSkip("postfix's master needs root, even from a private config dir") }
        let d = URL(fileURLWithPath: "/tmp/ns-postfix-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        dirs.append(d)
        let port = try freePort()
        for sub in ["conf", "queue", "data", "mail"] {
            try FileManager.default.createDirectory(at: d.appendingPathComponent(sub), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        chown(d.appendingPathComponent("mail").path, 65534, 65534)
        let main = """
        compatibility_level = 3.6
        queue_directory = \(d.path)/queue
        data_directory = \(d.path)/data
        mail_owner = postfix
        setgid_group = postdrop
        myhostname = mail.netscript.test
        mydomain = netscript.test
        myorigin = netscript.test
        mydestination =
        inet_interfaces = loopback-only
        inet_protocols = ipv4
        mynetworks = 127.0.0.0/8
        smtp_host_lookup = native
        smtp_dns_support_level = disabled
        virtual_mailbox_domains = example.test
        virtual_mailbox_base = \(d.path)/mail
        virtual_mailbox_maps = static:example.test/
        virtual_uid_maps = static:65534
        virtual_gid_maps = static:65534
        alias_maps =
        alias_database =
        local_recipient_maps =
        smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
        maillog_file_prefixes = /tmp
        maillog_file = \(d.path)/maillog
        smtputf8_enable = yes
        biff = no

        """
        let services = ["127.0.0.1:\(port) inet n - n - - smtpd", "pickup unix n - n 60 1 pickup", "cleanup unix n - n - 0 cleanup",
                        "qmgr unix n - n 300 1 qmgr", "rewrite unix - - n - - trivial-rewrite", "bounce unix - - n - 0 bounce",
                        "defer unix - - n - 0 bounce", "trace unix - - n - 0 bounce", "verify unix - - n - 1 verify",
                        "flush unix n - n 1000? 0 flush", "proxymap unix - - n - - proxymap", "smtp unix - - n - - smtp",
                        "relay unix - - n - - smtp", "error unix - - n - - error", "retry unix - - n - - error",
                        "discard unix - - n - - discard", "virtual unix - n n - - virtual", "anvil unix - - n - 1 anvil",
                        "scache unix - - n - 1 scache", "postlog unix-dgram n - n - 1 postlogd"]
        try main.write(to: d.appendingPathComponent("conf/main.cf"), atomically: true, encoding: .utf8)
        try (services.joined(separator: "\n") + "\n").write(to: d.appendingPathComponent("conf/master.cf"), atomically: true, encoding: .utf8)
        let conf = d.appendingPathComponent("conf").path
        let perms = try runProcess("/usr/sbin/postfix", ["-c", conf, "set-permissions", "create-missing"], timeout: 30)
        guard perms.status == 0 else { throw XCTSkip("postfix set-permissions failed: \(perms.stderr)") }
        let p = try startQuiet("/usr/sbin/postfix", ["-c", conf, "start-fg"])
        peers.append(p)
        postfixConf = conf
        waitForPort(port)
        return (port, d.appendingPathComponent("mail/example.test"))
    }

    func testPostfixDeliversIntoAMaildir() throws {
        _ = try requirePython()
        let (port, maildir) = try startPostfix()
        let work = try tempDir()
        let blob = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        try Data(blob).write(to: work.appendingPathComponent("photo.png"))
        let code = """
        print (mail from: "Ann <ann@netscript.test>" to: ["bob@example.test"] bcc: "carol@example.test" subject: "Postfix — ünïcödé" body: "Hej då\\n.dot\\n" attachments: ["photo.png"] server: "127.0.0.1:\(port)")
        """
        let r = try run(code, trace: true, cwd: work)
        XCTAssertEqual(r.stdout, "{}\n", r.stderr)
        // Postfix delivers asynchronously: wait (bounded) for both copies in the maildir.
        let deadline = Date().addingTimeInterval(20)
        var files: [URL] = []
        while Date() < deadline {
            let new = maildir.appendingPathComponent("new")
            files = ((try? FileManager.default.contentsOfDirectory(atPath: new.path)) ?? []).sorted().map { new.appendingPathComponent($0) }
            if files.count >= 2 { break }
            usleep(100_000)
        }
        XCTAssertEqual(files.count, 2, "one copy for To and one for Bcc")
        guard let first = files.first else { return }
        let p = try parsed(first)
        XCTAssertEqual(header(p, "Subject"), ["Postfix — ünïcödé"])
        XCTAssertEqual(header(p, "From"), ["Ann <ann@netscript.test>"])
        XCTAssertEqual(header(p, "Bcc"), [])
        // Postfix's own trace headers may name the envelope recipient; nothing of ours does.
        let ours = (p["headers"] as! [[String]]).filter { !["received", "delivered-to", "x-original-to", "return-path"].contains($0[0].lowercased()) }
        XCTAssertFalse(ours.contains { $0[1].contains("carol@") }, "\(ours)")
        let parts = p["parts"] as! [[String: Any]]
        XCTAssertEqual(parts.map { $0["type"] as! String }, ["multipart/mixed", "text/plain", "image/png"])
        XCTAssertEqual(parts[1]["text"] as? String, "Hej då\n.dot\n")
        XCTAssertEqual(parts[2]["sha256"] as? String, sha256(blob))
        XCTAssertTrue(header(p, "Received").first?.contains("mail.netscript.test") ?? false)
    }
}
