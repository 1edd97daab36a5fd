import Foundation
import XCTest
@testable import NetKit

/// The plain-HTTP path's connections against Tests/peers/http_conns.py (raw sockets, numbers its
/// connections and misbehaves on demand): keep-alive reuse per pool, a kept connection the server
/// closed, bodies cut short, chunked trailers, interim responses, HTTP/1.0; and a gzip HEAD from
/// nginx on both paths (plain and TLS).
final class HTTPClientConnectionTests: XCTestCase {
    var peer: Process?
    var port = 0
    var base: String { "http://127.0.0.1:\(port)" }

    override func setUpWithError() throws {
        guard let py = Peers.python else { throw XCTSkip("python3 is not installed") }
        port = try Peers.freePort()
        peer = try Peers.start(py, [HTTPClientTests.peersDir.appendingPathComponent("http_conns.py").path, "\(port)"])
        try Peers.waitForPort("127.0.0.1:\(port)")
    }

    override func tearDown() {
        Peers.stop(peer)
    }

    func get(_ agent: HTTPAgent, _ path: String, method: String = "GET", body: [UInt8]? = nil) throws -> HTTPResponseData {
        try agent.perform(HTTPRequestSpec(method: method, url: base + path, body: body))
    }

    func json(_ r: HTTPResponseData) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any], String(decoding: r.body, as: UTF8.self))
    }

    func stats() throws -> [String: Any] {
        try json(try get(HTTPAgent(pool: HTTPConnectionPool()), "/stats"))
    }

    func failure(_ body: () throws -> Any) -> HTTPClientFailure? {
        do { _ = try body(); return nil } catch let e as HTTPClientFailure { return e } catch { XCTFail("not an HTTP failure: \(error)"); return nil }
    }

    func testRequestsReuseThePoolsConnection() throws {
        let pool = HTTPConnectionPool()
        let agent = HTTPAgent(pool: pool)
        var conns: [Int] = [], ns: [Int] = []
        for _ in 0..<5 {
            let j = try json(try get(agent, "/conn"))
            conns.append(j["conn"] as? Int ?? -1); ns.append(j["n"] as? Int ?? -1)
        }
        XCTAssertEqual(Set(conns).count, 1, "one connection for all five: \(conns)")
        XCTAssertEqual(ns, [1, 2, 3, 4, 5])
        XCTAssertEqual(pool.idleCount, 1)
        // Another pool (another session) has its own connection.
        let other = try json(try get(HTTPAgent(pool: HTTPConnectionPool()), "/conn"))
        XCTAssertNotEqual(other["conn"] as? Int, conns[0])
        // A POST with a body goes on the same kept connection too.
        let p = try json(try get(agent, "/conn", method: "POST", body: Array("payload".utf8)))
        XCTAssertEqual(p["conn"] as? Int, conns[0])
        XCTAssertEqual(p["n"] as? Int, 6)
        pool.closeAll()
        XCTAssertEqual(pool.idleCount, 0)
    }

    func testConnectionClosedWhileIdleIsReplaced() throws {
        let agent = HTTPAgent(pool: HTTPConnectionPool())
        let first = try json(try get(agent, "/conn"))
        XCTAssertEqual(String(decoding: try get(agent, "/close-after").body, as: UTF8.self), "bye")
        usleep(100_000)  // the server's FIN arrives; the pooled connection must not be used
        let after = try json(try get(agent, "/conn"))
        XCTAssertEqual(after["n"] as? Int, 1, "a new connection")
        XCTAssertNotEqual(after["conn"] as? Int, first["conn"] as? Int)
    }

    func testIdempotentRequestResentWhenTheKeptConnectionDropsIt() throws {
        let t = Transcript()
        let agent = HTTPAgent(transcript: t, pool: HTTPConnectionPool())
        let armed = try get(agent, "/drop-next")
        XCTAssertEqual(String(decoding: armed.body, as: UTF8.self), "armed")
        // The server reads this GET on the kept connection, closes without a byte of answer:
        // nothing of the response arrived, GET is idempotent → sent again on a new connection.
        let r = try json(try get(agent, "/conn"))
        XCTAssertEqual(r["n"] as? Int, 1)
        let text = t.steps.map(Transcript.render).joined(separator: "\n")
        XCTAssertTrue(text.contains("had been closed by the server; sending again on a new connection"), text)
        let requests = try XCTUnwrap(try stats()["requests"] as? [String: Int])
        XCTAssertEqual(requests["GET /conn"], 2, "read once on the dropped connection, once on the new one")
    }

    func testPostIsNotResentAfterTheServerTookIt() throws {
        let agent = HTTPAgent(pool: HTTPConnectionPool())
        _ = try get(agent, "/drop-next")
        let e = failure { try self.get(agent, "/conn", method: "POST", body: Array("once".utf8)) }
        XCTAssertEqual(e?.kind, .proto, e?.message ?? "no error")
        XCTAssertTrue(e?.message.contains("\(base)/conn") ?? false, e?.message ?? "")
        XCTAssertTrue(e?.message.contains("closed the connection before the response was complete") ?? false, e?.message ?? "")
        let requests = try XCTUnwrap(try stats()["requests"] as? [String: Int])
        XCTAssertEqual(requests["POST /conn"], 1, "the POST reached the server once and was not sent again")
        // The agent is usable afterwards, on a new connection.
        XCTAssertEqual(try json(try get(agent, "/conn"))["n"] as? Int, 1)
    }

    func testBodiesCutShortAreNamedErrors() throws {
        let agent = HTTPAgent(pool: HTTPConnectionPool())
        for path in ["/short", "/chunked-short"] {
            let e = failure { try self.get(agent, path) }
            XCTAssertEqual(e?.kind, .proto, "\(path): \(e?.message ?? "no error")")
            XCTAssertTrue(e?.message.contains("\(base)\(path)") ?? false, e?.message ?? "")
        }
        // Streaming to a file: the same error, and what arrived is in the file.
        let out = try Peers.tempDir().appendingPathComponent("short.bin")
        let fd = open(out.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(fd); try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let e = failure { try agent.perform(HTTPRequestSpec(method: "GET", url: self.base + "/short"), sink: fd) }
        XCTAssertEqual(e?.kind, .proto)
    }

    func testChunkedTrailersInterimResponsesAndHTTP10() throws {
        let t = Transcript()
        let pool = HTTPConnectionPool()
        let agent = HTTPAgent(transcript: t, pool: pool)
        let c = try get(agent, "/conn")
        let tr = try get(agent, "/trailers")
        XCTAssertEqual(String(decoding: tr.body, as: UTF8.self), "hello, world")
        XCTAssertEqual(tr.bodySize, 12)
        // The trailers were read to the end: the connection carries the next request.
        let after = try json(try get(agent, "/conn"))
        XCTAssertEqual(after["conn"] as? Int, try json(c)["conn"] as? Int)
        XCTAssertEqual(after["n"] as? Int, 3)

        let fin = try get(agent, "/continue")
        XCTAssertEqual(fin.status, 200)
        XCTAssertEqual(String(decoding: fin.body, as: UTF8.self), "final")
        let text = t.steps.map(Transcript.render).joined(separator: "\n")
        XCTAssertFalse(text.contains("100 Continue"), "interim responses are skipped, as AsyncHTTPClient does")

        let old = try get(agent, "/http10")
        XCTAssertEqual(old.version, "HTTP/1.0")
        XCTAssertEqual(String(decoding: old.body, as: UTF8.self), "until the close")
        XCTAssertEqual(pool.idleCount, 0, "an HTTP/1.0 response read to the close is not kept")
    }

    func testGzipHeadHasNoBodyToDecodeOnBothPaths() throws {
        guard Peers.which("nginx") != nil else { throw XCTSkip("nginx is not installed") }
        let dir = try Peers.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Peers.makeCertificates(in: dir)
        let p = try Peers.freePort(), tp = try Peers.freePort()
        let nginx = try Peers.start("/bin/sh", [HTTPClientTests.peersDir.appendingPathComponent("nginx_http.sh").path, dir.path, "\(p)", "\(tp)"])
        defer { Peers.stop(nginx) }
        try Peers.waitForPort("127.0.0.1:\(p)")
        try Peers.waitForPort("127.0.0.1:\(tp)")
        for url in ["http://127.0.0.1:\(p)/hello.txt", "https://127.0.0.1:\(tp)/hello.txt"] {
            var s = HTTPRequestSpec(method: "HEAD", url: url)
            s.caFile = dir.appendingPathComponent("ca.pem").path
            let r = try HTTPAgent().perform(s)
            XCTAssertEqual(r.status, 200, url)
            XCTAssertEqual(r.header("content-encoding"), "gzip", url)
            XCTAssertTrue(r.body.isEmpty, url)
        }
    }
}
