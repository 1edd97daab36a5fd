import Foundation
import XCTest

/// `trace diagram` as a learner sees it when NetScript is the server too: arrows and labels
/// follow the wire (who sent, who received), not which end recorded the step.
final class TraceScriptTests: XCTestCase {
    func run(_ code: String) throws -> RunResult {
        try runProcess(try NetScriptBinary.path(), ["-e", code], timeout: 30)
    }

    /// The chart's arrow lines: (arrow from the client?, label).
    func arrows(_ chart: String, _ proto: String) -> [(toServer: Bool, label: String)] {
        chart.split(separator: "\n").map(String.init).compactMap { l in
            guard l.hasPrefix(proto.padding(toLength: 6, withPad: " ", startingAt: 0) + "|") else { return nil }
            if l.dropFirst(6).hasPrefix("|--- ") && l.hasSuffix("->|") { return (true, String(l.dropFirst(11))) }
            if l.dropFirst(6).hasPrefix("|<- ") && l.hasSuffix("--|") { return (false, String(l.dropFirst(10))) }
            return nil
        }
    }

    func testTCPServerAndClientInOneScript() throws {
        let r = try run("""
        l = listen "127.0.0.1:0"
        c = connect ("127.0.0.1:" + (str l.port)) timeout: 5
        s = accept l timeout: 5
        send c "HELLO\\n"
        print (recv.line s timeout: 5)
        send s "WORLD\\n"
        print (recv.line c timeout: 5)
        trace show
        trace diagram all
        """)
        XCTAssertTrue(r.stdout.hasPrefix("HELLO\nWORLD\n"), r.stdout + r.stderr)
        // The client's line is C: both where it was sent and where it arrived; the reply is S:.
        XCTAssertTrue(r.stdout.contains("C: → 6 bytes \"HELLO\\n\"\nC: ← 6 bytes \"HELLO\\n\"\nS: → 6 bytes \"WORLD\\n\"\nS: ← 6 bytes \"WORLD\\n\"\n"), r.stdout)
        // Both ends recorded each message: the chart draws it once, in the wire's direction.
        let a = arrows(r.stdout, "tcp")
        XCTAssertEqual(a.count, 2, r.stdout)
        guard a.count == 2 else { return }
        XCTAssertTrue(a[0].toServer && a[0].label.hasPrefix("6 bytes \"HELLO\\n\""), "\(a[0])")
        XCTAssertTrue(!a[1].toServer && a[1].label.hasPrefix("6 bytes \"WORLD\\n\""), r.stdout)
        XCTAssertFalse(r.stdout.contains("|<- ←") || r.stdout.contains("|--- →") || r.stdout.contains("|<- →"), "no local arrow against the wire's: \(r.stdout)")
    }

    func testUDPAnsweringSocketIsTheServer() throws {
        let r = try run("""
        srv = udp bind: "127.0.0.1:0"
        cli = udp bind: "127.0.0.1:0"
        trace clear
        sendto cli "ping" srv.local
        d = recvfrom srv timeout: 5
        sendto srv "pong" d.from
        print (recvfrom cli timeout: 5).data
        sendto cli "again" srv.local
        print (recvfrom srv timeout: 5).data
        trace show
        trace diagram all
        """)
        XCTAssertTrue(r.stdout.hasPrefix("pong\nagain\n"), r.stdout + r.stderr)
        let steps = r.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("C: ") || $0.hasPrefix("S: ") }
        XCTAssertEqual(steps.map { String($0.prefix(4)) }, ["C: →", "C: ←", "S: →", "S: ←", "C: →", "C: ←"], r.stdout)
        // Each datagram once (both ends recorded it), in the wire's direction.
        let a = arrows(r.stdout, "udp")
        XCTAssertEqual(a.map(\.toServer), [true, false, true], r.stdout)
        guard a.count == 3 else { return }
        XCTAssertTrue(a[0].label.hasPrefix("4 bytes \"ping\""), "\(a[0])")
        XCTAssertTrue(a[1].label.hasPrefix("4 bytes \"pong\""), "\(a[1])")
        XCTAssertTrue(a[2].label.hasPrefix("5 bytes \"again\""), "\(a[2])")
    }

    /// `serve tcp` in one process, a client in another: the server's chart has the client's
    /// line going client → server and its own answer coming back.
    func testServeTCPDrawsTheClientsLineTowardsTheServer() throws {
        let port = try freePort()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ns-serve-\(UUID().uuidString.prefix(8)).txt")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        let server = Process()
        server.executableURL = URL(fileURLWithPath: try NetScriptBinary.path())
        server.arguments = ["-e", "serve tcp \"127.0.0.1:\(port)\" fn(c) { l = recv.line c timeout: 5; send c \"{upper l}\\n\" } count: 1 duration: 20\ntrace diagram"]
        let h = try FileHandle(forWritingTo: out)
        server.standardOutput = h
        server.standardError = h
        try server.run()
        defer { stopProcesses([server]) }
        waitForListening(port)
        let r = try run("c = connect \"127.0.0.1:\(port)\" timeout: 5; send c \"hi\\n\"; print (recv.line c timeout: 5)")
        XCTAssertEqual(r.stdout, "HI\n", r.stderr)
        let deadline = Date().addingTimeInterval(10)
        while server.isRunning && Date() < deadline { usleep(20_000) }
        let chart = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let a = arrows(chart, "tcp")
        XCTAssertEqual(a.map(\.toServer), [true, false], chart)
        XCTAssertTrue(a.first?.label.hasPrefix("received 3 bytes \"hi\\n\"") == true, chart)
        XCTAssertTrue(a.last?.label.hasPrefix("sent 3 bytes \"HI\\n\"") == true, chart)
    }

    /// With no argument `trace explain` and `trace diagram` cover the last command that recorded
    /// steps (a top-level statement), also when it ran with tracing off; `all` covers the session.
    func testExplainAndDiagramDefaultToTheLastCommand() throws {
        let r = try run("""
        l = listen "127.0.0.1:0"
        c = connect ("127.0.0.1:" + (str l.port)) timeout: 5
        s = accept l timeout: 5
        send c "ONE\\n"
        recv.line s timeout: 5
        x = 1
        trace explain
        print "--"
        trace diagram
        print "--"
        trace explain all
        """)
        let parts = r.stdout.components(separatedBy: "--\n")
        XCTAssertEqual(parts.count, 3, r.stdout + r.stderr)
        guard parts.count == 3 else { return }
        // The last command with steps is `recv.line`: its received bytes only.
        XCTAssertEqual(parts[0], "C: ← 4 bytes \"ONE\\n\"\n", r.stdout)
        XCTAssertEqual(arrows(parts[1], "tcp").map(\.label.first), ["r"], parts[1])
        XCTAssertTrue(parts[2].contains("C: → 4 bytes \"ONE\\n\"") && parts[2].contains("C: ← 4 bytes") && parts[2].contains("connected"), parts[2])
    }

    /// Step mode reads keys from a terminal: without one it says so.
    func testStepModeNeedsATerminal() throws {
        let r = try run("step on")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("error[io]: step on: step mode needs a terminal"), r.stderr)
        let flag = try runProcess(try NetScriptBinary.path(), ["--step", "-e", "print 1"], timeout: 30)
        XCTAssertEqual(flag.status, 2, flag.stderr)
        XCTAssertTrue(flag.stderr.contains("--step: step mode needs a terminal"), flag.stderr)
        XCTAssertEqual(flag.stdout, "")
    }

    /// `trace save` writes JSON lines; `trace load` in another process reads them back as the
    /// last command, for `trace explain` and `trace diagram`.
    func testSaveAndLoad() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ns-\(UUID().uuidString.prefix(8)).ntrace").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let saved = try run("""
        l = listen "127.0.0.1:0"
        c = connect ("127.0.0.1:" + (str l.port)) timeout: 5
        s = accept l timeout: 5
        send c "EHLO me\\r\\n"
        print (recv.line s timeout: 5)
        trace note "a note of mine"
        trace save "\(file)"
        """)
        XCTAssertEqual(saved.status, 0, saved.stderr)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(objects.count, lines.count)
        let sent = try XCTUnwrap(objects.first { ($0["text"] as? String)?.hasPrefix("→ 9 bytes") == true }, "\(lines)")
        XCTAssertEqual(sent["direction"] as? String, "client")
        XCTAssertEqual(sent["proto"] as? String, "tcp")
        XCTAssertTrue((sent["peer"] as? String)?.hasPrefix("127.0.0.1:") == true, "\(sent)")
        XCTAssertNotNil(sent["time"] as? String)
        XCTAssertNotNil(sent["gloss"] as? [Any])
        XCTAssertTrue(objects.contains { $0["direction"] as? String == "note" && $0["text"] as? String == "a note of mine" })

        let loaded = try run("n = trace load \"\(file)\"\nprint n\ntrace explain\ntrace diagram")
        XCTAssertEqual(loaded.status, 0, loaded.stderr)
        XCTAssertTrue(loaded.stdout.hasPrefix("\(lines.count)\n"), loaded.stdout)
        XCTAssertTrue(loaded.stdout.contains("C: → 9 bytes \"EHLO me\\r\\n\"\n") && loaded.stdout.contains("C: ← 9 bytes"), loaded.stdout)
        // A hand-typed EHLO is recognised as SMTP from the saved steps too.
        XCTAssertTrue(loaded.stdout.contains("   ↳ as SMTP: EHLO: identifies the client"), loaded.stdout)
        XCTAssertTrue(arrows(loaded.stdout, "tcp").contains { $0.toServer && $0.label.hasPrefix("9 bytes \"EHLO me") }, loaded.stdout)

        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("ns-\(UUID().uuidString.prefix(8)).ntrace").path
        defer { try? FileManager.default.removeItem(atPath: bad) }
        try "{\"proto\":\"tcp\",\"direction\":\"up\",\"text\":\"x\"}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try run("trace load \"\(bad)\"")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("error[value]: trace load \(bad):1: direction must be client, server or note"), r.stderr)
        let missing = try run("trace load \"/nonexistent/x.ntrace\"")
        XCTAssertTrue(missing.stderr.contains("error[io]: trace load /nonexistent/x.ntrace: no such file"), missing.stderr)
    }

    /// dns.trace replayed from the DNS lesson's recording (made against the lab's NSD tree): each
    /// server it asked gets its own lane, every line fits the width, notes wrap at word
    /// boundaries, and svg: writes the same chart as a picture.
    func testDiagramGivesEachServerItsLane() throws {
        let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("lessons")
        let svg = FileManager.default.temporaryDirectory.appendingPathComponent("ns-\(UUID().uuidString.prefix(8)).svg").path
        defer { try? FileManager.default.removeItem(atPath: svg) }
        let r = try runProcess(try NetScriptBinary.path(), ["--replay", lessons.appendingPathComponent("dns-iterative.nrec").path, "-e", """
        for step in dns.trace "A" "www.example.test" roots: ["127.0.0.1:5302"] { x = 1 }
        trace diagram width: 72
        print "--"
        trace diagram
        trace diagram svg: "\(svg)"
        """], timeout: 30)
        XCTAssertEqual(r.status, 0, r.stderr)
        let parts = r.stdout.components(separatedBy: "--\n")
        XCTAssertEqual(parts.count, 2, r.stdout)
        let narrow = parts[0].split(separator: "\n").map(String.init)
        XCTAssertTrue(narrow[0].hasPrefix("client") && narrow[0].contains("127.0.0.1:5302") && narrow[0].contains("127.0.0.2:5302")
                      && narrow[0].hasSuffix("127.0.0.3:5302"), narrow[0])
        for l in narrow { XCTAssertLessThanOrEqual(l.count, 72, l) }
        // Each query goes further right than the one before: root, then test., then example.test.
        let queries = narrow.filter { $0.hasPrefix("dns   |-- query") }
        XCTAssertEqual(queries.count, 3, parts[0])
        let ends = queries.map { $0.distance(from: $0.startIndex, to: $0.firstIndex(of: ">")!) }
        XCTAssertEqual(ends, ends.sorted(), parts[0])
        XCTAssertEqual(Set(ends).count, 3, parts[0])
        XCTAssertEqual(narrow.filter { $0.hasPrefix("dns   |<- answer") }.count, 3, parts[0])
        // The wrapped note breaks between words.
        let noteLines = narrow.filter { $0.contains("| · ") }
        XCTAssertTrue(noteLines.contains { $0.contains("refers www.example.test. to") } && noteLines.contains { $0.contains("· example.test.") }, parts[0])
        // Without a terminal, 100 columns.
        let wide = parts[1].split(separator: "\n").map(String.init)
        XCTAssertTrue(wide.allSatisfy { $0.count <= 100 } && wide.contains { $0.count > 90 }, parts[1])
        let picture = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(picture.hasPrefix("<svg ") && picture.contains(">127.0.0.3:5302</text>") && picture.hasSuffix("</svg>\n"), picture)
        XCTAssertEqual(picture.components(separatedBy: "marker-end=").count - 1, 6, picture)
    }

    /// FTP replayed from the FTP lesson's recording (made against the lab's pyftpdlib): the
    /// control connection and the passive data connection get lanes of their own, and the
    /// download is drawn in the data connection's lane, towards the client.
    func testFTPDataConnectionHasItsOwnLane() throws {
        let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("lessons")
        let r = try runProcess(try NetScriptBinary.path(), ["--replay", lessons.appendingPathComponent("ftp-passive.nrec").path, "-e", """
        f = ftp.open "127.0.0.1:2121" user: "anonymous" password: "lesson@example.test"
        for line in ftp.retrlines f "README" { x = line }
        trace diagram all width: 90
        """], timeout: 30)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("client") && lines[0].contains("127.0.0.1:2121") && lines[0].hasSuffix("127.0.0.1:60018"), lines[0])
        let retr = try XCTUnwrap(lines.first { $0.hasPrefix("ftp   |-- RETR README") }, r.stdout)
        let data = try XCTUnwrap(lines.first { $0.hasPrefix("ftp   |<- data: RETR README: 55 bytes") }, r.stdout)
        XCTAssertGreaterThan(data.count, 80, "the data lane is the far one: \(data)")
        XCTAssertTrue(data.hasSuffix("-|"), data)
        XCTAssertLessThan(retr.firstIndex(of: ">")!.utf16Offset(in: retr), 60, "the control lane is the nearer one: \(retr)")
        for l in lines { XCTAssertLessThanOrEqual(l.count, 90, l) }
    }
}
