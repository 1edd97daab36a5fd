import XCTest
@testable import NetKit

final class TranscriptTests: XCTestCase {
    func testEscapeAndElide() {
        XCTAssertEqual(Transcript.escape(Array("GET / HTTP/1.0\r\n\r\n".utf8)), "GET / HTTP/1.0\\r\\n\\r\\n")
        XCTAssertEqual(Transcript.escape([0, 255, 0x41]), "\\x00\\xffA")
        let long = Transcript.escape(Array(repeating: UInt8(ascii: "a"), count: 1000), limit: 50)
        XCTAssertTrue(long.contains(" … "))
        XCTAssertLessThanOrEqual(long.count, 50)
    }

    func testLiveSinkAndCapacity() {
        var seen: [String] = []
        let t = Transcript(capacity: 3) { seen.append(Transcript.render($0)) }
        t.record("smtp", .client, "EHLO a")   // not live: kept, not shown
        t.isLive = true
        t.record("smtp", .server, "250-a\n250 SIZE 10")
        t.record("smtp", .client, "AUTH PLAIN \(Transcript.mask("secret"))")
        t.record("smtp", .client, "QUIT")
        XCTAssertEqual(seen, ["S: 250-a\nS: 250 SIZE 10", "C: AUTH PLAIN ********", "C: QUIT"])
        XCTAssertEqual(t.steps.count, 3)
        XCTAssertFalse(t.steps.contains { $0.text.contains("secret") })
    }
}
