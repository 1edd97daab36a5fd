import Foundation
import XCTest
import NetKit

/// Sessions' kept-alive connections as a script sees them, through the built `netscript`,
/// against Tests/peers/http_conns.py (which says which connection each request came on).
final class HTTPClientPoolScriptTests: XCTestCase {
    var peer: Process?
    var port = 0

    override func setUpWithError() throws {
        let py = try runProcess("/usr/bin/env", ["python3", "-c", "import sys; print(sys.executable)"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !py.isEmpty else { throw XCTSkip("python3 is not installed") }
        let l = try Listener.listen("127.0.0.1:0")
        port = l.port!
        l.close()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/http_conns.py").path
        let p = try startQuiet(py, [script, "\(port)"])
        peer = p
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let c = try? StreamConnection.connect("127.0.0.1:\(port)", timeout: 1) { c.close(); return }
            usleep(30_000)
        }
        XCTFail("http_conns.py does not listen on \(port)")
    }

    override func tearDown() {
        if let p = peer, p.isRunning {
            p.terminate()
            p.waitUntilExit()
        }
    }

    func testSessionKeepsItsConnectionAndOneOffsTheirOwn() throws {
        let r = try runProcess(try NetScriptBinary.path(), ["-e", """
            B = "http://127.0.0.1:\(port)"
            s = http.session
            a = (s.get "{B}/conn").json
            b = (s.post "{B}/conn" data: "x").json
            print (a.conn == b.conn) b.n
            o = (http.get "{B}/conn").json
            print (o.conn != a.conn)
            s.get "{B}/drop-next"
            c = (s.get "{B}/conn").json
            print c.n (c.conn != a.conn)
            """])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "true 2\ntrue\n1 true\n")
    }

    /// Connection tokens are compared as RFC 9110 §5.6.1 lists them: case-insensitive, with
    /// optional white space around each; so is the request's own `Connection` header.
    func testConnectionTokensInAnyCaseAndSpacing() throws {
        let r = try runProcess(try NetScriptBinary.path(), ["-e", """
            B = "http://127.0.0.1:\(port)"
            s = http.session
            a = (s.get "{B}/conn").json
            print (s.get "{B}/close-token").text
            b = (s.get "{B}/conn").json
            print (b.conn != a.conn) b.n
            print (s.get "{B}/http10-keep").text
            c = (s.get "{B}/conn").json
            print (c.conn == b.conn) c.n
            s.get "{B}/conn" headers: {Connection: " Keep-Alive ,Close"}
            d = (s.get "{B}/conn").json
            print (d.conn != c.conn) d.n
            print (s.get "{B}/chunked-list").text
            e = (s.get "{B}/conn").json
            print (e.conn == d.conn) e.n
            """])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "closing\ntrue 1\nkept\ntrue 3\ntrue 1\nhello\ntrue 3\n")
    }
}
