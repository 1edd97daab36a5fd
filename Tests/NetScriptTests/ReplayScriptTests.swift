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
        let peer = Process()
        peer.executableURL = URL(fileURLWithPath: py)
        peer.arguments = [Self.peersDir.appendingPathComponent("smtp_peer.py").path, "--port", "\(port)", "--dir", dir.path,
                          "--user", "lab", "--password", "lab-password", "--auth-plaintext"]
        peer.standardOutput = FileHandle.nullDevice
        peer.standardError = FileHandle.nullDevice
        try peer.run()
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
