import XCTest
import NetKit

/// The server in-process, as another Swift program would use it, with NetKit's own TCP client:
/// routed requests wait for their owner, and the bodies they hold count against one budget.
final class HTTPServerTests: XCTestCase {
    func upload(_ port: Int, _ size: Int) throws -> StreamConnection {
        let c = try StreamConnection.connect("127.0.0.1:\(port)", timeout: 5)
        try c.send(Array("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: \(size)\r\n\r\n".utf8) + [UInt8](repeating: 0x41, count: size))
        return c
    }

    func statusLine(_ c: StreamConnection) throws -> String {
        let line = try c.recvUntil(Array("\r\n".utf8), max: 200, timeout: 10) ?? []
        return String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testBufferedBodiesShareOneBudgetUntilAnswered() throws {
        var config = HTTPServerConfig()
        config.routes = [HTTPRoute(method: "POST", pattern: "/up")]
        config.maxBufferedBodies = 1000
        config.accessLog = false
        let server = try HTTPServer.start("127.0.0.1:0", config: config)
        defer { server.stop() }
        let port = try XCTUnwrap(server.port)

        let a = try upload(port, 800)
        defer { a.close() }
        var held: HTTPRoutedRequest? = nil
        for _ in 0..<500 where held == nil { held = server.next(timeout: 0.02) }
        let first = try XCTUnwrap(held, "the first upload reaches the owner")
        XCTAssertEqual(first.body.count, 800)
        XCTAssertEqual(first.method, "POST")

        let b = try upload(port, 800)      // 800 + 800 > 1000 while the first waits for its answer
        defer { b.close() }
        XCTAssertEqual(try statusLine(b), "HTTP/1.1 503 Service Unavailable")

        first.respond(HTTPServerResponse(status: 200, body: Array("ok".utf8)))
        XCTAssertEqual(try statusLine(a), "HTTP/1.1 200 OK")

        let c = try upload(port, 800)      // the first body's bytes were given back with its answer
        defer { c.close() }
        var next: HTTPRoutedRequest? = nil
        for _ in 0..<500 where next == nil { next = server.next(timeout: 0.02) }
        XCTAssertEqual(next?.body.count, 800)
        next?.respond(HTTPServerResponse(status: 201))
        XCTAssertEqual(try statusLine(c), "HTTP/1.1 201 Created")
    }
}
