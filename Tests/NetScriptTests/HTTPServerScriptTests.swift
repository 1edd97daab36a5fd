import Foundation
import XCTest
import NetKit

/// `serve http` through the built `netscript`, run as a server on a free loopback port, with
/// real clients: curl, Python's requests and raw sockets (Python), and Python's own http.server
/// as the reference for listings.
final class HTTPServerScriptTests: XCTestCase {
    var exe = ""
    var servers: [Process] = []
    var site: URL!
    var outside: URL!
    var logs: [URL] = []

    override func setUpWithError() throws {
        exe = try NetScriptBinary.path()
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("ns-http-\(UUID().uuidString)")
        site = base.appendingPathComponent("site")
        outside = base.appendingPathComponent("outside")
        try fm.createDirectory(at: site.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try fm.createDirectory(at: site.appendingPathComponent("empty dir"), withIntermediateDirectories: true)
        try fm.createDirectory(at: outside, withIntermediateDirectories: true)
        try "hello\n".write(to: site.appendingPathComponent("hello.txt"), atomically: true, encoding: .utf8)
        try "<h1>sub</h1>\n".write(to: site.appendingPathComponent("sub/index.html"), atomically: true, encoding: .utf8)
        try "{\"a\": 1}\n".write(to: site.appendingPathComponent("data.json"), atomically: true, encoding: .utf8)
        try "x\n".write(to: site.appendingPathComponent("<script>alert(1)&x.txt"), atomically: true, encoding: .utf8)
        try "x\n".write(to: site.appendingPathComponent("a b#c?.css"), atomically: true, encoding: .utf8)
        try Data((0..<100_000).map { UInt8($0 % 251) }).write(to: site.appendingPathComponent("big.bin"))
        try Data(repeating: 0x50, count: 10).write(to: site.appendingPathComponent("image.png"))
        try "TOP SECRET\n".write(to: outside.appendingPathComponent("secret.txt"), atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: site.appendingPathComponent("leak.txt").path, withDestinationPath: outside.appendingPathComponent("secret.txt").path)
        try fm.createSymbolicLink(atPath: site.appendingPathComponent("leakdir").path, withDestinationPath: outside.path)
        try fm.createSymbolicLink(atPath: site.appendingPathComponent("inside.txt").path, withDestinationPath: "hello.txt")
    }

    override func tearDown() {
        stopProcesses(servers)
        servers = []
        if let site { try? FileManager.default.removeItem(at: site.deletingLastPathComponent()) }
    }

    // MARK: helpers

    /// Starts `netscript -e CODE` in the site's parent directory; stdout and stderr go to files.
    @discardableResult
    func serve(_ code: String, port: Int) throws -> (Process, URL, URL) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["-e", code]
        p.currentDirectoryURL = site.deletingLastPathComponent()
        let out = site.deletingLastPathComponent().appendingPathComponent("out-\(port)")
        let err = site.deletingLastPathComponent().appendingPathComponent("err-\(port)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        servers.append(p)
        waitForPort(port)
        return (p, out, err)
    }

    func waitForExit(_ p: Process, _ seconds: Double = 10) {
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        XCTAssertFalse(p.isRunning, "the server did not stop")
    }

    func text(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

    /// The server's log once it contains `needle` (the server writes its log between requests,
    /// so the last line may land just after the client is done); waits at most 10 s.
    func log(_ url: URL, containing needle: String) -> String {
        let deadline = Date().addingTimeInterval(10)
        var t = text(url)
        while !t.contains(needle) && Date() < deadline { usleep(20_000); t = text(url) }
        return t
    }

    func tool(_ name: String) throws -> String {
        for dir in ["/usr/bin", "/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        throw XCTSkip("\(name) is not installed")
    }

    /// Runs a Python client script (PORT is set in its globals); its stdout is the result.
    func py(_ script: String, port: Int, timeout: TimeInterval = 60) throws -> String {
        let r = try runProcess(try python(), ["-c", "PORT = \(port)\n" + script], timeout: timeout)
        XCTAssertFalse(r.timedOut, "python client timed out")
        if r.stderr.contains("ModuleNotFoundError: No module named 'requests'") { throw XCTSkip("python requests is not installed") }
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout
    }

    /// curl with `args`; returns stdout.
    func curl(_ args: [String]) throws -> String {
        let r = try runProcess(try tool("curl"), ["-s", "--max-time", "10"] + args)
        XCTAssertEqual(r.status, 0, "curl \(args): \(r.stderr)")
        return r.stdout
    }

    /// Raw request bytes over one connection; returns everything read until the server closes
    /// or goes quiet for a second.
    static let rawClient = """
    import socket, sys, time
    def raw(data, quiet=1.0):
        s = socket.create_connection(("127.0.0.1", PORT))
        s.settimeout(quiet)
        out = b""
        try:
            s.sendall(data)
        except OSError:
            pass            # the server may refuse before reading everything
        try:
            while True:
                b = s.recv(65536)
                if not b: break
                out += b
        except (socket.timeout, ConnectionResetError):
            pass
        s.close()
        return out
    def status(data):
        r = raw(data)
        return r.split(b"\\r\\n", 1)[0].decode()

    """

    // MARK: the contract: like python3 -m http.server

    func testContractStaticServerListsLikePythonHTTPServer() throws {
        let port = try freePort(), pyPort = try freePort()
        let (_, out, err) = try serve("serve http dir: \"site\" port: \(port)", port: port)
        let pyServer = try startQuiet(try python(), ["-m", "http.server", "\(pyPort)", "--bind", "127.0.0.1", "--directory", site.path])
        servers.append(pyServer)
        waitForPort(pyPort)

        for path in ["/", "/empty%20dir/"] {
            let ours = try curl(["http://127.0.0.1:\(port)\(path)"])
            let theirs = try curl(["http://127.0.0.1:\(pyPort)\(path)"])
            XCTAssertEqual(ours, theirs, "listing of \(path) differs from python's http.server:\n" + lineDiff(expected: theirs, actual: ours))
        }
        let listing = try curl(["http://127.0.0.1:\(port)/"])
        XCTAssertTrue(listing.contains("<a href=\"%3Cscript%3Ealert%281%29%26x.txt\">&lt;script&gt;alert(1)&amp;x.txt</a>"), listing)
        XCTAssertFalse(listing.contains("<script>"))
        XCTAssertTrue(listing.contains("<a href=\"a%20b%23c%3F.css\">a b#c?.css</a>"), listing)
        XCTAssertTrue(listing.contains("<a href=\"sub/\">sub/</a>"))
        XCTAssertTrue(listing.contains("<a href=\"inside.txt\">inside.txt@</a>"))
        XCTAssertEqual(try curl(["http://127.0.0.1:\(port)/hello.txt"]), "hello\n")
        XCTAssertEqual(try curl(["http://127.0.0.1:\(port)/a%20b%23c%3F.css"]), "x\n")
        XCTAssertEqual(try curl(["http://127.0.0.1:\(port)/sub/"]), "<h1>sub</h1>\n")
        XCTAssertEqual(try curl(["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "http://127.0.0.1:\(port)/sub?x=1"]),
                       "301 http://127.0.0.1:\(port)/sub/?x=1")
        XCTAssertEqual(try curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/nope.txt"]), "404")
        XCTAssertEqual(try curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/hello.txt/"]), "404")
        XCTAssertEqual(try curl(["-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "http://127.0.0.1:\(port)/hello.txt"]), "501")
        XCTAssertTrue(text(out).hasPrefix("Serving HTTP on 127.0.0.1 port \(port) (http://127.0.0.1:\(port)/) ..."), text(out))
        let log = self.log(err, containing: "\"GET /nope.txt HTTP/1.1\" 404 -")
        XCTAssertNotNil(log.range(of: #"127\.0\.0\.1 - - \[\d\d/\w\w\w/\d{4} \d\d:\d\d:\d\d\] "GET /hello\.txt HTTP/1\.1" 200 -"#, options: .regularExpression), log)
        XCTAssertTrue(log.contains("\"GET /nope.txt HTTP/1.1\" 404 -"), log)
    }

    func testMIMETypesHeadAndLastModified() throws {
        let port = try freePort()
        try serve("serve http dir: \"site\" port: \(port) quiet: true", port: port)
        let out = try py("""
        import requests
        b = "http://127.0.0.1:%d" % PORT
        for p in ["/hello.txt", "/data.json", "/image.png", "/big.bin", "/sub/", "/", "/a%20b%23c%3F.css"]:
            r = requests.get(b + p, headers={"Accept-Encoding": "identity"})   # lengths as sent (HTTPServerH2Tests: compression)
            print(p, r.status_code, r.headers["Content-Type"], r.headers["Content-Length"] == str(len(r.content)))
        h = requests.head(b + "/big.bin")
        print("HEAD", h.status_code, h.headers["Content-Length"], len(h.content), "Last-Modified" in h.headers)
        """, port: port)
        XCTAssertEqual(out, """
        /hello.txt 200 text/plain; charset=utf-8 True
        /data.json 200 application/json True
        /image.png 200 image/png True
        /big.bin 200 application/octet-stream True
        /sub/ 200 text/html; charset=utf-8 True
        / 200 text/html; charset=utf-8 True
        /a%20b%23c%3F.css 200 text/css; charset=utf-8 True
        HEAD 200 100000 0 True

        """)
    }

    func testLargeFilesStreamInConstantMemory() throws {
        let port = try freePort()
        let big = site.appendingPathComponent("large.bin")
        FileManager.default.createFile(atPath: big.path, contents: nil)
        let h = try FileHandle(forWritingTo: big)
        try h.truncate(atOffset: 300 << 20)   // 300 MiB, sparse
        try h.close()
        let (p, _, _) = try serve("serve http dir: \"site\" port: \(port) quiet: true", port: port)
        XCTAssertEqual(try curl(["-o", "/dev/null", "-w", "%{http_code} %{size_download}", "http://127.0.0.1:\(port)/large.bin"]),
                       "200 \(300 << 20)")
        XCTAssertEqual(try curl(["-o", "/dev/null", "-w", "%{http_code} %{size_download}", "-r", "1-2,200000000-",
                                 "http://127.0.0.1:\(port)/large.bin"]).prefix(4), "206 ")
        let status = try String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8)
        let peakKB = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) } ?? 0
        XCTAssertGreaterThan(peakKB, 0)
        XCTAssertLessThan(peakKB, 100_000, "the server's peak memory after sending 300 MiB: \(peakKB) kB")
    }

    func testASlowSteadyDownloadOutlastsTheIdleTimeout() throws {
        let port = try freePort()
        try Data(repeating: 0x61, count: 24 << 20).write(to: site.appendingPathComponent("slow.bin"))
        try serve("serve http dir: \"site\" port: \(port) quiet: true idle: 2", port: port)
        let out = try py("""
        import socket, time
        s = socket.create_connection(("127.0.0.1", PORT))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /slow.bin HTTP/1.0\\r\\n\\r\\n")
        got, start = 0, time.time()
        while True:
            b = s.recv(65536)
            if not b: break
            got += len(b)
            time.sleep(0.01)         # at most ~6 MiB/s: the transfer takes longer than idle: 2
        print(got - 24 * 1024 * 1024 > 0 and got - 24 * 1024 * 1024 < 1000)
        """, port: port, timeout: 120)
        XCTAssertEqual(out, "True\n", "the whole file (and its head) arrived")
    }

    // MARK: outside the root

    func testTraversalAttacksAreRefusedWithoutLeakingFiles() throws {
        let port = try freePort()
        let (_, _, err) = try serve("serve http dir: \"site\" port: \(port)", port: port)
        let out = try py(Self.rawClient + """
        attacks = [
            "/../etc/passwd", "/../../../../etc/passwd", "/%2e%2e/etc/passwd", "/%2E%2E/%2e%2e/etc/passwd",
            "/..%2f..%2f..%2fetc/passwd", "/..%2F..%2Fetc%2Fpasswd", "/sub/../../outside/secret.txt",
            "/sub/%2e%2e/%2e%2e/outside/secret.txt", "/%2fetc%2fpasswd", "/hello.txt%00.png", "/%00",
            "/leak.txt", "/leakdir/secret.txt", "/leakdir/", "/..\\\\..\\\\etc/passwd", "/./../outside/secret.txt",
            "http://x/../../etc/passwd", "/%252e%252e/etc/passwd", "/%zz",
        ]
        for a in attacks:
            r = raw(("GET " + a + " HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n").encode())
            head = r.split(b"\\r\\n", 1)[0].decode()
            leaked = b"root:" in r or b"TOP SECRET" in r
            print(a, head.split(" ")[1], "LEAK" if leaked else "ok")
        print(status(b"GET /inside.txt HTTP/1.0\\r\\n\\r\\n"))
        """, port: port)
        var lines = out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.removeLast(), "HTTP/1.0 200 OK", "a symlink inside the root is served")
        XCTAssertEqual(lines.count, 19)
        for line in lines {
            let f = line.split(separator: " ")
            XCTAssertTrue(["403", "404", "400"].contains(f[f.count - 2]), "not refused: \(line)")
            XCTAssertEqual(f.last, "ok", "file contents leaked: \(line)")
        }
        XCTAssertTrue(out.contains("/leak.txt 403 ok"), out)
        XCTAssertTrue(out.contains("/../etc/passwd 403 ok"), out)
        XCTAssertTrue(out.contains("/%2e%2e/etc/passwd 403 ok"), out)
        XCTAssertTrue(log(err, containing: "\"GET /hello.txt%00.png HTTP/1.1\" 404 -").contains("\"GET /hello.txt%00.png HTTP/1.1\" 404 -"), text(err))
    }

    // MARK: conditional requests and ranges

    func testNotModifiedRangesMultipartAndUnsatisfiable() throws {
        let port = try freePort()
        try serve("serve http dir: \"site\" port: \(port) quiet: true", port: port)
        let out = try py("""
        import requests, email
        b = "http://127.0.0.1:%d" % PORT
        lm = requests.get(b + "/hello.txt").headers["Last-Modified"]
        r = requests.get(b + "/hello.txt", headers={"If-Modified-Since": lm})
        print("ims", r.status_code, len(r.content))
        r = requests.get(b + "/hello.txt", headers={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})
        print("old ims", r.status_code, r.text.strip())
        data = bytes(i % 251 for i in range(100000))
        r = requests.get(b + "/big.bin", headers={"Range": "bytes=10-19"})
        print("one", r.status_code, r.headers["Content-Range"], r.content == data[10:20])
        r = requests.get(b + "/big.bin", headers={"Range": "bytes=-5"})
        print("suffix", r.status_code, r.headers["Content-Range"], r.content == data[-5:])
        r = requests.get(b + "/big.bin", headers={"Range": "bytes=99990-"})
        print("open", r.status_code, r.headers["Content-Range"], r.content == data[99990:])
        r = requests.get(b + "/big.bin", headers={"Range": "bytes=0-1,50-52,99999-"})
        ct = r.headers["Content-Type"]
        msg = email.message_from_bytes(b"Content-Type: " + ct.encode() + b"\\r\\n\\r\\n" + r.content)
        parts = [(p["Content-Range"], p.get_payload(decode=True)) for p in msg.get_payload()]
        print("multi", r.status_code, ct.split(";")[0], [p[0] for p in parts],
              [p[1] for p in parts] == [data[0:2], data[50:53], data[99999:]], int(r.headers["Content-Length"]) == len(r.content))
        r = requests.get(b + "/big.bin", headers={"Range": "bytes=200000-"})
        print("416", r.status_code, r.headers["Content-Range"])
        r = requests.get(b + "/big.bin", headers={"Range": "bytes=oops"})
        print("bad", r.status_code, len(r.content))
        r = requests.get(b + "/big.bin", headers={"Range": "bytes=0-3", "If-Range": "Thu, 01 Jan 1970 00:00:00 GMT"})
        print("if-range", r.status_code, len(r.content))
        """, port: port)
        XCTAssertEqual(out, """
        ims 304 0
        old ims 200 hello
        one 206 bytes 10-19/100000 True
        suffix 206 bytes 99995-99999/100000 True
        open 206 bytes 99990-99999/100000 True
        multi 206 multipart/byteranges ['bytes 0-1/100000', 'bytes 50-52/100000', 'bytes 99999-99999/100000'] True True
        416 416 bytes */100000
        bad 200 100000
        if-range 200 100000

        """)
    }

    // MARK: connections

    func testKeepAliveAndPipeliningOnOneConnection() throws {
        let port = try freePort()
        let (p, out, _) = try serve("s = serve http dir: \"site\" port: \(port) quiet: true requests: 8\nprint s.requests s.connections", port: port)
        let client = try py(Self.rawClient + """
        import requests
        r = raw(b"GET /hello.txt HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /data.json HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nHEAD /hello.txt HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /hello.txt HTTP/1.0\\r\\n\\r\\n")
        print(r.count(b"HTTP/1.1 200 OK"), r.count(b"HTTP/1.0 200 OK"), r.count(b"hello\\n"), r.count(b'{"a": 1}'))
        s = requests.Session()
        print([s.get("http://127.0.0.1:%d/hello.txt" % PORT).status_code for _ in range(4)])
        """, port: port)
        XCTAssertEqual(client, "3 1 2 1\n[200, 200, 200, 200]\n")
        waitForExit(p)
        // Three connections: the readiness probe, the pipelined four requests, the four keep-alive ones.
        XCTAssertEqual(text(out), "8 3\n")
    }

    /// A small file sent again on a keep-alive connection is not re-read while it is unchanged,
    /// but a change — even to the same size within the same second — is served at once, and so
    /// is a file replaced by a symlink leading out of the root (refused).
    func testRepeatedFileOnOneConnectionSeesEveryChange() throws {
        let port = try freePort()
        let (p, _, _) = try serve("serve http dir: \"site\" port: \(port) quiet: true requests: 7", port: port)
        let file = site.appendingPathComponent("often.txt").path
        try "version 1\n".write(toFile: file, atomically: false, encoding: .utf8)
        let client = try py("""
        import os, requests
        s = requests.Session()
        url = "http://127.0.0.1:%d/often.txt" % PORT
        path = \(String(reflecting: file))
        out = [s.get(url).text, s.get(url).text]
        with open(path, "w") as f: f.write("version 2\\n")      # same size, same second
        out.append(s.get(url).text)
        with open(path, "w") as f: f.write("version three\\n")
        out.append(s.get(url).text)
        os.remove(path); os.symlink("../outside/secret.txt", path)
        r = s.get(url)
        out.append(str(r.status_code) + (" leaked" if "SECRET" in r.text else ""))
        print(out)
        """, port: port)
        XCTAssertEqual(client, "['version 1\\n', 'version 1\\n', 'version 2\\n', 'version three\\n', '403']\n")
        _ = p
    }

    func testConcurrentClientsWhileAThousandConnectionsSitIdle() throws {
        let port = try freePort()
        try serve("serve http dir: \"site\" port: \(port) quiet: true", port: port)
        let out = try py("""
        import socket, requests, concurrent.futures
        idle = []
        for i in range(1000):
            idle.append(socket.create_connection(("127.0.0.1", PORT)))
        idle[0].sendall(b"GET /hel")        # half a request, never finished
        def get(i):
            r = requests.get("http://127.0.0.1:%d/big.bin" % PORT, timeout=20)
            return r.status_code == 200 and len(r.content) == 100000
        with concurrent.futures.ThreadPoolExecutor(32) as ex:
            results = list(ex.map(get, range(200)))
        print(sum(results), len(idle))
        for s in idle: s.close()
        """, port: port, timeout: 120)
        XCTAssertEqual(out, "200 1000\n")
    }

    func testLimitsConnectionCountIdleTimeoutAndBodySize() throws {
        let port = try freePort()
        try serve("serve http dir: \"site\" port: \(port) max_connections: 3 idle: 1 max_body: 1000 routes: {\"POST /up\": fn(req) { len req.body }}", port: port)
        let out = try py(Self.rawClient + """
        import time
        held = [socket.create_connection(("127.0.0.1", PORT)) for _ in range(3)]
        time.sleep(0.2)
        print(status(b"GET /hello.txt HTTP/1.0\\r\\n\\r\\n"))
        for s in held: s.close()
        time.sleep(0.3)
        print(status(b"GET /hello.txt HTTP/1.0\\r\\n\\r\\n"))
        s = socket.create_connection(("127.0.0.1", PORT))
        t = time.time(); s.settimeout(10)
        print("idle closed", s.recv(100) == b"")
        print(status(b"POST /up HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\n\\r\\nhello"))
        r = raw(b"POST /up HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 1000000000\\r\\n\\r\\n" + b"x" * 100000)
        print(r.split(b"\\r\\n", 1)[0].decode(), b"Connection: close" in r)
        r = raw(b"POST /up HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n" + b"400\\r\\n" + b"x" * 1024 + b"\\r\\n0\\r\\n\\r\\n")
        print(r.split(b"\\r\\n", 1)[0].decode())
        """, port: port)
        XCTAssertEqual(out, """
        HTTP/1.1 503 Service Unavailable
        HTTP/1.0 200 OK
        idle closed True
        HTTP/1.1 200 OK
        HTTP/1.1 413 Payload Too Large True
        HTTP/1.1 413 Payload Too Large

        """)
    }

    func testGarbageAndOversizedHeadsAreRefusedAndServingGoesOn() throws {
        let port = try freePort()
        let (_, _, err) = try serve("serve http dir: \"site\" port: \(port)", port: port)
        let out = try py(Self.rawClient + """
        print(status(b"garbage\\r\\n\\r\\n"))
        print(status(bytes(range(256)) * 4))
        print(status(b"GET / HTTP/1.1\\r\\nHost: x\\r\\nX-Big: " + b"a" * 200000 + b"\\r\\n\\r\\n"))
        print(status(b"GET / HTTP/1.1\\r\\n" + b"".join(b"X-%d: y\\r\\n" % i for i in range(500)) + b"\\r\\n"))
        print(status(b"GET /" + b"a" * 100000 + b" HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"))
        print(status(b"GET /hello.txt HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"))
        """, port: port)
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count == 7 else { return XCTFail(out) }
        XCTAssertEqual(lines[0], "HTTP/1.1 400 Bad Request")
        XCTAssertEqual(lines[1], "HTTP/1.1 400 Bad Request")
        XCTAssertEqual(lines[2], "HTTP/1.1 431 Request Header Fields Too Large")
        XCTAssertEqual(lines[3], "HTTP/1.1 431 Request Header Fields Too Large")
        XCTAssertEqual(lines[4], "HTTP/1.1 414 URI Too Long")
        XCTAssertEqual(lines[5], "HTTP/1.1 200 OK")
        XCTAssertTrue(log(err, containing: "code 400, message Bad Request").contains("code 400, message Bad Request"), text(err))
        XCTAssertTrue(log(err, containing: "code 431").contains("code 431"), text(err))
    }

    /// Every answer is delimited and every request answered at once: CONNECT (not a proxy)
    /// gets 501 and a close; an HTTP/0.9 request line gets 400 (as nginx); HTTP/1.1 without
    /// Host or with two gets 400 (RFC 9112 §3.2); a request line over the limit gets 414.
    func testRequestLineAndHostEdgeCases() throws {
        let port = try freePort()
        let (_, _, err) = try serve("serve http dir: \"site\" port: \(port)", port: port)
        let out = try py(Self.rawClient + """
        def closed(data):
            r = raw(data, quiet=5.0)
            return r.split(b"\\r\\n", 1)[0].decode(), len(r) > 0
        t0 = time.time()
        print(closed(b"CONNECT example.test:443 HTTP/1.1\\r\\nHost: example.test:443\\r\\n\\r\\nGET /hello.txt HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"))
        print(closed(b"GET /hello.txt\\r\\n"))
        print(time.time() - t0 < 4)
        print(status(b"GET /hello.txt HTTP/1.1\\r\\n\\r\\n"))
        print(status(b"GET /hello.txt HTTP/1.1\\r\\nHost: a\\r\\nHost: b\\r\\n\\r\\n"))
        print(status(b"GET /hello.txt HTTP/1.0\\r\\n\\r\\n"))
        print(status(b"GET /" + b"a" * 70000 + b" HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"))
        print(status(b"GET /" + b"a" * 70000))
        print(status(b"\\r\\nGET /hello.txt HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"))
        """, port: port)
        XCTAssertEqual(out, """
        ('HTTP/1.1 501 Not Implemented', True)
        ('HTTP/1.1 400 Bad Request', True)
        True
        HTTP/1.1 400 Bad Request
        HTTP/1.1 400 Bad Request
        HTTP/1.0 200 OK
        HTTP/1.1 414 URI Too Long
        HTTP/1.1 414 URI Too Long
        HTTP/1.1 200 OK

        """)
        XCTAssertTrue(log(err, containing: "HTTP/0.9").contains("code 400, message Bad Request (HTTP/0.9 request line"), text(err))
        XCTAssertTrue(log(err, containing: "code 414").contains("code 414, message URI Too Long"), text(err))
    }

    func testSeededMutatedRequestsNeverStopTheServer() throws {
        let port = try freePort()
        let (p, _, _) = try serve("serve http dir: \"site\" port: \(port) quiet: true routes: {\"POST /echo\": fn(req) { req.json }, \"GET /u/:id\": fn(req) { req.params }}", port: port)
        let out = try py(Self.rawClient + """
        import random
        rng = random.Random(6)
        seeds = [b"GET /hello.txt HTTP/1.1\\r\\nHost: x\\r\\nRange: bytes=0-3,5-\\r\\n\\r\\n",
                 b"POST /echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 8\\r\\n\\r\\n{\\"a\\": 1}",
                 b"GET /u/%41%zz?x=%ff HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\n\\r\\n",
                 b"HEAD /sub/ HTTP/1.0\\r\\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\\r\\n\\r\\n"]
        codes = {}
        for i in range(300):
            m = bytearray(rng.choice(seeds))
            for _ in range(rng.randint(1, 6)):
                op, at = rng.randrange(3), rng.randrange(len(m))
                if op == 0: m[at] = rng.randrange(256)
                elif op == 1: m[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
                else: del m[at:at + rng.randint(1, 8)]
            r = raw(bytes(m), quiet=0.3)
            code = r[9:12].decode("latin-1") if r.startswith(b"HTTP/1.") else "none"
            codes[code] = codes.get(code, 0) + 1
        print(sum(codes.values()), status(b"GET /hello.txt HTTP/1.0\\r\\n\\r\\n"))
        """, port: port, timeout: 300)
        XCTAssertEqual(out, "300 HTTP/1.0 200 OK\n")
        XCTAssertTrue(p.isRunning)
    }

    // MARK: handlers in the language

    static let routesScript = """
    route "GET" "/boom" fn(req) { m = {}; m["missing"] }
    route "/stop" fn() { stop; "bye\\n" }
    s = serve http port: PORT dir: "site" routes: {
        "GET /users/:id": fn(req) { {id: int req.params.id, method: req.method} },
        "POST /echo": fn(req) { req.json },
        "GET /hello/:name": fn(req) { "hello {req.params.name}\\n" },
        "GET /page": fn(req) { "<p>page</p>" },
        "GET /info": fn(req) { {path: req.path, query: req.query, agent: req.headers["user-agent"], client: req.client_address, body: req.body} },
        "PUT /items/:id": fn(req) { http.response status: 201 json: {id: req.params.id, got: req.body} headers: {Location: "/items/{req.params.id}"} },
        "GET /bytes": fn(req) { b"\\x00\\x01" },
        "GET /empty": fn(req) { nil },
        "GET /files/*": fn(req) { req.params.rest },
        "GET /hello.txt": "routes come before files\\n",
    }
    print "served" s.requests s.routed
    """

    func testRoutesJSONPathParamsAndHandlerErrors() throws {
        let port = try freePort()
        let (p, out, err) = try serve(Self.routesScript.replacingOccurrences(of: "PORT", with: "\(port)"), port: port)
        let client = try py("""
        import requests
        b = "http://127.0.0.1:%d" % PORT
        r = requests.post(b + "/echo", json={"a": 1, "b": [1, "x"], "c": {"d": None}})
        print(r.status_code, r.headers["Content-Type"], r.json())
        r = requests.get(b + "/users/42"); print(r.status_code, r.json())
        r = requests.head(b + "/users/42"); print("head", r.status_code, len(r.content))
        r = requests.get(b + "/hello/w%C3%B6rld%20x"); print(r.status_code, r.headers["Content-Type"], r.text.strip())
        r = requests.get(b + "/page"); print(r.headers["Content-Type"], r.text)
        r = requests.get(b + "/info?x=1&y=a+b%21&z", headers={"User-Agent": "t/1"}); print(r.json())
        r = requests.put(b + "/items/7", data="payload"); print(r.status_code, r.headers["Location"], r.json())
        r = requests.get(b + "/bytes"); print(r.headers["Content-Type"], r.content)
        r = requests.get(b + "/empty"); print(r.status_code, r.content)
        r = requests.get(b + "/files/a/b%20c"); print(r.text)
        r = requests.get(b + "/boom"); print("boom", r.status_code)
        r = requests.get(b + "/users/43"); print("after", r.status_code, r.json()["id"])
        r = requests.post(b + "/echo", data="{not json"); print("bad json", r.status_code)
        r = requests.delete(b + "/echo"); print("delete", r.status_code, r.headers["Allow"])
        r = requests.get(b + "/hello.txt"); print(r.text.strip())
        r = requests.get(b + "/sub/"); print(r.text.strip())
        r = requests.get(b + "/stop"); print(r.text.strip())
        """, port: port)
        XCTAssertEqual(client, """
        200 application/json {'a': 1, 'b': [1, 'x'], 'c': {'d': None}}
        200 {'id': 42, 'method': 'GET'}
        head 200 0
        200 text/plain; charset=utf-8 hello wörld x
        text/html; charset=utf-8 <p>page</p>
        {'path': '/info', 'query': {'x': '1', 'y': 'a b!', 'z': ''}, 'agent': 't/1', 'client': '127.0.0.1', 'body': ''}
        201 /items/7 {'id': '7', 'got': 'payload'}
        application/octet-stream b'\\x00\\x01'
        204 b''
        a/b c
        boom 500
        after 200 43
        bad json 400
        delete 405 POST
        routes come before files
        <h1>sub</h1>
        bye

        """)
        waitForExit(p)
        XCTAssertEqual(p.terminationStatus, 0, text(err))
        XCTAssertEqual(text(out).split(separator: "\n").last, "served 17 15")
        XCTAssertTrue(log(err, containing: "code 500, message handler for GET /boom failed at -e:1:39: error[key]").contains("code 500, message handler for GET /boom failed at -e:1:39: error[key]"), text(err))
        XCTAssertTrue(log(err, containing: "\"GET /boom HTTP/1.1\" 500 -").contains("\"GET /boom HTTP/1.1\" 500 -"), text(err))
    }

    func testTraceShowsRequestAndResponseHeads() throws {
        let port = try freePort()
        let (p, _, err) = try serve("trace on\nserve http port: \(port) requests: 1 quiet: true routes: {\"POST /echo\": fn(req) { req.json }}", port: port)
        XCTAssertEqual(try curl(["-d", "{\"a\":1}", "-H", "Content-Type: application/json", "http://127.0.0.1:\(port)/echo"]), "{\"a\":1}\n")
        waitForExit(p)
        let trace = text(err)
        XCTAssertTrue(trace.contains("C: POST /echo HTTP/1.1\nC: Host: 127.0.0.1:\(port)\n"), trace)
        XCTAssertTrue(trace.contains("C: (7 bytes of body)"), trace)
        XCTAssertTrue(trace.contains("S: HTTP/1.1 200 OK\nS: Server: NetScript\n"), trace)
        XCTAssertTrue(trace.contains("S: Content-Type: application/json\nS: Content-Length: 8\nS: (8 bytes of body)"), trace)
    }

    func testCtrlCStopsTheServer() throws {
        let port = try freePort()
        let (p, _, _) = try serve("serve http dir: \"site\" port: \(port)", port: port)
        XCTAssertEqual(try curl(["http://127.0.0.1:\(port)/hello.txt"]), "hello\n")
        kill(p.processIdentifier, SIGINT)
        waitForExit(p)
        XCTAssertEqual(p.terminationStatus, 130)
    }

    func testHTTPSWithAGeneratedCertificate() throws {
        let openssl = try tool("openssl")
        let dir = site.deletingLastPathComponent()
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let gen = try runProcess(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                                           "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        XCTAssertEqual(gen.status, 0, gen.stderr)
        let port = try freePort()
        let (_, out, _) = try serve("serve http dir: \"site\" port: \(port) cert: \"cert.pem\" key: \"key.pem\" routes: {\"POST /echo\": fn(req) { req.json }}", port: port)
        let client = try py("""
        import requests, hashlib
        b = "https://127.0.0.1:%d" % PORT
        r = requests.get(b + "/big.bin", verify="\(cert)")
        print(r.status_code, len(r.content), r.content == bytes(i % 251 for i in range(100000)))
        r = requests.get(b + "/big.bin", headers={"Range": "bytes=0-1,99998-"}, verify="\(cert)")
        print(r.status_code, r.headers["Content-Type"].split(";")[0], int(r.headers["Content-Length"]) == len(r.content))
        print(requests.post(b + "/echo", json={"tls": True}, verify="\(cert)").json())
        try:
            requests.get(b + "/hello.txt", timeout=5)
            print("unverified accepted")
        except requests.exceptions.SSLError:
            print("unknown CA refused by the client")
        """, port: port)
        XCTAssertEqual(client, "200 100000 True\n206 multipart/byteranges True\n{'tls': True}\nunknown CA refused by the client\n")
        XCTAssertEqual(try curl(["--cacert", cert, "https://127.0.0.1:\(port)/hello.txt"]), "hello\n")
        XCTAssertTrue(text(out).hasPrefix("Serving HTTPS on 127.0.0.1 port \(port) (https://127.0.0.1:\(port)/)"), text(out))
        let bad = try runProcess(exe, ["-e", "serve http port: 0 cert: \"\(cert)\" key: \"\(cert)\""])
        XCTAssertTrue(bad.stderr.contains("error[tls]: serve http: the key file \(cert) holds no PEM private key"), bad.stderr)
    }

    func testBadOptionsAreNamedErrors() throws {
        let r1 = try runProcess(exe, ["-e", "serve http dir: \"/nonexistent-dir\" port: 0"])
        XCTAssertEqual(r1.status, 1)
        XCTAssertTrue(r1.stderr.contains("error[io]: serve http: directory /nonexistent-dir does not exist"), r1.stderr)
        let r2 = try runProcess(exe, ["-e", "serve http routes: {\"GET users\": fn(req) { 1 }}"])
        XCTAssertTrue(r2.stderr.contains("error[value]: serve http: the route path \"users\" must start with /"), r2.stderr)
        let r3 = try runProcess(exe, ["-e", "print (http.response status: 201 json: {a: 1} headers: {X: 1}).headers"])
        XCTAssertEqual(r3.stdout, "{\"Content-Type\": \"application/json\", X: \"1\"}\n", r3.stderr)
    }
}
