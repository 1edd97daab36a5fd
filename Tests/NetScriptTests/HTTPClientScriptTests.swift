import Foundation
import XCTest
import NetKit

/// The http.* commands through the built `netscript`, against nginx and the Python echo
/// server (Tests/peers) on loopback: the issue's contract lines exactly, then each option and
/// error kind as a script sees it.
final class HTTPClientScriptTests: XCTestCase {
    static let peersDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("peers")
    var exe = ""
    var dir: URL!
    var peers: [Process] = []
    var port = 0, tlsPort = 0, echoPort = 0

    func start(_ path: String, _ args: [String]) throws {
        let p = try startQuiet(path, args)
        peers.append(p)
    }

    override func setUpWithError() throws {
        exe = try NetScriptBinary.path()
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") || FileManager.default.isExecutableFile(atPath: "/usr/bin/nginx") else {
            throw XCTSkip("nginx is not installed")
        }
        let py = try runProcess("/usr/bin/env", ["python3", "-c", "import sys; print(sys.executable)"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !py.isEmpty else { throw XCTSkip("python3 is not installed") }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-httpc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let certs = try runProcess("/bin/sh", ["-c", """
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=NetScript Test CA" 2>/dev/null &&
            openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=localhost" 2>/dev/null &&
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf &&
            openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf 2>/dev/null
            """], cwd: dir)
        guard certs.status == 0 else { throw XCTSkip("openssl could not make certificates") }
        port = try freePort(); tlsPort = try freePort(); echoPort = try freePort()
        // ECHO_PORT: paths that are not files go on to the echo server, so T reaches it over HTTPS too.
        try start("/usr/bin/env", ["ECHO_PORT=\(echoPort)", "/bin/sh", Self.peersDir.appendingPathComponent("nginx_http.sh").path, dir.path, "\(port)", "\(tlsPort)"])
        try start(py, [Self.peersDir.appendingPathComponent("http_echo.py").path, "\(echoPort)"])
        waitForPort(port); waitForPort(tlsPort); waitForPort(echoPort)
    }

    override func tearDown() {
        stopProcesses(peers)
        peers = []
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// Runs a script with N (nginx), E (echo server), T (TLS port) and D (the temp dir) defined.
    func run(_ code: String, args: [String] = [], timeout: TimeInterval = 30) throws -> RunResult {
        let prelude = "N = \"http://127.0.0.1:\(port)\"\nE = \"http://127.0.0.1:\(echoPort)\"\nT = \"https://127.0.0.1:\(tlsPort)\"\nD = \"\(dir.path)\"\n"
        return try runProcess(exe, args + ["-e", prelude + code], timeout: timeout)
    }

    func check(_ code: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try run(code)
        XCTAssertEqual(r.stdout, expected, "stderr: \(r.stderr)\n" + lineDiff(expected: expected, actual: r.stdout), file: file, line: line)
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
    }

    // MARK: the contract

    func testContractLines() throws {
        // Exactly the issue's lines, with the servers on their ports.
        let get = try runProcess(exe, ["-e", "r = http.get \"http://127.0.0.1:\(port)/hello.txt\"\nprint r.status_code r.headers[\"content-type\"] r.text"])
        XCTAssertEqual(get.stdout, "200 text/plain hello, world\n\n", get.stderr)
        let post = try runProcess(exe, ["-e", "r = http.post \"http://127.0.0.1:\(echoPort)/echo\" json: {a: 1}\nprint r.json.a"])
        XCTAssertEqual(post.stdout, "1\n", post.stderr)
        XCTAssertEqual(post.status, 0)
    }

    // MARK: requests

    func testMethodsParamsBodiesAndHeaders() throws {
        try check("""
            print (http.get "{E}/inspect").json.method
            print (http.post "{E}/inspect").json.method
            print (http.put "{E}/inspect").json.method
            print (http.patch "{E}/inspect").json.method
            print (http.delete "{E}/inspect").json.method
            print (http.options "{E}/inspect").json.method
            print (http.head "{E}/inspect").status_code ((http.head "{E}/inspect").text == "")
            print (http.request "PROPFIND" "{E}/inspect").json.method
            r = http.get "{E}/inspect" params: {q: "a b&c", n: 2, tag: ["x", "y"]}
            print r.json.query
            r = http.post "{E}/inspect" data: {name: "Ada", lang: "en"}
            print r.json.form.name r.json.headers["content-type"]
            print (http.put "{E}/inspect" data: "raw text").json.body
            print (http.post "{E}/inspect" json: {list: [1, 2], s: "é"}).json.json
            r = http.post "{E}/inspect" data: {note: "hi"} files: {up: {filename: "a.txt", content: "file body"}, two: ["b.csv", "x,y"]}
            print r.json.form.note r.json.files.up.filename r.json.files.up.content r.json.files.two.type
            r = http.get "{E}/inspect" headers: {"X-One": "1", "User-Agent": "tester/2"}
            print r.json.headers["x-one"] r.json.headers["user-agent"]
            """, """
            GET
            POST
            PUT
            PATCH
            DELETE
            OPTIONS
            200 true
            PROPFIND
            q=a+b%26c&n=2&tag=x&tag=y
            Ada application/x-www-form-urlencoded
            raw text
            {list: [1, 2], s: "é"}
            hi a.txt file body text/csv
            1 tester/2

            """)
    }

    func testResponseFieldsHeadersAndText() throws {
        try check("""
            r = http.get "{N}/hello.txt"
            print r.ok r.reason r.url r.version
            print r.headers["content-type"] r.headers["Content-Type"] r.headers["CONTENT-TYPE"] ("content-type" in r.headers) r.headers["x-missing"]
            print (type r.content) (len r.content) (type r.elapsed) (len r.history) r.size
            print (http.get "{E}/latin1").text (http.get "{E}/latin1").encoding
            print (len (split (trim (http.get "{E}/chunked").text) "\n"))
            print (len (http.get "{E}/gzip").text)
            try { (http.get "{E}/notjson").json } catch e { print e.kind e.message }
            print (http.get "{E}/status/404").ok (http.get "{E}/status/404").status_code
            """, """
            true OK \("http://127.0.0.1:\(port)")/hello.txt HTTP/1.1
            text/plain text/plain text/plain true nil
            bytes 13 float 0 13
            café iso-8859-1
            100
            16000
            value GET http://127.0.0.1:\(echoPort)/notjson: the body is not JSON (unexpected character at line 1, column 1)
            false 404

            """.replacingOccurrences(of: "\("http://127.0.0.1:\(port)")", with: "http://127.0.0.1:\(port)"))
    }

    /// Headers and responses read like maps: keys, values, items, for k, v in, in, [name], json.
    func testHeadersAndResponsesReadLikeMaps() throws {
        try check("""
            r = http.get "{N}/hello.txt"
            h = r.headers
            c = len h
            print (c > 3) (c == len (keys h)) (c == len (values h)) (c == len (items h))
            print ("Content-Type" in (keys h)) h["Content-Type"] ("text/plain" in (values h))
            n = 0
            for k, v in h { if k == "Content-Type" { print "pair" k v }; n += 1 }
            print (n == c)
            j = json.parse (json h)
            print (len j == c) j["Content-Type"] r["status_code"] r["headers"]["content-type"]
            print ("status_code" in r) ("json" in (keys r)) (items r)[0]
            for k, v in r { if k == "json" { print "json of a text body:" v } }
            print (json.parse (json r)).status_code
            """, """
            true true true true
            true text/plain true
            pair Content-Type text/plain
            true
            true text/plain 200 text/plain
            true true ["status_code", 200]
            json of a text body: nil
            200

            """)
    }

    func testAuthRedirectsAndCheck() throws {
        try check("""
            print (http.get "{E}/basic" auth: ["user", "pass"]).text (http.get "{E}/basic").status_code
            print (http.get "{E}/bearer" auth: "s3cret").text
            r = http.get "{N}/moved"
            print r.status_code r.url (map fn(h) { h.status_code } r.history)
            print (http.get "{N}/moved" redirects: false).status_code
            try { http.get "{E}/redirect/5" redirects: 2 } catch e { print e.kind e.url }
            print (http.get "{E}/redirect/3").text
            try { http.check (http.get "{E}/status/503") } catch "http.status" e { print e.kind e.status_code e.message }
            print (http.check (http.get "{N}/hello.txt")).status_code
            """, """
            welcome 401
            ok
            200 http://127.0.0.1:\(port)/hello.txt [301]
            301
            http.redirects http://127.0.0.1:\(echoPort)/redirect/5
            arrived
            http.status 503 GET http://127.0.0.1:\(echoPort)/status/503: 503 Service Unavailable (server error)
            200

            """)
    }

    func testSessionKeepsCookiesAndDefaults() throws {
        try check("""
            s = http.session headers: {"X-Client": "tour"}
            s.get "{E}/setcookie?flavour=oat"
            print s.cookies
            print (s.get "{E}/cookies").json
            print (s.get "{E}/inspect").json.headers["x-client"]
            s.headers["X-Later"] = "yes"
            print (http.get "{E}/inspect" session: s).json.headers["x-later"]
            print (http.get "{E}/cookies").json
            s.clear_cookies
            print (s.get "{E}/cookies").json s.requests
            """, """
            {flavour: "oat"}
            {flavour: "oat"}
            tour
            yes
            {}
            {} 5

            """)
    }

    func testDownloadTLSTimeoutsAndErrors() throws {
        try check("""
            r = http.download "{N}/hello.txt" "{D}/got.txt"
            print r.size r.file (read "{D}/got.txt")
            print (http.download "{N}/hello.txt" "/dev/null").size
            try { http.download "{E}/status/404" "{D}/nope.txt" } catch e { print e.kind (exists "{D}/nope.txt") }
            print (http.get "{T}/hello.txt" ca: "{D}/ca.pem").text
            try { http.get "{T}/hello.txt" } catch e { print e.kind e.url }
            print (http.get "{T}/hello.txt" verify: false).status_code
            try { http.get "{E}/stall-head" timeout: 0.5 } catch e { print e.kind }
            try { http.get "{E}/stall-body" timeout: 0.5 } catch e { print e.kind }
            try { http.get "{E}/close-early" } catch e { print e.kind }
            try { http.get "{E}/big-header" } catch e { print e.kind }
            try { http.get "{E}/huge-body?n=5000000" max: 1000000 } catch e { print e.kind }
            try { http.get "http://127.0.0.1:1/" } catch e { print e.kind e.url }
            try { http.get "http://no-such-host.invalid/" } catch e { print e.kind }
            try { http.get "{E}/inspect" headers: {"X-Evil": "a\\r\\nInjected: 1"} } catch e { print e.kind }
            try { http.get "{E}/inspect\\r\\nX: 1" } catch e { print e.kind }
            print (http.get "{E}/flaky?id=s&fail=1" retries: 2).text
            """, """
            13 \(dir.path)/got.txt hello, world

            13
            http.status false
            hello, world

            http.tls https://127.0.0.1:\(tlsPort)/hello.txt
            200
            http.timeout
            http.timeout
            http.protocol
            http.protocol
            value
            refused http://127.0.0.1:1/
            resolve
            value
            value
            ok after 2

            """)
    }

    /// `http.raw`: a request typed by hand, the response as nginx and the echo server sent it —
    /// head in order and spelling, the body by its framing (chunk lines kept, gzip not decoded).
    func testRawRequestAndResponseAsReceived() throws {
        let n = "127.0.0.1:\(port)", e = "127.0.0.1:\(echoPort)"
        try check("""
            r = http.raw "\(n)" ["GET /hello.txt HTTP/1.1", "Host: x", "Connection: close"]
            print r.status_line r.version r.status_code r.reason r.framing (repr r.text) r.truncated
            print r.headers[0][0] (len r.headers[0]) ("Content-Length: 13" in (split r.head "\\r\\n"))
            r = http.raw "\(n)" "HEAD /hello.txt HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
            print r.status_code r.framing (len r.body)
            r = http.raw "\(e)" "GET /chunked HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
            print r.framing (startswith r.text "7\\r\\nline 0\\n\\r\\n") (endswith r.text "\\r\\n0\\r\\n\\r\\n")
            r = http.raw "\(e)" ["GET /gzip HTTP/1.1", "Host: x", "Accept-Encoding: gzip"]
            print r.framing (r.body[0:2] == (hex.decode "1f8b"))
            r = http.raw "\(n)" "GET /hello.txt HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" max: 5
            print r.truncated (repr r.text)
            r = http.raw "\(n)" "BREW /pot HTTP/1.1\\r\\n\\r\\n"
            print r.status_code
            """, """
            HTTP/1.1 200 OK HTTP/1.1 200 OK content-length "hello, world\\n" false
            Server 2 true
            200 none 0
            chunked true true
            content-length true
            true "hello"
            400

            """)
    }

    /// Built from lines, a CR or LF inside a line is refused (header injection); a string
    /// without its empty line is refused (the server would wait); sizes and timeouts are bounded.
    func testRawRequestRefusesInjectionAndIncompleteHeads() throws {
        let n = "127.0.0.1:\(port)"
        try check("""
            try { http.raw "\(n)" ["GET / HTTP/1.1", "Host: x\\r\\nX-Evil: 1"] } catch e { print e.kind (contains e.message "CR or LF") }
            try { http.raw "\(n)" ["GET / HTTP/1.1", ""] } catch e { print e.kind }
            try { http.raw "\(n)" "GET / HTTP/1.1\\r\\nHost: x\\r\\n" } catch e { print e.kind (contains e.message "no end of head") }
            try { http.raw "\(n)" "GET / HTTP/1.1\\r\\n\\r\\n" max: -1 } catch e { print e.kind }
            try { http.raw "127.0.0.1:1" "GET / HTTP/1.1\\r\\n\\r\\n" } catch e { print e.kind }
            """, """
            value true
            value
            value true
            value
            refused

            """)
        // A server that never answers: http.timeout after timeout:, not a hang.
        let quiet = try Listener.listen("127.0.0.1:0")
        defer { quiet.close() }
        let r = try run("try { http.raw \"\(quiet.localText)\" \"GET / HTTP/1.1\\r\\n\\r\\n\" timeout: 0.5 } catch e { print e.kind }")
        XCTAssertEqual(r.stdout, "http.timeout\n", r.stderr)
    }

    /// trace shows the typed head and the head received, glossed like the built-in client's.
    func testRawExchangeIsTracedAndExplained() throws {
        let r = try run("""
            r = http.raw "127.0.0.1:\(echoPort)" ["GET /chunked HTTP/1.1", "Host: x", "Authorization: Basic dXNlcjpwYXNz"]
            trace explain
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("C: GET /chunked HTTP/1.1\nC: Host: x\nC: Authorization: Basic ********"), r.stdout)
        XCTAssertFalse(r.stdout.contains("dXNlcjpwYXNz"), r.stdout)
        XCTAssertTrue(r.stdout.contains("TCP connect"), r.stdout)
        XCTAssertTrue(r.stdout.contains("S: HTTP/1.") && r.stdout.contains("200"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Transfer-Encoding: chunked: the body comes in pieces"), r.stdout)
    }

    /// A request sent over a connection kept alive from the one before is noted and glossed; a
    /// first request is not. (AsyncHTTPClient's HTTP/1.1 path notes it the same way: NetKit's
    /// testPlainHTTPPathMatchesAsyncHTTPClient; HTTP/2 multiplexes and is not noted.)
    func testReuseOfAKeptAliveConnectionIsGlossed() throws {
        for (base, extra) in [("N", "")] {
            let r = try run("""
                s = http.session\(extra)
                r = s.get "{\(base)}/hello.txt"
                trace explain
                r = s.get "{\(base)}/hello.txt"
                trace explain
                """)
            XCTAssertEqual(r.status, 0, r.stderr)
            let parts = r.stdout.components(separatedBy: "C: GET /hello.txt")
            XCTAssertEqual(parts.count, 3, r.stdout)
            XCTAssertFalse(parts[0].contains("reusing"), "\(base): the first request opens its connection: \(r.stdout)")
            XCTAssertTrue(parts[1].contains("*: reusing the kept-alive connection to 127.0.0.1:"), "\(base): \(r.stdout)")
            XCTAssertTrue(parts[1].contains("↳ keep-alive: this request goes over a TCP connection already open"), "\(base): \(r.stdout)")
        }
    }

    func testDownloadWithoutATerminalShowsNoProgressBar() throws {
        let r = try run("""
            s = http.session
            r = s.download "{N}/hello.txt" "{D}/quiet.txt"
            print r.size (exists "{D}/quiet.txt.part")
            """)
        XCTAssertEqual(r.stdout, "13 false\n")
        XCTAssertEqual(r.stderr, "", "stderr is not a terminal here: no progress bar")
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("quiet.txt"), encoding: .utf8), "hello, world\n")
    }

    func testTraceShowsHeadsAndMasksAuthorization() throws {
        let r = try run("""
            trace on
            r = http.post "{E}/inspect" json: {a: 1} auth: ["user", "pass"]
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("C: POST /inspect HTTP/1.1"), r.stderr)
        XCTAssertTrue(r.stderr.contains("C: Authorization: Basic ********"), r.stderr)
        XCTAssertFalse(r.stderr.contains("dXNlcjpwYXNz"), r.stderr)
        XCTAssertTrue(r.stderr.contains("C: … 7 bytes"), r.stderr)
        XCTAssertTrue(r.stderr.contains("S: HTTP/1.1 200 OK"), r.stderr)
        XCTAssertTrue(r.stderr.contains("S: Content-Type: application/json"), r.stderr)
        XCTAssertTrue(r.stderr.range(of: #"S: … [0-9,]+ bytes"#, options: .regularExpression) != nil, r.stderr)
    }

    func testErrorsNameTheURLWhenUncaught() throws {
        let r = try run("http.get \"http://127.0.0.1:1/x\"")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("error[refused]"), r.stderr)
        XCTAssertTrue(r.stderr.contains("http://127.0.0.1:1/x"), r.stderr)
        let h = try run("help http.get")
        XCTAssertTrue(h.stdout.contains("http.get URL"), h.stdout)
    }
}
