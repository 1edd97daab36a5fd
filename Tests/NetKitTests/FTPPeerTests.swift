import Foundation
import XCTest
@testable import NetKit

/// FTP against real servers on loopback: vsftpd (local user, anonymous, explicit and implicit
/// FTPS, active mode), pure-ftpd (virtual user, MLSD, FTPS), pyftpdlib (PASV masquerade) and a
/// scripted server for faults. Transfers are checked by SHA-256. The big file here is 64 MiB to
/// keep CI fast; the 1 GiB transfer is in scripts/bench-ftp.
final class FTPPeerTests: XCTestCase {
    var servers: [FTPTestServer] = []
    var work: URL!

    override func setUpWithError() throws { work = try Peers.tempDir() }
    override func tearDown() {
        for s in servers { s.stop() }
        servers = []
        if let work { try? FileManager.default.removeItem(at: work) }
    }

    func start(_ kind: String) throws -> FTPTestServer {
        let s = try FTPTestServer.start(kind)
        servers.append(s)
        return s
    }

    func login(_ s: FTPTestServer, tls: FTPTLSMode = .none, passive: Bool = true, user: String = FTPTestServer.user,
               password: String = FTPTestServer.password, transcript: Transcript? = nil) throws -> FTPClient {
        var o = FTPOptions()
        o.tls = tls
        o.timeout = 10
        o.passive = passive
        if tls != .none { o.tlsOptions = TLSOptions(caFile: s.caFile) }
        let c = try FTPClient.connect(s.address, options: o, transcript: transcript)
        try c.login(user: user, password: password)
        return c
    }

    func path(_ name: String) -> String { work.appendingPathComponent(name).path }

    /// The contract, and 64 MiB both ways checked by SHA-256.
    func testVsftpdRoundTripBySHA256() throws {
        let s = try start("vsftpd")
        let t = Transcript()
        let c = try login(s, transcript: t)
        defer { c.quit() }
        XCTAssertEqual(try c.mkd("incoming"), "/incoming")
        try c.cwd("incoming")
        XCTAssertEqual(try c.pwd(), "/incoming")
        try FTPTestServer.makeFile(work.appendingPathComponent("local.bin"), size: 64 << 20, seed: 8)
        let up = try c.store(path("local.bin"), to: "remote.bin")
        XCTAssertEqual(up.bytes, 64 << 20)
        XCTAssertEqual(try c.size("remote.bin"), 64 << 20)
        XCTAssertEqual(try FTPTestServer.sha256(s.home.appendingPathComponent("incoming/remote.bin").path), try FTPTestServer.sha256(path("local.bin")))
        let down = try c.retrieve("remote.bin", to: path("back.bin"))
        XCTAssertEqual(down.bytes, 64 << 20)
        XCTAssertEqual(try FTPTestServer.sha256(path("back.bin")), try FTPTestServer.sha256(path("local.bin")))
        // The trace: the password masked, one note per data connection.
        let lines = t.steps.map(Transcript.render)
        XCTAssertTrue(lines.contains("C: PASS ********"), lines.joined(separator: "\n"))
        XCTAssertFalse(lines.contains { $0.contains(FTPTestServer.password) })
        XCTAssertEqual(lines.filter { $0.hasPrefix("*: data connection") }.count, 2)
        XCTAssertTrue(lines.contains("S: 257 \"/incoming\" is the current directory"))
    }

    func testWrongPasswordIsPerm() throws {
        let s = try start("vsftpd")
        XCTAssertThrowsError(try login(s, password: "wrong")) { e in
            let f = e as! FTPError
            XCTAssertEqual(f.kind, .perm)
            XCTAssertEqual(f.reply?.code, 530)
        }
    }

    /// A partial local file is continued with REST; the result matches by SHA-256.
    func testResumeDownloadAndUpload() throws {
        let s = try start("vsftpd")
        try FTPTestServer.makeFile(s.home.appendingPathComponent("big.bin"), size: 8 << 20, seed: 3)
        let c = try login(s)
        defer { c.quit() }
        let whole = try Data(contentsOf: s.home.appendingPathComponent("big.bin"))
        try whole.prefix(3_000_001).write(to: work.appendingPathComponent("part.bin"))
        let t = Transcript()
        let r = try c.retrieve("big.bin", to: path("part.bin"), resume: true)
        XCTAssertEqual(r.offset, 3_000_001)
        XCTAssertEqual(r.bytes, Int64(whole.count - 3_000_001))
        XCTAssertEqual(try FTPTestServer.sha256(path("part.bin")), try FTPTestServer.sha256(s.home.appendingPathComponent("big.bin").path))
        _ = t
        // Upload: the server holds the first part; resume sends the rest.
        try whole.prefix(1_234_567).write(to: s.home.appendingPathComponent("up.bin"))
        _ = chown(s.home.appendingPathComponent("up.bin").path, getpwnam(FTPTestServer.user).pointee.pw_uid, 0)
        try whole.write(to: work.appendingPathComponent("whole.bin"))
        let u = try c.store(path("whole.bin"), to: "up.bin", resume: true)
        XCTAssertEqual(u.offset, 1_234_567)
        XCTAssertEqual(try FTPTestServer.sha256(s.home.appendingPathComponent("up.bin").path), try FTPTestServer.sha256(path("whole.bin")))
    }

    func testTenThousandFileListing() throws {
        let s = try start("vsftpd")
        let d = s.home.appendingPathComponent("many")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        for i in 0..<10_000 { FileManager.default.createFile(atPath: d.appendingPathComponent("file-\(i).txt").path, contents: nil) }
        let c = try login(s)
        defer { c.quit() }
        let names = try c.nlst("many")
        XCTAssertEqual(names.count, 10_000)
        XCTAssertEqual(Set(names.map { ($0 as NSString).lastPathComponent }).count, 10_000)
        let lines = try c.list("many")
        XCTAssertEqual(lines.count, 10_000)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("-rw") })
    }

    func testAnonymousReadOnly() throws {
        let s = try start("vsftpd")
        try "hello, anonymous\n".write(to: s.anon.appendingPathComponent("readme.txt"), atomically: true, encoding: .utf8)
        let c = try FTPClient.connect(s.address)
        try c.login()
        defer { c.quit() }
        XCTAssertEqual(try c.retrlines("readme.txt"), ["hello, anonymous"])
        try "x".write(to: work.appendingPathComponent("x.txt"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try c.store(path("x.txt"), to: "x.txt")) { XCTAssertEqual(($0 as! FTPError).kind, .perm) }
        XCTAssertEqual(try c.pwd(), "/")  // the session goes on after the refusal
        // vsftpd has no MLSD: mirror reads its Unix LIST lines instead.
        try FileManager.default.createDirectory(at: s.anon.appendingPathComponent("sub dir"), withIntermediateDirectories: true)
        try FTPTestServer.makeFile(s.anon.appendingPathComponent("sub dir/data.bin"), size: 70_000, seed: 4)
        let m = try c.mirrorGet("/", to: path("mirror"))
        XCTAssertEqual(m.files, 2)
        XCTAssertEqual(m.directories, 2)
        XCTAssertEqual(try FTPTestServer.sha256(path("mirror/sub dir/data.bin")), try FTPTestServer.sha256(s.anon.appendingPathComponent("sub dir/data.bin").path))
    }

    func testActiveMode() throws {
        let s = try start("vsftpd")
        let c = try login(s, passive: false)
        defer { c.quit() }
        try FTPTestServer.makeFile(work.appendingPathComponent("a.bin"), size: 3 << 20, seed: 5)
        try c.store(path("a.bin"), to: "a.bin")
        try c.retrieve("a.bin", to: path("b.bin"))
        XCTAssertEqual(try FTPTestServer.sha256(path("b.bin")), try FTPTestServer.sha256(path("a.bin")))
        XCTAssertEqual(try c.nlst(), ["a.bin"])
        // TYPE A both ways: LF locally, CR LF on the wire.
        try "one\ntwo\n".write(to: work.appendingPathComponent("t.txt"), atomically: true, encoding: .utf8)
        try c.store(path("t.txt"), to: "t.txt", ascii: true)
        XCTAssertEqual(try c.size("t.txt"), 10)
        try c.retrieve("t.txt", to: path("t2.txt"), ascii: true)
        XCTAssertEqual(try String(contentsOfFile: path("t2.txt"), encoding: .utf8), "one\ntwo\n")
    }

    func testActiveModeOverFTPS() throws {
        let s = try start("vsftpd-tls")
        let c = try login(s, tls: .explicit, passive: false)
        defer { c.quit() }
        try FTPTestServer.makeFile(work.appendingPathComponent("a.bin"), size: 1 << 20, seed: 6)
        try c.store(path("a.bin"), to: "a.bin")
        try c.retrieve("a.bin", to: path("b.bin"))
        XCTAssertEqual(try FTPTestServer.sha256(path("b.bin")), try FTPTestServer.sha256(path("a.bin")))
    }

    func testExplicitFTPS() throws {
        let s = try start("vsftpd-tls")
        let t = Transcript()
        let c = try login(s, tls: .explicit, transcript: t)
        defer { c.quit() }
        XCTAssertTrue(c.isTLS)
        try FTPTestServer.makeFile(work.appendingPathComponent("t.bin"), size: 5 << 20 + 17, seed: 9)
        try c.store(path("t.bin"), to: "t.bin")
        try c.retrieve("t.bin", to: path("t2.bin"))
        XCTAssertEqual(try FTPTestServer.sha256(path("t2.bin")), try FTPTestServer.sha256(path("t.bin")))
        let lines = t.steps.map(Transcript.render)
        XCTAssertTrue(lines.contains("C: AUTH TLS") && lines.contains("C: PROT P"), lines.joined(separator: "\n"))
        // Without the CA the certificate is refused.
        var o = FTPOptions()
        o.tls = .explicit
        XCTAssertThrowsError(try FTPClient.connect(s.address, options: o)) { XCTAssertEqual(($0 as! FTPError).kind, .tls) }
    }

    /// Issue 18: the name asked is the name checked (RFC 9525), on the control connection and
    /// on the data connections, which check the control host's identity whatever address PASV
    /// names. The certificate names localhost, 127.0.0.1 and ::1; before, NIOSSL took its IP
    /// 127.0.0.1 (the address connected to) for any name asked.
    func testFTPSChecksTheNameAsked() throws {
        var ran = 0
        for (kind, mode) in [("pure-ftpd-tls", FTPTLSMode.explicit), ("vsftpd-tls", .explicit), ("vsftpd-implicit", .implicit)] {
            let s: FTPTestServer
            do { s = try start(kind) } catch is XCTSkip { continue }
            ran += 1
            var o = FTPOptions()
            o.tls = mode
            o.timeout = 10
            o.tlsOptions = TLSOptions(caFile: s.caFile, serverName: "other.test")
            XCTAssertThrowsError(try FTPClient.connect(s.address, options: o)) { e in
                XCTAssertEqual((e as? FTPError)?.kind, .tls, "\(e)")
                XCTAssertTrue("\(e)".contains("the certificate of \(s.address) is for localhost, IP 127.0.0.1, IP ::1, not for \"other.test\""), "\(e)")
                if mode == .explicit { XCTAssertTrue("\(e)".contains("AUTH TLS with \(s.address) failed"), "\(e)") }
            }
            // Asked as localhost, the control and the data connections (to PASV's 127.0.0.1) pass.
            o.tlsOptions = TLSOptions(caFile: s.caFile)
            let c = try FTPClient.connect("localhost:\(s.port)", options: o)
            defer { c.quit() }
            try c.login(user: FTPTestServer.user, password: FTPTestServer.password)
            try "x\n".write(to: work.appendingPathComponent("x.txt"), atomically: true, encoding: .utf8)
            try c.store(path("x.txt"), to: "x-\(kind).txt")
            try c.retrieve("x-\(kind).txt", to: path("y.txt"))
            XCTAssertEqual(try String(contentsOfFile: path("y.txt"), encoding: .utf8), "x\n")
        }
        if ran == 0 { throw XCTSkip("no FTPS server (pure-ftpd, vsftpd) is installed") }
    }

    func testImplicitFTPS() throws {
        let s = try start("vsftpd-implicit")
        let c = try login(s, tls: .implicit)
        defer { c.quit() }
        XCTAssertTrue(c.isTLS)
        try FTPTestServer.makeFile(work.appendingPathComponent("i.bin"), size: 2 << 20, seed: 11)
        try c.store(path("i.bin"), to: "i.bin")
        try c.retrieve("i.bin", to: path("i2.bin"))
        XCTAssertEqual(try FTPTestServer.sha256(path("i2.bin")), try FTPTestServer.sha256(path("i.bin")))
    }

    /// pure-ftpd: a virtual user, MLSD facts, MDTM, rename/delete/rmd, mirror both ways, FTPS.
    func testPureFTPd() throws {
        let s = try start("pure-ftpd-tls")
        for tls in [FTPTLSMode.none, .explicit] {
            let c = try login(s, tls: tls)
            defer { c.quit() }
            let dir = tls == .none ? "plain" : "secure"
            try c.mkd(dir)
            try c.cwd(dir)
            try FTPTestServer.makeFile(work.appendingPathComponent("p.bin"), size: 4 << 20, seed: 21)
            try c.store(path("p.bin"), to: "p.bin")
            let entries = try c.mlsd()
            let e = try XCTUnwrap(entries.first { $0.name == "p.bin" })
            XCTAssertEqual(e.type, "file")
            XCTAssertEqual(e.size, 4 << 20)
            XCTAssertNotNil(e.modify)
            XCTAssertEqual(try c.mdtm("p.bin").count, 19)
            try c.rename("p.bin", "q.bin")
            try c.retrieve("q.bin", to: path("q.bin"))
            XCTAssertEqual(try FTPTestServer.sha256(path("q.bin")), try FTPTestServer.sha256(path("p.bin")))
            try c.delete("q.bin")
            XCTAssertThrowsError(try c.size("q.bin")) { XCTAssertEqual(($0 as! FTPError).kind, .perm) }
            try c.cdup()
            try c.rmd(dir)
        }
        // mirror a tree up and back down
        let tree = work.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("a/b"), withIntermediateDirectories: true)
        try FTPTestServer.makeFile(tree.appendingPathComponent("top.bin"), size: 100_000, seed: 1)
        try FTPTestServer.makeFile(tree.appendingPathComponent("a/b/deep.bin"), size: 300_000, seed: 2)
        let c = try login(s)
        defer { c.quit() }
        let up = try c.mirrorPut(tree.path, to: "/tree")
        XCTAssertEqual(up.files, 2)
        XCTAssertEqual(up.directories, 3)
        let down = try c.mirrorGet("/tree", to: path("copy"))
        XCTAssertEqual(down.files, 2)
        XCTAssertEqual(down.bytes, 400_000)
        XCTAssertEqual(try FTPTestServer.sha256(path("copy/a/b/deep.bin")), try FTPTestServer.sha256(tree.appendingPathComponent("a/b/deep.bin").path))
    }

    /// pyftpdlib names 127.0.0.2 in its PASV replies: by default the control peer is used.
    func testPasvAddressIgnoredUnlessTrusted() throws {
        let s = try FTPTestServer.python("pyftpd_server.py", ["HOME"])
        servers.append(s)
        try "abc\n".write(to: s.home.appendingPathComponent("f.txt"), atomically: true, encoding: .utf8)
        let t = Transcript()
        var o = FTPOptions()
        o.timeout = 5
        let c = try FTPClient.connect(s.address, options: o, transcript: t)
        try c.login(user: "alice", password: "secret")
        XCTAssertEqual(try c.retrlines("f.txt"), ["abc"])
        XCTAssertTrue(t.steps.map(Transcript.render).contains { $0.contains("PASV named 127.0.0.2") })
        XCTAssertEqual(try c.mlsd().map(\.name), ["f.txt"])
        c.quit()
        o.trustPasv = true
        let d = try FTPClient.connect(s.address, options: o)
        try d.login(user: "alice", password: "secret")
        defer { d.quit() }
        XCTAssertThrowsError(try d.retrlines("f.txt")) { XCTAssertEqual(($0 as! FTPError).kind, .refused, "\($0)") }
    }

    /// Over ::1: EPSV for passive, EPRT |2| for active.
    func testIPv6PassiveAndActive() throws {
        let s = try FTPTestServer.python("pyftpd_server.py", ["HOME", "::1"], host: "::1")
        servers.append(s)
        try FTPTestServer.makeFile(work.appendingPathComponent("six.bin"), size: 1 << 20, seed: 6)
        for passive in [true, false] {
            var o = FTPOptions()
            o.timeout = 5
            o.passive = passive
            let t = Transcript()
            let c = try FTPClient.connect(s.address, options: o, transcript: t)
            try c.login(user: "alice", password: "secret")
            try c.store(path("six.bin"), to: "six.bin")
            try c.retrieve("six.bin", to: path("six-back.bin"))
            c.quit()
            XCTAssertEqual(try FTPTestServer.sha256(path("six-back.bin")), try FTPTestServer.sha256(path("six.bin")))
            let lines = t.steps.map(Transcript.render)
            XCTAssertTrue(lines.contains { $0.hasPrefix(passive ? "C: EPSV" : "C: EPRT |2|::1|") }, lines.joined(separator: "\n"))
        }
    }

    // MARK: faults

    func fault(_ mode: String) throws -> FTPClient {
        let s = try FTPTestServer.python("ftp_fault_server.py", [mode])
        servers.append(s)
        var o = FTPOptions()
        o.timeout = 2
        let c = try FTPClient.connect(s.address, options: o)
        try c.login(user: "u", password: "p")
        return c
    }

    func testSplitMultiLineGreeting() throws {
        let c = try fault("normal")
        XCTAssertEqual(c.welcome.code, 220)
        XCTAssertEqual(c.welcome.lines.count, 4)
        XCTAssertEqual(c.welcome.lines[1], "  a line without a code")
        XCTAssertEqual(c.features, ["SIZE", "REST STREAM"])
    }

    func testCutMidTransferThenResume() throws {
        let c = try fault("normal")
        XCTAssertThrowsError(try c.retrieve("cut.bin", to: path("cut.bin"))) { e in
            let f = e as! FTPError
            XCTAssertEqual(f.kind, .temp)
            XCTAssertEqual(f.reply?.code, 426)
            XCTAssertEqual(f.partialBytes, 1 << 19)
            XCTAssertTrue(f.message.contains("partial file"), f.message)
        }
        let r = try c.retrieve("cut.bin", to: path("cut.bin"), resume: true)
        XCTAssertEqual(r.offset, 1 << 19)
        let data = try Data(contentsOf: work.appendingPathComponent("cut.bin"))
        XCTAssertEqual(data, Data((0..<(1 << 20)).map { UInt8($0 % 251) }))
    }

    /// A cut upload reports what the server has (SIZE), not what went into the socket buffers.
    func testCutUploadReportsWhatTheServerHas() throws {
        let c = try fault("normal")
        let big = work.appendingPathComponent("big.bin")
        try Data(count: 8 << 20).write(to: big)
        XCTAssertThrowsError(try c.store(big.path, to: "cut.bin")) { e in
            let f = e as! FTPError
            XCTAssertEqual(f.partialBytes, 1 << 20, f.message)
            XCTAssertTrue(f.message.contains("the server has 1048576 of 8388608 bytes (resume: true continues)"), f.message)
        }
        XCTAssertEqual(try c.pwd(), "/")
    }

    /// A listing is bounded (64 MiB, about 120 MB once split): a longer one is a value error
    /// naming the limit, and the session goes on.
    func testListingOverTheLimitIsRefused() throws {
        let c = try fault("normal")
        XCTAssertThrowsError(try c.list("big")) { e in
            let f = e as! FTPError
            XCTAssertEqual(f.kind, .value, f.message)
            XCTAssertTrue(f.message.contains("more than 67108864 bytes"), f.message)
        }
        XCTAssertEqual(try c.pwd(), "/")
    }

    func testStorRefusedSessionGoesOn() throws {
        let c = try fault("normal")
        try "x".write(to: work.appendingPathComponent("x"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try c.store(path("x"), to: "x")) { e in
            XCTAssertEqual((e as! FTPError).kind, .perm)
            XCTAssertEqual((e as! FTPError).reply?.code, 553)
        }
        XCTAssertEqual(try c.pwd(), "/")
    }

    func testDataConnectionNeverOpens() throws {
        let c = try fault("noconn")
        XCTAssertThrowsError(try c.retrieve("f", to: path("f"))) { XCTAssertEqual(($0 as! FTPError).kind, .refused, "\($0)") }
        XCTAssertEqual(try c.pwd(), "/")
    }

    func testSilentDataConnectionTimesOut() throws {
        let c = try fault("silent")
        XCTAssertThrowsError(try c.retrieve("f", to: path("f"))) { e in
            XCTAssertEqual((e as! FTPError).kind, .timeout, "\(e)")
            XCTAssertEqual((e as! FTPError).partialBytes, 0)
        }
    }

    func testRepliesThatAreNotFTP() throws {
        let c = try fault("normal")
        XCTAssertThrowsError(try c.quote("BADREPLY")) { XCTAssertEqual(($0 as! FTPError).kind, .proto) }
        let d = try fault("normal")
        XCTAssertThrowsError(try d.quote("LONGLINE")) { XCTAssertEqual(($0 as! FTPError).kind, .proto, "\($0)") }
    }

    func testCRLFInArgumentSendsNothing() throws {
        let s = try FTPTestServer.python("ftp_fault_server.py", ["normal"])
        servers.append(s)
        let t = Transcript()
        let c = try FTPClient.connect(s.address, transcript: t)
        try c.login(user: "u", password: "p")
        let before = t.steps.count
        XCTAssertThrowsError(try c.cwd("a\r\nDELE b")) { XCTAssertEqual(($0 as! FTPError).kind, .value) }
        XCTAssertEqual(t.steps.count, before)
        XCTAssertEqual(try c.pwd(), "/")
    }
}
