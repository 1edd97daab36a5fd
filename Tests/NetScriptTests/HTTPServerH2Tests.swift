import Foundation
import XCTest
import NetKit

/// Issue 17 for `serve http`: response compression (NIOHTTPCompression) on and off by type and
/// request, and HTTPS with HTTP/2 by ALPN (swift-nio-http2) giving the same bodies, ranges,
/// 304s and routes as HTTP/1.1. Peers: curl (`--compressed`, `--http2`, `--http1.1`), nghttp
/// (Debian's nghttp2-client), Python's gzip to check what curl did not decode.
final class HTTPServerH2Tests: XCTestCase {
    var exe = ""
    var base: URL!
    var servers: [Process] = []

    override func setUpWithError() throws {
        exe = try NetScriptBinary.path()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { throw XCTSkip("curl is not installed") }
        let fm = FileManager.default
        base = fm.temporaryDirectory.appendingPathComponent("ns-h2-\(UUID().uuidString.prefix(8))")
        let site = base.appendingPathComponent("site")
        try fm.createDirectory(at: site, withIntermediateDirectories: true)
        let words = (0..<4000).map { "line \($0) of a text that compresses well\n" }.joined()
        try words.write(to: site.appendingPathComponent("big.txt"), atomically: true, encoding: .utf8)   // ~170 KB: over 64 KiB
        try String(words.prefix(3000)).write(to: site.appendingPathComponent("page.html"), atomically: true, encoding: .utf8)
        try ("{\"items\": [" + (0..<200).map { "{\"n\": \($0)}" }.joined(separator: ", ") + "]}\n")
            .write(to: site.appendingPathComponent("data.json"), atomically: true, encoding: .utf8)
        try "short\n".write(to: site.appendingPathComponent("small.txt"), atomically: true, encoding: .utf8)
        var rng = SystemRandomNumberGenerator()
        try Data((0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }).write(to: site.appendingPathComponent("photo.png"))
        try Data((0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }).write(to: site.appendingPathComponent("archive.gz"))
    }

    override func tearDown() {
        stopProcesses(servers)
        servers = []
        if let base { try? FileManager.default.removeItem(at: base) }
    }

    func serve(_ code: String, port: Int) throws -> (Process, URL) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["-e", code]
        p.currentDirectoryURL = base
        let err = base.appendingPathComponent("err-\(port)")
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        servers.append(p)
        waitForListening(port)
        return (p, err)
    }

    /// curl's status line and headers (lower-cased names) and the body it wrote to a file.
    func curl(_ args: [String]) throws -> (headers: [String: String], status: String, body: Data) {
        let bodyFile = base.appendingPathComponent("body-\(UUID().uuidString.prefix(6))")
        let r = try runProcess("/usr/bin/curl", ["-sS", "--max-time", "10", "-D", "-", "-o", bodyFile.path] + args, cwd: base, timeout: 20)
        XCTAssertEqual(r.status, 0, r.stderr)
        var headers: [String: String] = [:]
        var status = ""
        for line in r.stdout.components(separatedBy: "\r\n") {
            if line.hasPrefix("HTTP/") { status = line; headers = [:]; continue }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = (try? Data(contentsOf: bodyFile)) ?? Data()
        try? FileManager.default.removeItem(at: bodyFile)
        return (headers, status, body)
    }

    func file(_ name: String) -> Data { (try? Data(contentsOf: base.appendingPathComponent("site/\(name)"))) ?? Data() }

    // MARK: compression

    func testCompressionOnAndOffByTypeAndRequest() throws {
        let port = try freePort()
        let (_, _) = try serve("""
            route "GET" "/api/list" fn(req) { {items: list (range 300)} }
            serve http dir: "site" port: \(port) quiet: true
            """, port: port)
        let url = "http://127.0.0.1:\(port)"
        for name in ["big.txt", "page.html", "data.json"] {
            let gz = try curl(["--compressed", "\(url)/\(name)"])
            XCTAssertEqual(gz.headers["content-encoding"], "gzip", name)
            XCTAssertEqual(gz.headers["vary"], "Accept-Encoding", name)
            XCTAssertEqual(gz.body, file(name), "\(name): curl --compressed decodes the same bytes")
            XCTAssertLessThan(Int(gz.headers["content-length"] ?? "") ?? Int.max, file(name).count / 3, "\(name): compressed length")
            let plain = try curl(["\(url)/\(name)"])
            XCTAssertNil(plain.headers["content-encoding"], name)
            XCTAssertEqual(plain.headers["vary"], "Accept-Encoding", name)
            XCTAssertEqual(plain.body, file(name), name)
        }
        // The raw gzip stream, checked by Python's gzip.
        let raw = try curl(["-H", "Accept-Encoding: gzip", "\(url)/page.html"])
        XCTAssertEqual(raw.headers["content-encoding"], "gzip")
        let rawFile = base.appendingPathComponent("raw.gz")
        try raw.body.write(to: rawFile)
        let py = try runProcess(try python(), ["-c", "import gzip,sys; sys.stdout.write(str(len(gzip.decompress(open(sys.argv[1],'rb').read()))))", rawFile.path])
        XCTAssertEqual(py.stdout, String(file("page.html").count), py.stderr)
        // Deflate when preferred; refused with q=0.
        XCTAssertEqual(try curl(["-H", "Accept-Encoding: gzip;q=0.5, deflate", "\(url)/page.html"]).headers["content-encoding"], "deflate")
        XCTAssertNil(try curl(["-H", "Accept-Encoding: gzip;q=0", "\(url)/page.html"]).headers["content-encoding"])
        // Never for ranges, already-compressed types, tiny bodies, HEAD or 304.
        let range = try curl(["--compressed", "-H", "Range: bytes=0-99", "\(url)/big.txt"])
        XCTAssertTrue(range.status.contains("206"), range.status)
        XCTAssertNil(range.headers["content-encoding"])
        XCTAssertEqual(range.body, file("big.txt").prefix(100))
        for name in ["photo.png", "archive.gz", "small.txt"] {
            let r = try curl(["--compressed", "\(url)/\(name)"])
            XCTAssertNil(r.headers["content-encoding"], name)
            XCTAssertEqual(r.body, file(name), name)
        }
        XCTAssertNil(try curl(["--compressed", "-I", "\(url)/page.html"]).headers["content-encoding"])
        let lm = try curl(["\(url)/page.html"]).headers["last-modified"] ?? ""
        let notModified = try curl(["--compressed", "-H", "If-Modified-Since: \(lm)", "\(url)/page.html"])
        XCTAssertTrue(notModified.status.contains("304"), notModified.status)
        XCTAssertNil(notModified.headers["content-encoding"])
        // A route's JSON is compressed too; keep-alive goes on after a compressed response.
        let api = try curl(["--compressed", "\(url)/api/list"])
        XCTAssertEqual(api.headers["content-encoding"], "gzip")
        let both = try runProcess("/usr/bin/curl", ["-sS", "--compressed", "\(url)/api/list", "\(url)/page.html"], cwd: base)
        XCTAssertTrue(both.stdout.hasPrefix("{\"items\":[0,1,2,"), String(both.stdout.prefix(100)))
        XCTAssertTrue(both.stdout.hasSuffix(String(decoding: file("page.html"), as: UTF8.self)))
        XCTAssertTrue(both.stderr.isEmpty, both.stderr)
    }

    func testCompressFalseTurnsItOff() throws {
        let port = try freePort()
        _ = try serve("serve http dir: \"site\" port: \(port) quiet: true compress: false", port: port)
        let r = try curl(["--compressed", "http://127.0.0.1:\(port)/page.html"])
        XCTAssertNil(r.headers["content-encoding"])
        XCTAssertNil(r.headers["vary"])
        XCTAssertEqual(r.body, file("page.html"))
    }

    // MARK: HTTP/2

    func makeCerts() throws {
        let r = try runProcess(exe, ["-e", """
            ca = tls.mkcert ["H2 Test CA"] ca: true days: 1 name: "ca"
            tls.mkcert ["localhost", "127.0.0.1"] ca: ca days: 1
            """], cwd: base)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testHTTP2AndHTTP1OverTLSGiveTheSameAnswers() throws {
        try makeCerts()
        let port = try freePort()
        let (_, err) = try serve("""
            trace on
            route "GET" "/hello/:name" fn(req) { "hello {req.params.name} over {req.version}\\n" }
            serve http dir: "site" port: \(port) quiet: true tls: {cert: "localhost.pem", key: "localhost.key"}
            """, port: port)
        let url = "https://localhost:\(port)"
        let common = ["--cacert", base.appendingPathComponent("ca.pem").path]
        for name in ["big.txt", "page.html", "photo.png", "small.txt"] {
            let h2 = try curl(common + ["--http2", "\(url)/\(name)"])
            let h1 = try curl(common + ["--http1.1", "\(url)/\(name)"])
            XCTAssertTrue(h2.status.hasPrefix("HTTP/2 200"), "\(name): \(h2.status)")
            XCTAssertTrue(h1.status.hasPrefix("HTTP/1.1 200"), "\(name): \(h1.status)")
            XCTAssertEqual(h2.body, file(name), name)
            XCTAssertEqual(h1.body, h2.body, name)
            XCTAssertEqual(h2.headers["content-type"], h1.headers["content-type"], name)
            XCTAssertEqual(h2.headers["last-modified"], h1.headers["last-modified"], name)
        }
        // Ranges, 304 and compression over h2.
        let range = try curl(common + ["--http2", "-H", "Range: bytes=100-199", "\(url)/big.txt"])
        XCTAssertTrue(range.status.hasPrefix("HTTP/2 206"), range.status)
        XCTAssertEqual(range.headers["content-range"], "bytes 100-199/\(file("big.txt").count)")
        XCTAssertEqual(range.body, file("big.txt").subdata(in: 100..<200))
        let lm = try curl(common + ["--http2", "\(url)/page.html"]).headers["last-modified"] ?? ""
        XCTAssertTrue(try curl(common + ["--http2", "-H", "If-Modified-Since: \(lm)", "\(url)/page.html"]).status.hasPrefix("HTTP/2 304"))
        let gz = try curl(common + ["--http2", "--compressed", "\(url)/big.txt"])
        XCTAssertEqual(gz.headers["content-encoding"], "gzip")
        XCTAssertEqual(gz.body, file("big.txt"))
        // A route in the language over both.
        XCTAssertEqual(String(decoding: try curl(common + ["--http2", "\(url)/hello/h2"]).body, as: UTF8.self), "hello h2 over HTTP/2.0\n")
        XCTAssertEqual(String(decoding: try curl(common + ["--http1.1", "\(url)/hello/h1"]).body, as: UTF8.self), "hello h1 over HTTP/1.1\n")
        // nghttp: several streams on one connection.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/nghttp") {
            let n = try runProcess("/usr/bin/nghttp", ["-n", "-s", "\(url)/page.html", "\(url)/big.txt", "\(url)/hello/x"], cwd: base, timeout: 20)
            XCTAssertEqual(n.status, 0, n.stdout + n.stderr)
            XCTAssertEqual(n.stdout.components(separatedBy: "\n").filter { $0.contains("/page.html") || $0.contains("/big.txt") || $0.contains("/hello/x") }.count, 3, n.stdout)
        }
        // trace on: each request and response, labelled by stream.
        let deadline = Date().addingTimeInterval(5)
        var trace = ""
        while Date() < deadline {
            trace = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            if trace.contains("/hello/h1") { break }
            usleep(50_000)
        }
        XCTAssertTrue(trace.contains("C: [stream 1] GET /big.txt HTTP/2"), trace)
        XCTAssertTrue(trace.contains("S: [stream 1] HTTP/2 200"), trace)
        XCTAssertTrue(trace.contains("C: GET /hello/h1 HTTP/1.1"), trace)
    }
    /// HTTP2StaticFastPath answers a GET or HEAD of the connection's cached small file in frames
    /// (HEADERS, then one DATA frame carrying END_STREAM); the per-stream pipeline ends a stream
    /// with an empty DATA frame, so the framing shows which path answered. Both must give what
    /// HTTP/1.1 gives: the same body, the same header fields (Date aside); a HEAD no body; a file
    /// rewritten between two requests on one connection (same size, so only its time differs)
    /// served fresh; a missing file 404.
    /// `serve http … client_ca:`: mutual TLS over HTTP/1.1 and HTTP/2 (the handler sees the
    /// client's certificate as req.certificate), a client without a certificate refused in the
    /// handshake, a client that stalls in the handshake dropped after handshake_timeout:, each
    /// failure logged with its reason, and the server serving throughout.
    func testMutualTLSAndAStalledHandshakeOnServeHTTP() throws {
        try makeCerts()
        let r = try runProcess(exe, ["-e", """
            tls.mkcert ["ann"] ca: {cert: "ca.pem", key: "ca.key"} days: 1 name: "ann"
            """], cwd: base)
        XCTAssertEqual(r.status, 0, r.stderr)
        let port = try freePort()
        let (_, err) = try serve("""
            serve http dir: "site" port: \(port) tls: {cert: "localhost.pem", key: "localhost.key"} client_ca: "ca.pem" handshake_timeout: 1 routes: {
                "GET /who": fn(req) { "{req.certificate.common_name} over {req.version}, issued by {req.certificate.issuer}\\n" }
            }
            """, port: port)
        let url = "https://localhost:\(port)/who"
        let withCert = ["--cacert", "ca.pem", "--cert", "ann.pem", "--key", "ann.key", "--resolve", "localhost:\(port):127.0.0.1"]
        for (flag, version) in [("--http1.1", "HTTP/1.1"), ("--http2", "HTTP/2.0")] {
            let a = try curl(withCert + [flag, url])
            XCTAssertTrue(a.status.contains("200"), a.status)
            XCTAssertEqual(String(decoding: a.body, as: UTF8.self), "ann over \(version), issued by CN=H2 Test CA,O=NetScript lab\n")
        }
        // Without a certificate: refused in the handshake; no handler runs.
        let refused = try runProcess("/usr/bin/curl", ["-sS", "--max-time", "10", "--cacert", "ca.pem", "--resolve", "localhost:\(port):127.0.0.1", url], cwd: base, timeout: 20)
        XCTAssertNotEqual(refused.status, 0, refused.stdout)
        XCTAssertFalse(refused.stdout.contains("over"), refused.stdout)
        // A client that stops in the middle of its ClientHello is dropped after about a second.
        let stall = try runProcess("/usr/bin/env", ["python3", "-c", """
            import socket, sys, time
            s = socket.create_connection(("127.0.0.1", \(port)))
            s.sendall(b"\\x16\\x03\\x01\\x00\\x50")
            s.settimeout(15)
            t = time.time()
            try:
                s.recv(100)
                print("closed" if 0.5 <= time.time() - t < 8 else "closed after %.1f s" % (time.time() - t))
            except socket.timeout:
                print("still open")
            """], timeout: 30)
        XCTAssertEqual(stall.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "closed", stall.stderr)
        // Still serving.
        let again = try curl(withCert + ["--http2", url])
        XCTAssertEqual(String(decoding: again.body, as: UTF8.self), "ann over HTTP/2.0, issued by CN=H2 Test CA,O=NetScript lab\n")
        // The log is written by the server's own thread: wait for both lines (bounded).
        var log = ""
        for _ in 0..<50 {
            log = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            if log.components(separatedBy: "TLS handshake failed").count - 1 >= 2 { break }
            usleep(100_000)
        }
        XCTAssertTrue(log.contains("TLS handshake failed: no TLS handshake within 1 s (the client stalled)"), log)
        XCTAssertEqual(log.components(separatedBy: "TLS handshake failed").count - 1, 2, log)
    }

    func testHTTP2FramePathAnswersAsTheStreamPipelineDoes() throws {
        try makeCerts()
        let py = try python()
        var rng = SystemRandomNumberGenerator()
        let blob = Data((0..<3000).map { _ in UInt8.random(in: 0...255, using: &rng) })
        try blob.write(to: base.appendingPathComponent("site/small.bin"))
        let port = try freePort()
        _ = try serve("serve http dir: \"site\" port: \(port) quiet: true tls: {cert: \"localhost.pem\", key: \"localhost.key\"}", port: port)
        let url = "https://localhost:\(port)"
        let ca = base.appendingPathComponent("ca.pem").path

        // One connection, one stream at a time (Tests/peers/h2_raw_client.py).
        let client = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/h2_raw_client.py").path
        let f = base.appendingPathComponent("site/f.txt").path
        try "version one\n".write(toFile: f, atomically: false, encoding: .utf8)
        let r = try runProcess(py, [client, "\(port)", ca, "GET:/f.txt", "GET:/f.txt", "GET:/f.txt", "HEAD:/f.txt",
                                    "WRITE:\(f):version two\n", "GET:/f.txt", "GET:/f.txt", "GET:/nope.txt", "GET:/f.txt"], cwd: base, timeout: 30)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let answers = r.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        XCTAssertEqual(answers.count, 8, r.stdout)
        guard answers.count == 8 else { return }
        func frames(_ i: Int) -> [String] { answers[i]["frames"] as? [String] ?? [] }
        func body(_ i: Int) -> String { answers[i]["body"] as? String ?? "?" }
        for i in [0, 1, 2, 4, 5, 7] { XCTAssertEqual(answers[i]["status"] as? Int, 200, "\(i): \(answers[i])") }
        XCTAssertEqual((0...2).map(body), ["version one\n", "version one\n", "version one\n"])
        // The first request fills the connection's caches; one of the next two (a second may
        // tick between them) is answered in frames.
        XCTAssertEqual(frames(0), ["H", "D12", "D0!"], "the first request goes through the stream pipeline")
        XCTAssertTrue(frames(1) == ["H", "D12!"] || frames(2) == ["H", "D12!"], "\(frames(1)) \(frames(2))")
        XCTAssertEqual(answers[3]["status"] as? Int, 200)
        XCTAssertEqual(body(3), "", "HEAD has no body")
        XCTAssertTrue(frames(3) == ["H!"] || frames(3) == ["H", "D0!"], "\(frames(3))")
        XCTAssertEqual(body(4), "version two\n", "the rewritten file is served fresh")
        XCTAssertEqual(body(5), "version two\n")
        XCTAssertEqual(answers[6]["status"] as? Int, 404)
        XCTAssertTrue(body(6).contains("Error code: 404"), body(6))
        XCTAssertEqual(body(7), "version two\n")

        // Many concurrent streams on one connection (curl multiplexes with --parallel): every body
        // and header set the same as HTTP/1.1's, Date aside. page.html is compressible (Vary).
        for name in ["small.bin", "page.html"] {
            let h1 = try curl(["--cacert", ca, "--http1.1", "\(url)/\(name)"])
            var want = h1.headers
            want["date"] = nil
            XCTAssertEqual(h1.body, file(name))
            var args = ["-sS", "--max-time", "20", "--cacert", ca, "--http2", "--parallel", "--parallel-max", "16",
                        "-w", "##%{http_code}|%{http_version}|%{header_json}\n"]
            let n = 24
            for i in 0..<n { args += ["-o", base.appendingPathComponent("par-\(i)").path, "\(url)/\(name)"] }
            let c = try runProcess("/usr/bin/curl", args, cwd: base, timeout: 40)
            XCTAssertEqual(c.status, 0, c.stderr)
            let results = c.stdout.components(separatedBy: "##").dropFirst()
            XCTAssertEqual(results.count, n, c.stdout)
            for res in results {
                let parts = res.split(separator: "|", maxSplits: 2).map(String.init)
                guard parts.count == 3 else { XCTFail(res); continue }
                XCTAssertEqual(parts[0], "200", name)
                XCTAssertEqual(parts[1], "2", name)
                let json = (try? JSONSerialization.jsonObject(with: Data(parts[2].utf8))) as? [String: [String]] ?? [:]
                var got: [String: String] = [:]
                for (k, v) in json where k != "date" { got[k] = v.joined(separator: ", ") }
                XCTAssertEqual(got, want, name)
            }
            for i in 0..<n {
                XCTAssertEqual(try? Data(contentsOf: base.appendingPathComponent("par-\(i)")), file(name), "\(name) #\(i)")
            }
        }

        // nghttp asks for the same file 24 times on one connection, all streams at once; at least
        // one answer comes in frames (one DATA frame of the whole body with END_STREAM).
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/nghttp") {
            let n = try runProcess("/usr/bin/nghttp", ["-nv", "-m", "24", "\(url)/small.bin"], cwd: base, timeout: 30)
            XCTAssertEqual(n.status, 0, n.stderr)
            let out = n.stdout
            XCTAssertEqual(out.components(separatedBy: ":status: 200").count - 1, 24, out)
            XCTAssertGreaterThan(out.components(separatedBy: "recv DATA frame <length=3000, flags=0x01").count - 1, 0, out)
        }
    }
}
