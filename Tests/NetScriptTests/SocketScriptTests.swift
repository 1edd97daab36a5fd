import Foundation
import XCTest
import NetKit

/// The socket commands through the built `netscript`, against real peers on loopback: the
/// project's own echo server (another netscript process), socat, and Python clients.
final class SocketScriptTests: XCTestCase {
    var exe = ""
    var peers: [Process] = []
    override func setUpWithError() throws { exe = try NetScriptBinary.path() }
    override func tearDown() {
        stopProcesses(peers)
        peers = []
    }

    func start(_ path: String, _ args: [String], cwd: URL? = nil) throws -> Process {
        let p = try startQuiet(path, args, cwd: cwd)
        peers.append(p)
        return p
    }

    func tool(_ name: String) throws -> String {
        for dir in ["/usr/bin", "/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        throw XCTSkip("\(name) is not installed")
    }

    func ns(_ code: String, timeout: TimeInterval = 20) throws -> RunResult {
        let r = try runProcess(exe, ["-e", code], timeout: timeout)
        XCTAssertFalse(r.timedOut, "netscript timed out: \(code)")
        return r
    }

    static func contract(_ port: Int) -> String {
        """
        c = connect "127.0.0.1:\(port)"
        send c "hello\\n"
        print (recv.line c)
        close c
        """
    }

    // MARK: the contract

    func testContractAgainstOwnEchoServerWhichStopsOnCtrlC() throws {
        let port = try freePort()
        let server = try start(exe, ["-e", "serve echo \"127.0.0.1:\(port)\""])
        waitForPort(port)
        let r = try ns(Self.contract(port))
        XCTAssertEqual(r.stdout, "hello\n")
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(r.status, 0)
        kill(server.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(5)
        while server.isRunning && Date() < deadline { usleep(10_000) }
        XCTAssertFalse(server.isRunning, "serve echo did not stop on SIGINT")
        if !server.isRunning { XCTAssertEqual(server.terminationStatus, 130) }
    }

    /// Ctrl-C stops a concurrent `serve tcp` whose handlers are all blocked in a receive:
    /// each handler's wait is interrupted and the server exits with 130.
    func testCtrlCStopsAConcurrentServerWithBlockedHandlers() throws {
        let port = try freePort()
        let server = try start(exe, ["-e", "serve tcp \"127.0.0.1:\(port)\" fn(c) { recv.line c timeout: 600 }"])
        waitForPort(port)
        let clients = try (0..<3).map { _ in try StreamConnection.connect("127.0.0.1:\(port)", timeout: 5) }
        defer { clients.forEach { $0.close() } }
        usleep(300_000)
        kill(server.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(10)
        while server.isRunning && Date() < deadline { usleep(10_000) }
        XCTAssertFalse(server.isRunning, "serve tcp did not stop on SIGINT")
        if !server.isRunning { XCTAssertEqual(server.terminationStatus, 130) }
    }

    /// `unreachable`: inside a network namespace made for the test (`unshare -n`: only a
    /// loopback interface that is down, no routes) every connect fails at once, no packet sent.
    func testUnreachableInAnEmptyNetworkNamespace() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { throw XCTSkip("unshare is not installed") }
        let probe = try runProcess("/usr/bin/unshare", ["-n", "true"])
        guard probe.status == 0 else { throw XCTSkip("cannot create a network namespace here: \(probe.stderr)") }
        let r = try runProcess("/usr/bin/unshare", ["-n", exe, "-e", """
            for a in ["192.0.2.1:80", "[2001:db8::1]:80"] {
                try { connect a timeout: 2 } catch e { print e.kind e.address }
            }
            try { udp "192.0.2.1:53" } catch e { print e.kind e.address }
            """], timeout: 20)
        XCTAssertEqual(r.stdout, "unreachable 192.0.2.1:80\nunreachable [2001:db8::1]:80\nunreachable 192.0.2.1:53\n", r.stderr)
    }

    func testContractOverIPv6AndClosedErrors() throws {
        let port = try freePort()
        _ = try start(exe, ["-e", "serve echo \"[::1]:\(port)\""])
        waitForPort(port, host: "::1")
        let r = try ns("""
        c = connect "[::1]:\(port)"
        send c "hello six\\n"
        print (recv.line c) c.peer
        close c
        try { send c "more" } catch e { print e.kind }
        try { recv c } catch e { print e.kind }
        close c
        print c.closed
        """)
        XCTAssertEqual(r.stdout, "hello six [::1]:\(port)\nclosed\nclosed\ntrue\n", r.stderr)
    }

    func testContractAgainstSocat() throws {
        let port = try freePort()
        _ = try start(try tool("socat"), ["TCP4-LISTEN:\(port),bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"])
        waitForPort(port)
        XCTAssertEqual(try ns(Self.contract(port)).stdout, "hello\n")
    }

    func testContractRefusedAndServiceLookup() throws {
        XCTAssertEqual(try ns("try { connect \"127.0.0.1:1\" } catch e { print e.kind }").stdout, "refused\n")
        XCTAssertEqual(try ns("print (getservbyname \"smtp\" \"tcp\")").stdout, "25\n")
        XCTAssertEqual(try ns("print (getservbyport 25) (getservbyname \"http\")").stdout, "smtp 80\n")
    }

    // MARK: servers in the language

    func testServeTCPRunsTheHandlerPerClientForPythonClients() throws {
        let port = try freePort()
        let code = """
        n = serve tcp "127.0.0.1:\(port)" fn(c) {
            line = recv.line c timeout: 5
            send c "{upper line} from {c.local}\\n"
            if line == "last" { stop }
        } duration: 20
        print "served" n
        """
        let server = inBackground(["-e", code], timeout: 25)
        waitForPortOnce(port)
        let py = try python()
        let client = """
        import socket, sys
        port = int(sys.argv[1])
        for word in ["one", "two", "last"]:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(word.encode() + b"\\n")
            print(s.makefile().readline().strip())
            s.close()
        """
        let r = try runProcess(py, ["-c", client, "\(port)"], timeout: 20)
        XCTAssertEqual(r.stdout, "ONE from 127.0.0.1:\(port)\nTWO from 127.0.0.1:\(port)\nLAST from 127.0.0.1:\(port)\n", r.stderr)
        let result = server.wait(25)
        XCTAssertEqual(result?.stdout, "served 3\n")
        XCTAssertEqual(result?.status, 0)
    }

    /// Waits for a listening socket without connecting to it (the probe would count as a client).
    /// Handlers run at once: five clients connect first and are answered last-first, which
    /// only works if every client has its handler waiting; one handler sleeps, one fails, one
    /// recurses 1,500 deep on its own thread; globals are shared between handlers.
    func testServeTCPHandlesClientsConcurrently() throws {
        let port = try freePort()
        let code = """
        hits = 0
        fn depth(n) { if n == 0 { return 0 }; return 1 + depth(n - 1) }
        n = serve tcp "127.0.0.1:\(port)" fn(c) {
            global hits
            line = recv.line c timeout: 10
            hits = hits + 1
            if line == "sleep" { sleep 1 }
            if line == "fail" { fail "this handler fails on purpose" kind: "value" }
            if line == "deep" { line = "deep {depth 1500}" }
            send c "{line} ok\n"
        } count: 8 concurrency: 6 duration: 30
        print "served" n "hits" hits
        """
        let server = inBackground(["-e", code], timeout: 40)
        waitForPortOnce(port)
        let py = try python()
        let client = """
        import socket, sys, time
        port = int(sys.argv[1])
        conns = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(5)]
        time.sleep(0.3)
        for i in reversed(range(5)):
            conns[i].sendall(b"c%d\\n" % i)
            print(conns[i].makefile().readline().strip())
        # A sleeping handler does not hold the others up.
        slow = socket.create_connection(("127.0.0.1", port), timeout=5)
        slow.sendall(b"sleep\\n")
        bad = socket.create_connection(("127.0.0.1", port), timeout=5)
        bad.sendall(b"fail\\n")
        print(repr(bad.makefile().readline()))
        deep = socket.create_connection(("127.0.0.1", port), timeout=5)
        deep.sendall(b"deep\\n")
        start = time.time()
        print(deep.makefile().readline().strip(), time.time() - start < 0.9)
        print(slow.makefile().readline().strip())
        """
        let r = try runProcess(py, ["-c", client, "\(port)"], timeout: 30)
        XCTAssertEqual(r.stdout, "c4 ok\nc3 ok\nc2 ok\nc1 ok\nc0 ok\n''\ndeep 1500 ok True\nsleep ok\n", r.stderr)
        let result = server.wait(35)
        XCTAssertEqual(result?.stdout, "served 8 hits 8\n")
        XCTAssertTrue(result?.stderr.contains("serve tcp: the handler failed for 127.0.0.1:") == true, result?.stderr ?? "")
        XCTAssertTrue(result?.stderr.contains("this handler fails on purpose") == true, result?.stderr ?? "")
        XCTAssertEqual(result?.status, 0)
    }

    /// Nothing sent is lost when the script ends right after: `send` returns only once the
    /// bytes are with the kernel. 400 clients at once, each answered after a pause, while a
    /// CPU hog competes for both cores; every client gets its line.
    func testBytesSentBeforeTheScriptEndsAllArrive() throws {
        let port = try freePort()
        let n = 400
        let server = inBackground(["-e", """
        served = serve tcp "127.0.0.1:\(port)" fn(c) { l = recv.line c timeout: 20; sleep 0.2; send c "{upper l}\\n" } count: \(n) concurrency: \(n) duration: 40
        print "served" served
        """], timeout: 60)
        waitForPortOnce(port)
        let py = try python()
        let hog = Process()
        hog.executableURL = URL(fileURLWithPath: py)
        hog.arguments = ["-c", "import time\nend = time.time() + 30\nwhile time.time() < end: pass"]
        try hog.run()
        peers.append(hog)
        let hog2 = Process()
        hog2.executableURL = URL(fileURLWithPath: py)
        hog2.arguments = hog.arguments
        try hog2.run()
        peers.append(hog2)
        let client = """
        import socket, sys, threading
        port, n = int(sys.argv[1]), int(sys.argv[2])
        results = [None] * n
        def one(i):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                s.sendall(b"client %d\\n" % i)
                data = b""
                while not data.endswith(b"\\n"):
                    b = s.recv(100)
                    if not b: break
                    data += b
                results[i] = data
                s.close()
            except OSError as e:
                results[i] = repr(e).encode()
        ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in ts: t.start()
        for t in ts: t.join()
        bad = [i for i in range(n) if results[i] != b"CLIENT %d\\n" % i]
        print(len(bad), [results[i] for i in bad[:5]])
        """
        let r = try runProcess(py, ["-c", client, "\(port)", "\(n)"], timeout: 60)
        XCTAssertEqual(r.stdout, "0 []\n", r.stderr)
        let result = server.wait(60)
        XCTAssertEqual(result?.stdout, "served \(n)\n", result?.stderr ?? "the server did not end")
    }

    /// Runs netscript with `args` on another thread; `wait` gives its result (nil if it did not
    /// finish within the seconds given).
    final class Background: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var result: RunResult?
        init(_ exe: String, _ args: [String], cwd: URL? = nil, timeout: Double) {
            Thread.detachNewThread { [self] in
                result = try? runProcess(exe, args, cwd: cwd, timeout: timeout)
                done.signal()
            }
        }
        func wait(_ seconds: Double) -> RunResult? {
            guard done.wait(timeout: .now() + seconds) == .success else { return nil }
            return result
        }
    }

    func inBackground(_ args: [String], timeout: Double) -> Background { Background(exe, args, timeout: timeout) }

    func waitForPortOnce(_ port: Int) { waitForListening(port, seconds: 10) }

    func testListenAcceptStepByStepWithTrace() throws {
        let r = try runProcess(exe, ["--trace", "-e", """
        l = listen "127.0.0.1:0" backlog: 4
        c = connect "127.0.0.1:{l.port}"
        s = accept l timeout: 5
        send s "220 ready\\r\\n"
        print (recv.line c)
        send c "GET / HTTP/1.0\\r\\n\\r\\n"
        print (repr (recv.until s "\\r\\n\\r\\n"))
        close s
        print (recv c) c.closed s.closed (type c)
        close c; close l
        """])
        XCTAssertEqual(r.stdout, "220 ready\n\"GET / HTTP/1.0\\r\\n\\r\\n\"\nnil false true connection\n")
        XCTAssertTrue(r.stderr.contains("C: → 18 bytes \"GET / HTTP/1.0\\r\\n\\r\\n\""), r.stderr)
        XCTAssertTrue(r.stderr.contains("S: → 11 bytes \"220 ready\\r\\n\""), r.stderr)
        XCTAssertTrue(r.stderr.contains("*: listening on 127.0.0.1:"), r.stderr)
        XCTAssertEqual(r.status, 0)
    }

    // MARK: datagrams and Unix sockets

    func testUDPAgainstOwnEchoServerAndSizeLimit() throws {
        let port = try freePort()
        let server = try start(exe, ["-e", "print (serve echo \"127.0.0.1:\(port)\" udp: true count: 2 duration: 20)"])
        usleep(300_000)
        let r = try ns("""
        u = udp bind: "127.0.0.1:0"
        d = nil
        for i in range 10 {
            sendto u "ping" "127.0.0.1:\(port)"
            try { d = recvfrom u timeout: 0.5; break } catch "timeout" { }
        }
        print d.data d.from (type d)
        v = udp "127.0.0.1:\(port)"
        send v b"\\xff\\x00"
        print (recv v timeout: 5) v.peer
        try { sendto u ("x" * 65508) "127.0.0.1:\(port)" } catch e { print e.kind }
        close u; close v
        """)
        XCTAssertEqual(r.stdout, "ping 127.0.0.1:\(port) datagram\nb\"\\xff\\x00\" 127.0.0.1:\(port)\nvalue\n", r.stderr)
        let deadline = Date().addingTimeInterval(5)
        while server.isRunning && Date() < deadline { usleep(10_000) }
        XCTAssertFalse(server.isRunning)
    }

    func testUnixStreamAndDatagramAgainstSocat() throws {
        let socat = try tool("socat")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-unix-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let stream = dir.appendingPathComponent("s.sock").path, dgram = dir.appendingPathComponent("d.sock").path
        _ = try start(socat, ["UNIX-LISTEN:\(stream),fork", "EXEC:cat"])
        _ = try start(socat, ["-T", "5", "UNIX-RECVFROM:\(dgram),fork", "EXEC:cat"])
        let deadline = Date().addingTimeInterval(5)
        while !(FileManager.default.fileExists(atPath: stream) && FileManager.default.fileExists(atPath: dgram)) && Date() < deadline { usleep(20_000) }
        let r = try ns("""
        c = unix "\(stream)"
        send c "stream\\n"
        print (recv.line c) c.peer
        close c
        u = unix "\(dgram)" dgram: true
        send u "datagram"
        print (recv u timeout: 5) (type u)
        close u
        """)
        XCTAssertEqual(r.stdout, "stream \(stream)\ndatagram unix_dgram\n", r.stderr)
    }

    func testUnixListenAcceptAndEchoServerByPath() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-unix-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let echo = dir.appendingPathComponent("e.sock").path, lpath = dir.appendingPathComponent("l.sock").path
        let server = try start(exe, ["-e", "serve echo \"\(echo)\" count: 1 duration: 20"])
        let deadline = Date().addingTimeInterval(5)
        while !FileManager.default.fileExists(atPath: echo) && Date() < deadline { usleep(20_000) }
        let r = try ns("""
        c = unix "\(echo)"
        send c "via the echo server\\n"
        print (recv.line c)
        close c
        l = listen "unix:\(lpath)"
        c = unix "\(lpath)"
        s = accept l timeout: 5
        send c "ping\\n"
        print (recv.line s) s.local
        close c; close s; close l
        """)
        XCTAssertEqual(r.stdout, "via the echo server\nping \(lpath)\n", r.stderr)
        while server.isRunning && Date() < deadline.addingTimeInterval(5) { usleep(10_000) }
        XCTAssertFalse(server.isRunning, "serve echo count: 1 ends after one client")
        if !server.isRunning { XCTAssertEqual(server.terminationStatus, 0) }
    }

    // MARK: faults: each a named error within its timeout, the process alive

    func testFaultsAreNamedErrorsWithinTheirTimeouts() throws {
        let py = try python()
        let resetPort = try freePort(), floodPort = try freePort()
        let peer = """
        import socket, struct, sys, time
        mode, port = sys.argv[1], int(sys.argv[2])
        l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(("127.0.0.1", port)); l.listen(5); l.settimeout(20)
        c, _ = l.accept()
        if mode == "reset":
            c.sendall(b"partial"); time.sleep(0.3)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
        else:
            try:
                for i in range(1600): c.sendall(b"x" * 65536)
            except OSError: pass
        time.sleep(1)
        """
        _ = try start(py, ["-c", peer, "reset", "\(resetPort)"])
        _ = try start(py, ["-c", peer, "flood", "\(floodPort)"])
        waitForPortOnce(resetPort); waitForPortOnce(floodPort)
        let closed = try freePort()
        let start = Date()
        let r = try ns("""
        fn attempt(label, f) {
            t = clock
            try { f() ; print label "no error" } catch e { print label e.kind (clock - t < 6) ("127.0.0.1" in e.message or ".invalid" in e.message) }
        }
        attempt "closed port" fn() { connect "127.0.0.1:\(closed)" }
        attempt "no such name" fn() { connect "nothing.invalid:80" timeout: 5 }
        silent = listen "127.0.0.1:0"
        attempt "silent peer" fn() { c = connect "127.0.0.1:{silent.port}"; recv.line c timeout: 0.5 }
        attempt "reset" fn() { c = connect "127.0.0.1:\(resetPort)"; recv.until c "partial"; recv c timeout: 5 }
        attempt "flood" fn() { c = connect "127.0.0.1:\(floodPort)"; recv.line c timeout: 10 max: 100000 }
        attempt "bad tls" fn() { c = connect "127.0.0.1:{silent.port}" tls: true timeout: 0.5 }
        print "alive"
        """, timeout: 40)
        XCTAssertEqual(r.stdout, """
        closed port refused true true
        no such name resolve true true
        silent peer timeout true true
        reset reset true true
        flood value true true
        bad tls timeout true true
        alive

        """, r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
    }

    /// Ctrl-C (SIGINT) ends a blocked receive promptly: status 130, not a hang.
    func testInterruptStopsABlockedReceive() throws {
        let port = try freePort()
        let code = "l = listen \"127.0.0.1:\(port)\"\nc = connect \"127.0.0.1:\(port)\"\nprint \"waiting\"\nrecv c timeout: 60"
        let p = try startQuiet(exe, ["-e", code])
        peers.append(p)
        usleep(700_000)
        let sent = Date()
        kill(p.processIdentifier, SIGINT)
        while p.isRunning && Date().timeIntervalSince(sent) < 5 { usleep(10_000) }
        XCTAssertFalse(p.isRunning, "Ctrl-C did not stop the blocked receive")
        if !p.isRunning { XCTAssertEqual(p.terminationStatus, 130) }
    }

    /// `accept` waits without limit by default (as Python's does), so an idle server loop does
    /// not die; `timeout: nil` means no limit on every wait; Ctrl-C still ends the wait.
    func testAcceptWaitsWithoutLimitAndTimeoutNilIsNoLimit() throws {
        let port = try freePort()
        let server = inBackground(["-e", """
        l = listen "127.0.0.1:\(port)"
        c = accept l
        print (recv.line c timeout: nil)
        send c "bye\\n" timeout: nil
        close c
        """], timeout: 30)
        waitForPortOnce(port)
        usleep(1_500_000)   // the server sits idle in accept before the client comes
        let client = try ns("""
        c = connect "127.0.0.1:\(port)" timeout: nil
        send c "late\\n"
        print (recv.line c timeout: nil)
        """)
        XCTAssertEqual(client.stdout, "bye\n", client.stderr)
        let r = server.wait(20)
        XCTAssertEqual(r?.stdout, "late\n", r?.stderr ?? "server did not finish")
        XCTAssertEqual(r?.status, 0)
        // Every wait takes timeout: nil, and a bad value says that nil is allowed.
        let bad = try ns("l = listen \"127.0.0.1:0\"; accept l timeout: -1")
        XCTAssertTrue(bad.stderr.contains("error[value]: accept: timeout: must be a positive number of seconds, or nil for no limit"), bad.stderr)
        // Ctrl-C ends an accept that has no limit.
        let p = try start(exe, ["-e", "l = listen \"127.0.0.1:\(try freePort())\"\naccept l"])
        usleep(700_000)
        let sent = Date()
        kill(p.processIdentifier, SIGINT)
        while p.isRunning && Date().timeIntervalSince(sent) < 5 { usleep(10_000) }
        XCTAssertFalse(p.isRunning, "Ctrl-C did not stop accept")
        if !p.isRunning { XCTAssertEqual(p.terminationStatus, 130) }
    }

    func testUncaughtSocketErrorIsADiagnostic() throws {
        let port = try freePort()
        let r = try ns("c = connect \"127.0.0.1:\(port)\"")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("-e:1:5: error[refused]: connect 127.0.0.1:\(port): connection refused"), r.stderr)
        let t = try ns("send 1 \"x\"")
        XCTAssertTrue(t.stderr.contains("error[type]: send: argument 1 must be a connection"), t.stderr)
        let h = try ns("help \"recv.line\"")
        XCTAssertTrue(h.stdout.contains("usage: recv.line CONN"), h.stdout)
    }

    func testHostFunctions() throws {
        let r = try ns("""
        print (len (hostname) > 0)
        print (gethostbyname "localhost")
        print (any (map fn(a) { a == "127.0.0.1" or a == "::1" } (getaddrinfo "localhost")))
        print ((gethostbyaddr "127.0.0.1").addresses[0])
        try { gethostbyname "nothing.invalid" } catch e { print e.kind }
        try { getservbyname "no-such-service" } catch e { print e.kind }
        """)
        XCTAssertEqual(r.stdout, "true\n127.0.0.1\ntrue\n127.0.0.1\nresolve\nvalue\n", r.stderr)
    }
}
