import Foundation
import XCTest
@testable import NetKit

/// UDP and Unix datagram sockets against socat, the built-in echo server driven by Python
/// clients, and the host look-ups.
final class SocketDatagramTests: XCTestCase {
    var peers: [Process] = []
    override func tearDown() { peers.forEach(Peers.stop); peers = [] }

    func testUDPThroughSocat() throws {
        let port = try Peers.freePort()
        peers.append(try Peers.start("socat", ["-T", "5", "UDP4-RECVFROM:\(port),bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]))
        usleep(300_000)
        let t = Transcript()
        let u = try DatagramSocket.open(bind: "127.0.0.1:0", transcript: t)
        defer { u.close() }
        // socat may not be bound yet: retry the first datagram a few times.
        var reply: (data: [UInt8], from: String)? = nil
        for _ in 0..<10 where reply == nil {
            try u.send(Array("ping".utf8), to: "127.0.0.1:\(port)")
            reply = try? u.receive(timeout: 0.5)
        }
        XCTAssertEqual(reply?.data, Array("ping".utf8))
        XCTAssertEqual(reply?.from, "127.0.0.1:\(port)")
        XCTAssertThrowsError(try u.send([UInt8](repeating: 0, count: 65_508), to: "127.0.0.1:\(port)")) { e in
            let s = e as! SocketError
            XCTAssertEqual(s.kind, .value)
            XCTAssertTrue(s.message.contains("65507"), s.message)
        }
        XCTAssertTrue(t.steps.map(Transcript.render).contains("C: → 127.0.0.1:\(port) 4 bytes \"ping\""))
    }

    func testConnectedUDPAndBoundariesWithEchoServer() throws {
        let server = try EchoServer.start("127.0.0.1:0", udp: true)
        defer { server.stop() }
        let u = try DatagramSocket.open(connect: "127.0.0.1:\(server.port!)")
        defer { u.close() }
        XCTAssertEqual(u.peerText, "127.0.0.1:\(server.port!)")
        for n in [1, 100, 65_507] { try u.send([UInt8](repeating: 7, count: n)) }
        for n in [1, 100, 65_507] { XCTAssertEqual(try u.receive(timeout: 5).data.count, n, "one datagram, one receive") }
        XCTAssertThrowsError(try u.receive(timeout: 0.2)) { e in XCTAssertEqual((e as! SocketError).kind, .timeout) }
        XCTAssertEqual(server.stats.snapshot.datagrams, 3)
    }

    func testConnectedUDPToAClosedPortIsRefused() throws {
        let port = try Peers.freePort()
        let u = try DatagramSocket.open(connect: "127.0.0.1:\(port)")
        defer { u.close() }
        try u.send(Array("anyone?".utf8))
        XCTAssertThrowsError(try u.receive(timeout: 2)) { e in
            let k = (e as! SocketError).kind
            XCTAssertTrue(k == .refused || k == .timeout, "\(k)")
        }
    }

    func testUDPOverIPv6() throws {
        let server = try EchoServer.start("[::1]:0", udp: true)
        defer { server.stop() }
        let u = try DatagramSocket.open(bind: "[::1]:0")
        defer { u.close() }
        try u.send(Array("six".utf8), to: "[::1]:\(server.port!)")
        let r = try u.receive(timeout: 5)
        XCTAssertEqual(r.data, Array("six".utf8))
        XCTAssertEqual(r.from, "[::1]:\(server.port!)")
    }

    func testUnixDatagramThroughSocat() throws {
        let dir = try Peers.tempDir()
        let path = dir.appendingPathComponent("dgram.sock").path
        peers.append(try Peers.start("socat", ["-T", "5", "UNIX-RECVFROM:\(path),fork", "EXEC:cat"]))
        Peers.waitForPath(path)
        let u = try DatagramSocket.open(connect: path, unix: true)
        defer { u.close() }
        try u.send(Array("over a unix datagram".utf8))
        XCTAssertEqual(try u.receive(timeout: 5).data, Array("over a unix datagram".utf8))
    }

    /// The built-in echo server with 200 concurrent Python clients × 20 messages: no loss.
    func testEchoServerWithConcurrentPythonClients() throws {
        guard let py = Peers.python else { throw XCTSkip("python3 is not installed") }
        let server = try EchoServer.start("127.0.0.1:0")
        defer { server.stop() }
        let code = """
        import socket, sys, threading
        port, n, msgs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
        bad = []
        def client(i):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=20)
                f = s.makefile("rb")
                for j in range(msgs):
                    m = b"client %d message %d\\n" % (i, j)
                    s.sendall(m)
                    if f.readline() != m: bad.append((i, j))
                s.close()
            except Exception as e:
                bad.append((i, repr(e)))
        ts = [threading.Thread(target=client, args=(i,)) for i in range(n)]
        [t.start() for t in ts]; [t.join() for t in ts]
        print("bad", len(bad))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: py)
        p.arguments = ["-c", code, "\(server.port!)", "200", "20"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        Peers.stop(p)
        let text = String(data: out.fileHandleForReading.readDataToEndOfFile(), encoding: .utf8) ?? ""
        XCTAssertEqual(text.trimmingCharacters(in: .whitespacesAndNewlines), "bad 0")
        XCTAssertEqual(server.stats.snapshot.connections, 200)
    }

    func testEchoServerHalfCloseEchoesEverything() throws {
        let server = try EchoServer.start("127.0.0.1:0")
        defer { server.stop() }
        let c = try StreamConnection.connect("127.0.0.1:\(server.port!)", timeout: 5)
        let data = (0..<5_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try c.send(data)
        try c.shutdownWrite()
        XCTAssertEqual(try c.recvAll(max: 8 << 20, timeout: 20), data)
        c.close()
    }

    func testHostLookups() throws {
        XCTAssertFalse(HostLookup.hostname().isEmpty)
        let all = try HostLookup.addresses("localhost")
        XCTAssertTrue(all.contains("127.0.0.1") || all.contains("::1"), "\(all)")
        XCTAssertEqual(try HostLookup.addresses("127.0.0.1", family: .v4), ["127.0.0.1"])
        XCTAssertEqual(HostLookup.serviceByName("smtp", proto: "tcp"), 25)
        XCTAssertEqual(HostLookup.serviceByName("http"), 80)
        XCTAssertNil(HostLookup.serviceByName("no-such-service"))
        XCTAssertEqual(HostLookup.serviceByPort(25), "smtp")
        XCTAssertEqual(HostLookup.serviceByPort(53, proto: "udp"), "domain")
        let h = try HostLookup.hostByAddress("127.0.0.1")
        XCTAssertFalse(h.name.isEmpty)
        XCTAssertTrue(h.addresses.contains("127.0.0.1"))
        XCTAssertThrowsError(try HostLookup.addresses("x.invalid")) { e in XCTAssertEqual((e as! SocketError).kind, .resolve) }
        XCTAssertThrowsError(try HostLookup.hostByAddress("not-an-ip")) { e in XCTAssertEqual((e as! SocketError).kind, .value) }
    }

    func testTranscriptEscapesAndElidesLongData() {
        let big = [UInt8](repeating: 0x41, count: 1_000_000) + [0x0A]
        let s = Transcript.escape(big)
        XCTAssertLessThanOrEqual(s.count, 200)
        XCTAssertTrue(s.hasSuffix("AAA\\n"))
        XCTAssertTrue(s.contains(" … "))
        // The fast path for long data gives the same text as escaping everything.
        let mixed = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        XCTAssertEqual(Transcript.escape(mixed, limit: 60), referenceEscape(mixed, limit: 60))
    }

    /// Escape everything, then elide: what the fast path must reproduce.
    func referenceEscape(_ bytes: [UInt8], limit: Int) -> String {
        let full = Transcript.escape(bytes, limit: Int.max)
        guard full.count > limit else { return full }
        let keep = (limit - 5) / 2
        return String(full.prefix(keep)) + " … " + String(full.suffix(keep))
    }
}
