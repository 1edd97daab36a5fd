import XCTest
@testable import NetKit

/// The reply parser, PASV/EPSV parsing and MLSD facts, without a server.
final class FTPReplyTests: XCTestCase {
    func parse(_ lines: [String]) throws -> FTPReply {
        var it = lines.makeIterator()
        return try FTPReplyParser.read(shown: "test") { it.next() }
    }

    func testMultiLine() throws {
        let r = try parse(["211-Features:", " MLST type*;size*;", "211x not the end", "211 End", "200 next"])
        XCTAssertEqual(r.code, 211)
        XCTAssertEqual(r.lines.count, 4)
        XCTAssertEqual(r.text, "Features:\n MLST type*;size*;\n211x not the end\nEnd")
    }

    func testBareCodeAndProto() throws {
        XCTAssertEqual(try parse(["226"]).code, 226)
        for bad in ["hello", "600 no", "22 short", "2x0 no", "220x"] {
            XCTAssertThrowsError(try parse([bad])) { XCTAssertEqual(($0 as! FTPError).kind, .proto, bad) }
        }
        XCTAssertThrowsError(try parse(["220-start"])) { XCTAssertEqual(($0 as! FTPError).kind, .closed) }
    }

    func testPassiveReplies() {
        XCTAssertEqual(FTPClient.epsvPort("Entering Extended Passive Mode (|||6446|)"), 6446)
        XCTAssertNil(FTPClient.epsvPort("Entering Extended Passive Mode (|||99999|)"))
        XCTAssertEqual(FTPClient.pasvAddress("Entering Passive Mode (10,0,0,9,19,137).")?.1, 19 * 256 + 137)
        XCTAssertEqual(FTPClient.pasvAddress("=10,0,0,9,19,137")?.0, "10.0.0.9")
        XCTAssertNil(FTPClient.pasvAddress("(300,0,0,1,1,1)"))
    }

    func testMLSDAndPaths() {
        let e = FTPEntry.parse(mlsd: "Type=file;Size=1024;Modify=20261125101500.123;UNIX.mode=0644; a name; with.txt")!
        XCTAssertEqual(e.name, "a name; with.txt")
        XCTAssertEqual(e.type, "file")
        XCTAssertEqual(e.size, 1024)
        XCTAssertEqual(e.modify, "2026-11-25 10:15:00")
        XCTAssertEqual(e.fact("unix.mode"), "0644")
        XCTAssertEqual(FTPEntry.parse(unixList: "drwxr-xr-x    2 0  0   4096 Jan 01 00:00 my dir")?.name, "my dir")
        XCTAssertEqual(FTPClient.quotedPath("257 \"/a \"\"q\"\" b\" is current"), "/a \"q\" b")
    }
}
