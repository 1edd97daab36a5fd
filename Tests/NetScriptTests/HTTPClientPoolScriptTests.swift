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
        let p = Process()
        p.executableURL = URL(fileURLWithPath: py)
        p.arguments = [script, "\(port)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
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
}
