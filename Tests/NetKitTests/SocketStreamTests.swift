import Foundation
import XCTest
@testable import NetKit

/// TCP, TLS and Unix stream connections against real peers on loopback (socat, openssl,
/// python), and the faults a client must survive with a named error.
final class SocketStreamTests: XCTestCase {
    var peers: [Process] = []
    override func tearDown() { peers.forEach(Peers.stop); peers = [] }

    func socatEcho(v6: Bool = false) throws -> String {
        let port = try Peers.freePort()
        peers.append(try Peers.start("socat", ["\(v6 ? "TCP6" : "TCP4")-LISTEN:\(port),reuseaddr,fork\(v6 ? ",bind=[::1]" : ",bind=127.0.0.1")", "EXEC:cat"]))
        let addr = v6 ? "[::1]:\(port)" : "127.0.0.1:\(port)"
        try Peers.waitForPort(addr)
        return addr
    }

    func testEchoThroughSocatIPv4() throws {
        let addr = try socatEcho()
        let t = Transcript()
        let c = try StreamConnection.connect(addr, timeout: 5, transcript: t)
        XCTAssertEqual(c.peerText, addr)
        XCTAssertTrue(c.localText.hasPrefix("127.0.0.1:"))
        try c.send(Array("hello\nworld\n".utf8))
        XCTAssertEqual(try c.recvUntil([0x0A], timeout: 5), Array("hello\n".utf8))
        XCTAssertEqual(try c.recvUntil(Array("ld".utf8), timeout: 5), Array("world".utf8))
        XCTAssertEqual(try c.recv(max: 10, timeout: 5), [0x0A])
        try c.send(Array("tail".utf8))
        try c.shutdownWrite()
        XCTAssertEqual(try c.recvAll(timeout: 5), Array("tail".utf8))
        XCTAssertNil(try c.recv(max: 10, timeout: 5), "end of stream is nil")
        c.close()
        c.close()
        XCTAssertTrue(c.isClosed)
        let lines = t.steps.map(Transcript.render)
        XCTAssertTrue(lines.contains("C: → 12 bytes \"hello\\nworld\\n\""), "\(lines)")
        XCTAssertTrue(lines.contains("S: ← 6 bytes \"hello\\n\""), "\(lines)")
        XCTAssertTrue(lines.first?.hasPrefix("*: connected 127.0.0.1:") ?? false, "\(lines)")
    }

    func testEchoThroughSocatIPv6AndByName() throws {
        let addr = try socatEcho(v6: true)
        let c = try StreamConnection.connect(addr, timeout: 5)
        XCTAssertEqual(c.peerText, addr)
        try c.send(Array(repeating: 0x61, count: 3_000_000) + [0x0A])
        let line = try c.recvUntil([0x0A], max: 4_000_000, timeout: 10)
        XCTAssertEqual(line?.count, 3_000_001)
        c.close()
        // "localhost" resolves to ::1 and/or 127.0.0.1; either way the connection works or is refused.
        let port = addr.split(separator: ":").last!
        do {
            let d = try StreamConnection.connect("localhost:\(port)", timeout: 5)
            d.close()
        } catch let e as SocketError {
            XCTAssertEqual(e.kind, .refused)
        }
    }

    func testRefusedNamesTheAddress() throws {
        let port = try Peers.freePort()
        XCTAssertThrowsError(try StreamConnection.connect("127.0.0.1:\(port)", timeout: 5)) { e in
            let s = e as! SocketError
            XCTAssertEqual(s.kind, .refused)
            XCTAssertTrue(s.message.contains("127.0.0.1:\(port)"), s.message)
        }
        XCTAssertThrowsError(try StreamConnection.connect("[::1]:\(port)", timeout: 5)) { e in
            XCTAssertEqual((e as! SocketError).kind, .refused)
        }
    }

    func testUnresolvableNameFailsAtOnce() throws {
        let start = Date()
        XCTAssertThrowsError(try StreamConnection.connect("no-such-host.invalid:80", timeout: 5)) { e in
            let s = e as! SocketError
            XCTAssertEqual(s.kind, .resolve)
            XCTAssertTrue(s.message.contains("no-such-host.invalid"), s.message)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    func testBadAddressesAreValueErrors() {
        for bad in ["127.0.0.1", "127.0.0.1:99999", "[::1", "host:port-x"] {
            XCTAssertThrowsError(try Endpoint(parsing: bad), bad) { e in XCTAssertEqual((e as! SocketError).kind, .value) }
        }
        XCTAssertEqual(try Endpoint(parsing: "[::1]:80"), Endpoint(host: "::1", port: 80))
        XCTAssertEqual(try Endpoint(parsing: "example.test:http").port, 80)
    }

    func testSilentPeerTimesOut() throws {
        let l = try Listener.listen("127.0.0.1:0")
        defer { l.close() }
        let c = try StreamConnection.connect("127.0.0.1:\(l.port!)", timeout: 5)
        let start = Date()
        XCTAssertThrowsError(try c.recvUntil([0x0A], timeout: 0.5)) { e in
            XCTAssertEqual((e as! SocketError).kind, .timeout)
        }
        let took = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(took, 0.45)
        XCTAssertLessThan(took, 2)
        // A small recv reads straight into its result (StreamConnection.recvDirect): the same wait.
        let again = Date()
        XCTAssertThrowsError(try c.recv(max: 16, timeout: 0.3)) { e in
            XCTAssertEqual((e as! SocketError).kind, .timeout)
            XCTAssertEqual((e as! SocketError).message, "recv from 127.0.0.1:\(l.port!): timed out")
        }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(again), 0.25)
        c.close()
    }

    /// A listener whose accept queue is full drops new SYNs, so connect times out on loopback.
    func testConnectTimesOutWhenTheAcceptQueueIsFull() throws {
        let port = try Peers.freePort()
        peers.append(try python("import socket, time\nl = socket.socket(); l.bind(('127.0.0.1', \(port))); l.listen(0); time.sleep(15)", []))
        try Peers.waitForPortOnce("127.0.0.1:\(port)")
        var kinds: [SocketError.Kind] = []
        var held: [StreamConnection] = []
        for _ in 0..<4 {
            let start = Date()
            do { held.append(try StreamConnection.connect("127.0.0.1:\(port)", timeout: 0.4)) }
            catch let e as SocketError {
                kinds.append(e.kind)
                XCTAssertLessThan(Date().timeIntervalSince(start), 1.5)
                XCTAssertEqual(e.message, "connect 127.0.0.1:\(port): timed out")
            }
        }
        XCTAssertTrue(kinds.contains(.timeout), "\(kinds)")
        held.forEach { $0.close() }
    }

    func testCancellationStopsAWait() throws {
        let l = try Listener.listen("127.0.0.1:0")
        defer { l.close() }
        let start = Date()
        let c = try StreamConnection.connect("127.0.0.1:\(l.port!)", timeout: 5, cancel: { Date().timeIntervalSince(start) > 0.3 })
        XCTAssertThrowsError(try c.recv(max: 10, timeout: 30)) { e in XCTAssertEqual((e as! SocketError).kind, .interrupted) }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func python(_ code: String, _ args: [String]) throws -> Process {
        guard let py = Peers.python else { throw XCTSkip("python3 is not installed") }
        return try Peers.start(py, ["-c", code] + args)
    }

    static let faultPeer = """
    import socket, struct, sys, time
    mode, port = sys.argv[1], int(sys.argv[2])
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", port)); l.listen(5); l.settimeout(20)
    c, _ = l.accept()
    if mode == "reset":
        c.sendall(b"partial data"); time.sleep(0.3)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
    elif mode == "flood":
        chunk = b"x" * 65536
        try:
            for i in range(1600): c.sendall(chunk)
        except OSError: pass
    time.sleep(1)
    """

    func testPeerResetMidStream() throws {
        let port = try Peers.freePort()
        peers.append(try python(Self.faultPeer, ["reset", "\(port)"]))
        try Peers.waitForPortOnce("127.0.0.1:\(port)")
        let c = try StreamConnection.connect("127.0.0.1:\(port)", timeout: 5)
        XCTAssertEqual(try c.recvUntil(Array("data".utf8), timeout: 5), Array("partial data".utf8))
        XCTAssertThrowsError(try c.recv(max: 100, timeout: 5)) { e in
            let s = e as! SocketError
            XCTAssertEqual(s.kind, .reset, s.message)
            XCTAssertTrue(s.message.contains("127.0.0.1:\(port)"))
        }
        // The failure stays with the connection, for a small read and a large one alike.
        for max in [100, 65536] {
            XCTAssertThrowsError(try c.recv(max: max, timeout: 5)) { e in XCTAssertEqual((e as! SocketError).kind, .reset) }
        }
    }

    func testFloodWithoutNewlineIsBoundedByMax() throws {
        let port = try Peers.freePort()
        peers.append(try python(Self.faultPeer, ["flood", "\(port)"]))
        try Peers.waitForPortOnce("127.0.0.1:\(port)")
        let c = try StreamConnection.connect("127.0.0.1:\(port)", timeout: 5)
        let start = Date()
        XCTAssertThrowsError(try c.recvUntil([0x0A], max: 1 << 20, timeout: 10)) { e in
            XCTAssertEqual((e as! SocketError).kind, .value)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        // The buffer stops growing: reading pauses near the limit instead of taking all 100 MB.
        usleep(300_000)
        c.box.cond.lock(); let held = c.box.count; c.box.cond.unlock()
        XCTAssertLessThan(held, 4 << 20, "buffered \(held) bytes")
        c.close()
    }

    /// The same bound on the event-loop side (an accepted connection): reading pauses near the
    /// limit, so the flood waits in the kernel rather than in our memory.
    func testFloodOnAnAcceptedConnectionIsBounded() throws {
        let l = try Listener.listen("127.0.0.1:0")
        defer { l.close() }
        let c = try StreamConnection.connect("127.0.0.1:\(l.port!)", timeout: 5)
        let s = try l.accept(timeout: 5)
        let sender = Thread {
            let chunk = [UInt8](repeating: 0x78, count: 1 << 20)
            for _ in 0..<100 { if (try? c.send(chunk, timeout: 3)) == nil { break } }
        }
        sender.start()
        XCTAssertThrowsError(try s.recvUntil([0x0A], max: 1 << 20, timeout: 10, what: "recv.line")) { e in
            let err = e as! SocketError
            XCTAssertEqual(err.kind, .value)
            XCTAssertTrue(err.message.contains("no newline within max: 1048576 bytes"), err.message)
        }
        usleep(300_000)
        s.box.cond.lock(); let held = s.box.count; s.box.cond.unlock()
        XCTAssertLessThan(held, 4 << 20, "buffered \(held) bytes")
        s.close()
        c.close()
    }

    func testUnixStreamThroughSocat() throws {
        let dir = try Peers.tempDir()
        let path = dir.appendingPathComponent("echo.sock").path
        peers.append(try Peers.start("socat", ["UNIX-LISTEN:\(path),fork", "EXEC:cat"]))
        Peers.waitForPath(path)
        let c = try StreamConnection.connectUnix(path, timeout: 5)
        XCTAssertEqual(c.peerText, path)
        try c.send(Array("over unix\n".utf8))
        XCTAssertEqual(try c.recvUntil([0x0A], timeout: 5), Array("over unix\n".utf8))
        c.close()
        XCTAssertThrowsError(try StreamConnection.connectUnix(dir.appendingPathComponent("none.sock").path, timeout: 2)) { e in
            XCTAssertEqual((e as! SocketError).kind, .refused)
        }
    }

    func testTLSAgainstSocatWithGeneratedCertificate() throws {
        let dir = try Peers.tempDir()
        try Peers.makeCertificates(in: dir)
        let port = try Peers.freePort()
        peers.append(try Peers.start("socat", ["OPENSSL-LISTEN:\(port),reuseaddr,fork,bind=127.0.0.1,cert=srv.pem,key=srv.key,verify=0", "EXEC:cat"], cwd: dir))
        try Peers.waitForPort("127.0.0.1:\(port)")
        let ca = dir.appendingPathComponent("ca.pem").path
        let t = Transcript()
        for host in ["localhost", "127.0.0.1"] {
            let c = try StreamConnection.connect("\(host):\(port)", timeout: 5, tls: TLSOptions(caFile: ca), transcript: t)
            XCTAssertEqual(c.proto, "tls")
            try c.send(Array("secret\n".utf8))
            XCTAssertEqual(try c.recvUntil([0x0A], timeout: 5), Array("secret\n".utf8))
            c.close()
        }
        XCTAssertTrue(t.steps.contains { $0.text.hasPrefix("TLS handshake done") })
        // The system's roots do not include the test CA: verification fails, by name.
        XCTAssertThrowsError(try StreamConnection.connect("localhost:\(port)", timeout: 5, tls: TLSOptions())) { e in
            let s = e as! SocketError
            XCTAssertEqual(s.kind, .tls)
            XCTAssertTrue(s.message.contains("is not signed by a trusted CA"), s.message)
        }
        let c = try StreamConnection.connect("localhost:\(port)", timeout: 5, tls: TLSOptions(verify: false))
        try c.send(Array("x\n".utf8))
        XCTAssertEqual(try c.recvUntil([0x0A], timeout: 5), Array("x\n".utf8))
        c.close()
        // TLS to a plain-text server is a tls error, not a hang.
        let plain = try socatEcho()
        XCTAssertThrowsError(try StreamConnection.connect(plain, timeout: 3, tls: TLSOptions(verify: false))) { e in
            let k = (e as! SocketError).kind
            XCTAssertTrue(k == .tls || k == .timeout, "\(k)")
        }
    }

    /// A STARTTLS-style upgrade (the SMTP and FTP clients use it): plain text, a "go ahead",
    /// then TLS on the same socket. The peer is Python's ssl module; with `inject` it sends
    /// bytes in the clear right after the go-ahead, which must be refused (CVE-2011-0411).
    func startTLSPeer(_ dir: URL, inject: Bool) throws -> Int {
        let port = try Peers.freePort()
        let script = """
        import socket, ssl
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain("srv.pem", "srv.key")
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", \(port))); s.listen(4)
        while True:
            c, _ = s.accept()
            f = c.makefile("rb")
            if f.readline() != b"STARTTLS\\r\\n": c.close(); continue
            c.sendall(b"220 go ahead\\r\\n" + (b"250 injected\\r\\n" if \(inject ? "True" : "False") else b""))
            try:
                t = ctx.wrap_socket(c, server_side=True)
                t.sendall(t.recv(100).upper())
                t.close()
            except Exception:
                c.close()
        """
        try script.write(to: dir.appendingPathComponent("starttls.py"), atomically: true, encoding: .utf8)
        guard let py = Peers.python else { throw XCTSkip("python3 is not installed") }
        peers.append(try Peers.start(py, ["starttls.py"], cwd: dir))
        try Peers.waitForPort("127.0.0.1:\(port)")
        return port
    }

    func testStartTLSUpgradesAPlainConnection() throws {
        let dir = try Peers.tempDir()
        try Peers.makeCertificates(in: dir)
        let port = try startTLSPeer(dir, inject: false)
        let ca = dir.appendingPathComponent("ca.pem").path
        let t = Transcript()
        let plain = try StreamConnection.connect("localhost:\(port)", timeout: 5, transcript: t)
        try plain.send(Array("STARTTLS\r\n".utf8))
        XCTAssertEqual(try plain.recvUntil(Array("\r\n".utf8), timeout: 5), Array("220 go ahead\r\n".utf8))
        let tls = try plain.startTLS(TLSOptions(caFile: ca), host: "localhost", timeout: 5)
        XCTAssertEqual(tls.proto, "tls")
        XCTAssertTrue(plain.isClosed)
        try tls.send(Array("secret".utf8))
        XCTAssertEqual(try tls.recv(max: 100, timeout: 5), Array("SECRET".utf8))
        tls.close()
        XCTAssertTrue(t.steps.contains { $0.text.hasPrefix("TLS handshake done") })
        // Without the test CA the upgrade fails verification, as a tls error.
        let c2 = try StreamConnection.connect("127.0.0.1:\(port)", timeout: 5)
        try c2.send(Array("STARTTLS\r\n".utf8))
        _ = try c2.recvUntil(Array("\r\n".utf8), timeout: 5)
        XCTAssertThrowsError(try c2.startTLS(TLSOptions(), host: "127.0.0.1", timeout: 5)) { e in
            XCTAssertEqual((e as! SocketError).kind, .tls)
        }
    }

    func testStartTLSRefusesBytesInjectedInTheClear() throws {
        let dir = try Peers.tempDir()
        try Peers.makeCertificates(in: dir)
        let port = try startTLSPeer(dir, inject: true)
        let c = try StreamConnection.connect("127.0.0.1:\(port)", timeout: 5)
        try c.send(Array("STARTTLS\r\n".utf8))
        XCTAssertEqual(try c.recvUntil(Array("\r\n".utf8), timeout: 5), Array("220 go ahead\r\n".utf8))
        // Give the injected line time to arrive, as it would in an attack.
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertThrowsError(try c.startTLS(TLSOptions(caFile: dir.appendingPathComponent("ca.pem").path), host: "127.0.0.1", timeout: 5)) { e in
            let s = e as! SocketError
            XCTAssertEqual(s.kind, .tls)
            XCTAssertTrue(s.message.contains("in the clear"), s.message)
        }
    }

    func testListenAcceptTracesServerSide() throws {
        let t = Transcript()
        let l = try Listener.listen("[::1]:0", backlog: 2, transcript: t)
        defer { l.close() }
        let c = try StreamConnection.connect("[::1]:\(l.port!)", timeout: 5)
        let s = try l.accept(timeout: 5)
        XCTAssertEqual(s.peerText, c.localText)
        try s.send(Array("220 hello\r\n".utf8))
        XCTAssertEqual(try c.recvUntil(Array("\r\n".utf8), timeout: 5), Array("220 hello\r\n".utf8))
        try c.send(Array("QUIT\r\n".utf8))
        XCTAssertEqual(try s.recvUntil(Array("\r\n".utf8), timeout: 5), Array("QUIT\r\n".utf8))
        s.close()
        XCTAssertNil(try c.recv(max: 10, timeout: 5))
        c.close()
        let lines = t.steps.map(Transcript.render)
        XCTAssertTrue(lines.contains("S: → 11 bytes \"220 hello\\r\\n\""), "\(lines)")
        XCTAssertTrue(lines.contains("C: ← 6 bytes \"QUIT\\r\\n\""), "\(lines)")
        XCTAssertThrowsError(try l.accept(timeout: 0.2)) { e in XCTAssertEqual((e as! SocketError).kind, .timeout) }
    }
}

extension Peers {
    /// Waits for a one-shot peer to listen without connecting to it (a probe would use up its
    /// single accept): polls the kernel's table of listening sockets.
    static func waitForPortOnce(_ address: String) throws {
        let port = Int(address.split(separator: ":").last!)!
        let hex = String(format: ":%04X ", port)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            for f in ["/proc/net/tcp", "/proc/net/tcp6"] {
                if let text = try? String(contentsOfFile: f, encoding: .utf8),
                   text.split(separator: "\n").contains(where: { $0.contains(hex) && $0.contains(" 0A ") }) { return }
            }
            usleep(20_000)
        }
        XCTFail("nothing listens on \(address)")
    }
}
