import Foundation
import XCTest
import NetKit

/// The ftp.* commands through the built `netscript`, against vsftpd started on loopback by
/// `scripts/ftp-server` (as root; skipped otherwise): the issue's contract, error kinds, the
/// masked trace, current and explicit sessions, and help for every command.
final class FTPScriptTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var exe = ""
    var server: Process?
    var dir: URL!
    var port = 0
    var work: URL!

    override func setUpWithError() throws {
        exe = try NetScriptBinary.path()
        work = FileManager.default.temporaryDirectory.appendingPathComponent("ns-ftp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }
    override func tearDown() {
        if let server { stopProcesses([server]) }
        if let dir { try? FileManager.default.removeItem(at: dir) }
        if let work { try? FileManager.default.removeItem(at: work) }
    }

    func startVsftpd() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root (scripts/ftp-server makes the local user netscript-ftp)") }
        let l = try Listener.listen("127.0.0.1:0")
        port = l.port!
        l.close()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-ftpd-\(UUID().uuidString.prefix(8))")
        let p = try startQuiet("/bin/bash", [FTPScriptTests.repo.appendingPathComponent("scripts/ftp-server").path, "vsftpd", dir.path, String(port)])
        server = p
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if !p.isRunning {
                if p.terminationStatus == 127 { throw XCTSkip("vsftpd is not installed") }
                XCTFail("vsftpd exited with \(p.terminationStatus)"); return
            }
            if let c = try? StreamConnection.connect("127.0.0.1:\(port)", timeout: 1) { c.close(); return }
            usleep(50_000)
        }
        XCTFail("vsftpd did not listen")
    }

    func run(_ code: String, trace: Bool = false) throws -> RunResult {
        try runProcess(exe, (trace ? ["--trace"] : []) + ["-e", code], cwd: work, timeout: 60)
    }

    var login: String { "user: \"netscript-ftp\" password: \"ns-ftp-test\"" }

    func testContract() throws {
        try startVsftpd()
        let data = Data((0..<300_001).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try data.write(to: work.appendingPathComponent("local.bin"))
        let r = try run("""
        ftp.open "127.0.0.1:\(port)" \(login)
        ftp.mkd "incoming"
        ftp.cwd "incoming"
        print (ftp.pwd)
        ftp.put "local.bin" "remote.bin"
        print (ftp.size "remote.bin")
        ftp.quit
        """)
        XCTAssertEqual(r.stdout, "/incoming\n300001\n", r.stderr)
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("home/incoming/remote.bin")), data)
        let w = try run("try { ftp.open \"127.0.0.1:\(port)\" user: \"netscript-ftp\" password: \"wrong\" } catch e { print e.kind e.code }")
        XCTAssertEqual(w.stdout, "ftp.perm 530\n", w.stderr)
    }

    func testTraceMasksPasswordAndNotesDataConnections() throws {
        try startVsftpd()
        let r = try run("""
        s = ftp.open "127.0.0.1:\(port)" \(login)
        ftp.storlines s "notes.txt" ["one", "two"]
        print (ftp.retrlines s "notes.txt")
        ftp.quit s
        """, trace: true)
        XCTAssertEqual(r.stdout, "[\"one\", \"two\"]\n", r.stderr)
        XCTAssertTrue(r.stderr.contains("C: PASS ********"), r.stderr)
        XCTAssertFalse(r.stderr.contains("ns-ftp-test"))
        XCTAssertTrue(r.stderr.contains("S: 230 Login successful."))
        XCTAssertEqual(r.stderr.components(separatedBy: "*: data connection").count - 1, 2, r.stderr)
    }

    func testErrorsAndSessions() throws {
        try startVsftpd()
        let r = try run("""
        a = ftp.open "127.0.0.1:\(port)" \(login)
        b = ftp.open "127.0.0.1:\(port)"
        print b.user (ftp.pwd) (ftp.pwd a)
        try { ftp.cwd "nope" } catch e { print e.kind e.code }
        try { ftp.cwd a "x\\r\\nDELE y" } catch e { print e.kind }
        try { ftp.get "missing" } catch "ftp.perm" e { print "perm" e.code }
        ftp.quit
        try { ftp.pwd } catch e { print e.kind }
        print (ftp.pwd a) a.closed
        ftp.quit a
        try { connect "127.0.0.1:1" } catch e { }
        try { ftp.open "127.0.0.1:1" } catch e { print e.kind }
        """)
        XCTAssertEqual(r.stdout, """
        anonymous / /
        ftp.perm 550
        value
        perm 550
        closed
        / false
        refused

        """, r.stderr)
    }

    /// Nothing local is lost: a refused RETR leaves an existing file as it was and creates
    /// none; a directory that cannot be listed leaves no empty local one; a mirror upload
    /// carries on past a refused MKD and reports every failure at the end (as lftp does).
    func testNothingLocalIsLostAndMirrorCarriesOn() throws {
        try startVsftpd()
        let home = dir.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home.appendingPathComponent("adir"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: home.appendingPathComponent("up"), withIntermediateDirectories: true)
        try "remote file\n".write(to: home.appendingPathComponent("up/blocker"), atomically: true, encoding: .utf8)
        try Data(count: 2_000_000).write(to: home.appendingPathComponent("big.bin"))
        _ = try runProcess("/bin/chown", ["-R", "netscript-ftp", home.path])
        try "keep me\n".write(to: work.appendingPathComponent("keep.txt"), atomically: true, encoding: .utf8)
        let up = work.appendingPathComponent("up")
        for (path, text) in [("a.txt", "a\n"), ("blocker/b.txt", "b\n"), ("c/d.txt", "d\n")] {
            let f = up.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: f.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: f, atomically: true, encoding: .utf8)
        }
        let r = try run("""
        ftp.open "127.0.0.1:\(port)" \(login)
        try { ftp.get "no-such-file.txt" "keep.txt" } catch e { print e.kind e.message }
        print (read "keep.txt")
        try { ftp.get "no-such-file.txt" } catch e { print e.kind (exists "no-such-file.txt") }
        try { ftp.get "adir" } catch e { print e.kind (exists "adir") }
        try { ftp.mirror "/nonexist" "nd" } catch e { print e.kind (exists "nd") }
        try { ftp.mirror "up" "/up" put: true } catch e { print e.kind; print e.message }
        print (ftp.ls "/up") (ftp.ls "/up/c") (ftp.pwd)
        print (ftp.get "/up/c/d.txt" "keep.txt").bytes (read "keep.txt")
        try { ftp.get "big.bin" max: 100000 } catch e { print e.kind e.message (exists "big.bin") }
        try { ftp.get "big.bin" "keep.txt" max: 100000 } catch e { print e.kind (read "keep.txt") }
        print (ftp.get "big.bin" max: 3000000).bytes
        """)
        XCTAssertEqual(r.stdout, """
        ftp.perm ftp.get no-such-file.txt: 550 Failed to open file.; keep.txt was left as it was
        keep me

        ftp.perm false
        ftp.perm false
        ftp.perm false
        ftp.perm
        ftp.mirror up → /up: 1 item failed (2 files copied):
          /up/blocker: MKD /up/blocker: 550 Create directory operation failed.
        ["/up/a.txt", "/up/blocker", "/up/c"] ["/up/c/d.txt"] /
        2 d

        value ftp.get big.bin: more than max: 100000 bytes; stopped; nothing was written false
        value d

        2000000

        """, r.stderr)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: work.path).filter { $0.contains(".part-") }
        XCTAssertEqual(leftovers, [], "temporary files left behind")
    }

    /// The bar is drawn only when standard error is a terminal (`script` gives it one), and erased.
    func testProgressBarOnlyOnATerminal() throws {
        try startVsftpd()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("script (util-linux) is not installed") }
        try Data(count: 8 << 20).write(to: dir.appendingPathComponent("home/zeros.bin"))
        let code = "ftp.open \"127.0.0.1:\(port)\" \(login)\nftp.get \"zeros.bin\" \"z.bin\"\nprint (ftp.size \"zeros.bin\")"
        let plain = try run(code)
        XCTAssertEqual(plain.stdout, "8388608\n")
        XCTAssertEqual(plain.stderr, "")
        let script = work.appendingPathComponent("get.net")
        try code.write(to: script, atomically: true, encoding: .utf8)
        let tty = try runProcess("/usr/bin/script", ["-q", "-e", "-c", "\(exe) \(script.path)", "/dev/null"], cwd: work, timeout: 60)
        XCTAssertTrue(tty.stdout.contains("zeros.bin [") && tty.stdout.contains("of 8.0 MiB"), tty.stdout)
        XCTAssertTrue(tty.stdout.contains("\r\u{1B}[K8388608"), "the bar is erased before the next output: \(tty.stdout.debugDescription)")
    }

    func testHelpForEveryCommand() throws {
        let names = ["open", "login", "pwd", "cwd", "cdup", "dir", "ls", "mlsd", "size", "mdtm", "get", "put", "storlines",
                     "retrlines", "append", "delete", "mkd", "rmd", "rename", "quote", "mirror", "quit"]
        for n in names {
            let r = try run("help \"ftp.\(n)\"")
            XCTAssertEqual(r.status, 0, "ftp.\(n): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("ftp.\(n)"), "ftp.\(n): \(r.stdout)")
        }
    }
}
