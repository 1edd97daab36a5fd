import Foundation
import XCTest

/// `--record FILE` against a real SMTP server (aiosmtpd, Tests/peers/smtp_peer.py), then
/// `--replay FILE` with the server stopped: the same output every run, and a script that
/// differs gets a `replay` error naming the step, what was recorded and what it sent.
final class ReplayScriptTests: XCTestCase {
    static let peersDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("peers")
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-replay-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { if let dir { try? FileManager.default.removeItem(at: dir) } }

    func netscript(_ args: [String]) throws -> RunResult {
        try runProcess(try NetScriptBinary.path(), args, timeout: 60)
    }

    func script(_ name: String, _ text: String) throws -> String {
        let p = dir.appendingPathComponent(name).path
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    func session(_ port: Int, rcpt: String = "bob@example.test") -> String {
        """
        s = smtp.connect "127.0.0.1:\(port)"
        smtp.ehlo s "lesson.example.test"
        smtp.login s "lab" "lab-password"
        print (smtp.mail s "ann@example.test").code
        print (smtp.rcpt s "\(rcpt)").code
        print (smtp.data s "Subject: hello\\r\\n\\r\\nhi\\r\\n").code
        smtp.quit s
        print "done"

        """
    }

    func testReplayAnswersFromTheRecordingAndNamesTheFirstDifference() throws {
        let py = try python()
        guard (try? runProcess(py, ["-c", "import aiosmtpd"]))?.status == 0 else { throw XCTSkip("aiosmtpd is not installed") }
        let port = try freePort()
        let peer = try startQuiet(py, [Self.peersDir.appendingPathComponent("smtp_peer.py").path, "--port", "\(port)", "--dir", dir.path,
                          "--user", "lab", "--password", "lab-password", "--auth-plaintext"])
        waitForListening(port)
        let recording = dir.appendingPathComponent("smtp.nrec").path
        let good = try script("good.net", session(port))
        let live = try netscript(["--record", recording, good])
        stopProcesses([peer])
        XCTAssertEqual(live.status, 0, live.stderr)
        XCTAssertEqual(live.stdout, "250\n250\n250\ndone\n", live.stderr)
        let lines = try String(contentsOfFile: recording, encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(lines.first?.contains("\"event\":\"open\"") == true, "\(lines.first ?? "")")
        XCTAssertTrue(lines.contains { $0.contains("\"event\":\"send\"") } && lines.contains { $0.contains("\"event\":\"recv\"") })

        // The server is gone: the replay answers, the same way every run.
        let first = try netscript(["--trace", "--replay", recording, good])
        let second = try netscript(["--trace", "--replay", recording, good])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.stdout, live.stdout)
        XCTAssertEqual(second.stdout, first.stdout)
        XCTAssertTrue(first.stderr.contains("connected (replay) → 127.0.0.1:\(port)") && first.stderr.contains("S: 235"), first.stderr)

        // A different recipient: the step, the recorded bytes and the script's.
        let bad = try script("bad.net", session(port, rcpt: "carol@example.test"))
        let differs = try netscript(["--replay", recording, bad])
        XCTAssertEqual(differs.status, 1, differs.stderr)
        XCTAssertTrue(differs.stderr.contains("bad.net:5:7: error[replay]: connection 1 (to 127.0.0.1:\(port)), step "), differs.stderr)
        XCTAssertTrue(differs.stderr.contains("recorded the client sending \"RCPT TO:<bob@example.test>\\r\\n\"; the script sent \"RCPT TO:<carol@example.test>\\r\\n\""), differs.stderr)
        XCTAssertEqual(differs.stdout, "250\n")
        let again = try netscript(["--replay", recording, bad])
        XCTAssertEqual(again.stderr, differs.stderr)

        // A connection the recording does not have.
        let other = try script("other.net", "c = connect \"127.0.0.1:\(port)\"\nc2 = connect \"127.0.0.1:9\"\n")
        let extra = try netscript(["--replay", recording, other])
        XCTAssertEqual(extra.status, 1)
        XCTAssertTrue(extra.stderr.contains("error[replay]: connection 2: the script opens a connection to 127.0.0.1:9, but the recording has only 1 connection"), extra.stderr)
    }

    /// DNS over TCP (a query with tcp: true, a zone transfer, a dns.send) recorded against NSD
    /// and replayed with it stopped; a different question is the replay error, naming both.
    func testDNSOverTCPRecordsAndReplays() throws {
        let nsd = try LabServer("nsd", binary: "/usr/sbin/nsd", portVariable: "NSD_PORT", probeZone: "example.test")
        let srv = "127.0.0.1:\(nsd.port)"
        let code = """
            r = dns "MX" "example.test" server: "\(srv)" tcp: true
            print r.rcode r.tcp r[0].exchange
            print (len (dns.axfr "example.test" server: "\(srv)"))
            r = dns.send (dns.message "nope.example.test" rd: false) server: "\(srv)" tcp: true
            print r.rcode r.tcp (len r.authority)

            """
        let recording = dir.appendingPathComponent("dns.nrec").path
        let live = try netscript(["--record", recording, try script("dns.net", code)])
        nsd.stop()
        XCTAssertEqual(live.stdout, "NOERROR true mail.example.test.\n10079\nNXDOMAIN true 1\n", live.stderr)
        XCTAssertTrue(try String(contentsOfFile: recording, encoding: .utf8).contains("\"kind\":\"dns-tcp\""))
        for _ in 0..<2 {
            let replayed = try netscript(["--replay", recording, try script("dns.net", code)])
            XCTAssertEqual(replayed.status, 0, replayed.stderr)
            XCTAssertEqual(replayed.stdout, live.stdout, replayed.stderr)
        }
        let other = try netscript(["--replay", recording, try script("other.net", code.replacingOccurrences(of: "nope.example.test", with: "gone.example.test"))])
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.stderr.contains("error[replay]: connection 3 (DNS over TCP to \(srv)), step 1: recorded a query for A nope.example.test. (rd off); the script sent a query for A gone.example.test. (rd off)"), other.stderr)
    }

    /// UDP sockets (`udp`, `send`/`recv`, `sendto`/`recvfrom`) recorded against a Python UDP
    /// echo server and replayed with it stopped: the same output and trace; a different
    /// datagram is the replay error.
    func testUDPSocketsRecordAndReplay() throws {
        let py = try python()
        let port = try freePort()
        let peer = Process()
        peer.executableURL = URL(fileURLWithPath: py)
        peer.arguments = ["-c", """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", \(port))); s.settimeout(30)
            while True:
                d, a = s.recvfrom(65535); s.sendto(d.upper(), a)
            """]
        try peer.run()
        defer { stopProcesses([peer]) }
        let code = """
            u = udp "127.0.0.1:\(port)"
            send u "hello"
            print (recv u)
            v = udp bind: "127.0.0.1:0"
            sendto v "second" "127.0.0.1:\(port)"
            d = recvfrom v
            print d.data d.from
            trace explain all

            """
        let recording = dir.appendingPathComponent("udp.nrec").path
        var live = try netscript(["--record", recording, try script("udp.net", code)])
        for _ in 0..<20 where live.status != 0 {   // the peer may still be starting: its first datagram refused
            usleep(100_000)
            live = try netscript(["--record", recording, try script("udp.net", code)])
        }
        stopProcesses([peer])
        XCTAssertEqual(live.status, 0, live.stderr)
        XCTAssertTrue(live.stdout.hasPrefix("HELLO\nSECOND 127.0.0.1:\(port)\n"), live.stdout)
        let one = try netscript(["--replay", recording, try script("udp.net", code)])
        let two = try netscript(["--replay", recording, try script("udp.net", code)])
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stdout.contains(" (replayed from the recording)"), one.stdout)
        XCTAssertEqual(one.stdout.replacingOccurrences(of: " (replayed from the recording)", with: ""), live.stdout, one.stderr)
        XCTAssertEqual(one.stdout, two.stdout, "the same every run")
        let other = try netscript(["--replay", recording, try script("other.net", code.replacingOccurrences(of: "\"second\"", with: "\"third\""))])
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.stderr.contains("error[replay]: connection 2 (UDP socket for (unconnected)), step 1: recorded the script sending \"second\" to 127.0.0.1:\(port); it sent \"third\" to 127.0.0.1:\(port)"), other.stderr)
    }

    func testReplayOptionsAreCheckedUpFront() throws {
        let missing = try netscript(["--replay", dir.appendingPathComponent("none.nrec").path, "-e", "print 1"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("--replay") && missing.stderr.contains("cannot read"), missing.stderr)
        let junk = try script("junk.nrec", "not json\n")
        let bad = try netscript(["--replay", junk, "-e", "print 1"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("junk.nrec:1: not a recording line"), bad.stderr)
        let both = try netscript(["--record", junk, "--replay", junk, "-e", "print 1"])
        XCTAssertEqual(both.status, 2)
        XCTAssertTrue(both.stderr.contains("cannot be used together"), both.stderr)
    }
}
