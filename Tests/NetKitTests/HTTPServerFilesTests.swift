import XCTest
@testable import NetKit

/// The static file server's parsing rules, case by case (the behaviour over the wire is tested
/// with real clients in HTTPServerScriptTests).
final class HTTPServerFilesTests: XCTestCase {
    typealias R = HTTPStaticFiles.RangeAnswer

    func testRangeHeaders() {
        let f = { (h: String) in HTTPStaticFiles.ranges(h, size: 100) }
        XCTAssertEqual(f("bytes=0-9"), R.ranges([0...9]))
        XCTAssertEqual(f("bytes=90-"), R.ranges([90...99]))
        XCTAssertEqual(f("bytes=-10"), R.ranges([90...99]))
        XCTAssertEqual(f("bytes=-1000"), R.ranges([0...99]))
        XCTAssertEqual(f("bytes=95-1000"), R.ranges([95...99]))
        XCTAssertEqual(f("bytes=0-0, 5-6 ,99-"), R.ranges([0...0, 5...6, 99...99]))
        XCTAssertEqual(f("BYTES=1-2"), R.ranges([1...2]))
        XCTAssertEqual(f("bytes=100-"), R.unsatisfiable)
        XCTAssertEqual(f("bytes=100-200, 300-"), R.unsatisfiable)
        XCTAssertEqual(f("bytes=-0"), R.unsatisfiable)
        XCTAssertEqual(f("bytes=100-, 5-5"), R.ranges([5...5]), "one satisfiable range is enough")
        for bad in ["bytes=5-1", "bytes=a-b", "bytes=", "bytes=1", "items=0-1", "bytes=0-1,", "bytes=--1",
                    "bytes=99999999999999999999-", "bytes=+1-2", "bytes=١-٢"] {
            XCTAssertEqual(f(bad), R.whole, "\(bad) is ignored")
        }
        let many = "bytes=" + (0..<65).map { "\($0)-\($0)" }.joined(separator: ",")
        XCTAssertEqual(f(many), R.whole, "more than 64 ranges are ignored")
        XCTAssertEqual(HTTPStaticFiles.ranges("bytes=0-", size: 0), R.unsatisfiable)
    }

    func testHTTPDatesInAllThreeForms() {
        let t = 784111777   // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example)
        XCTAssertEqual(HTTPStaticFiles.httpDate(t), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPStaticFiles.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT"), t)
        XCTAssertEqual(HTTPStaticFiles.parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT"), t)
        XCTAssertEqual(HTTPStaticFiles.parseHTTPDate("Sun Nov  6 08:49:37 1994"), t)
        for bad in ["", "yesterday", "Sun, 06 Nov 1994", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:00:00 GMT",
                    "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT 12"] {
            XCTAssertNil(HTTPStaticFiles.parseHTTPDate(bad), bad)
        }
    }

    func testPathSegmentsRefuseEscapes() throws {
        func segs(_ p: String) -> String {
            switch HTTPStaticFiles.segments(Substring(p)) {
            case .success(let s): return s.joined(separator: "|")
            case .failure(let f): return "\(f.status)"
            }
        }
        XCTAssertEqual(segs("/a/b%20c/./d//e/"), "a|b c|d|e")
        XCTAssertEqual(segs("/"), "")
        XCTAssertEqual(segs("/%C3%A9t%C3%A9"), "été")
        XCTAssertEqual(segs("/a/../b"), "403")
        XCTAssertEqual(segs("/%2e%2E/x"), "403")
        XCTAssertEqual(segs("/a%2fb"), "404")
        XCTAssertEqual(segs("/a%00"), "404")
        XCTAssertEqual(segs("/%ff"), "404")
        XCTAssertEqual(segs("/%zz"), "400")
        XCTAssertEqual(segs("/%4"), "400")
        XCTAssertEqual(segs("/...."), "....", "only exactly .. is the parent")
    }

    func testListingQuotingAndMIMETypes() {
        XCTAssertEqual(HTTPStaticFiles.urlQuote("a b/<é>~_.-%"), "a%20b/%3C%C3%A9%3E~_.-%25")
        XCTAssertEqual(HTTPStaticFiles.htmlEscape("<a href=\"x\">&</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;")
        XCTAssertEqual(HTTPStaticFiles.mimeType("/x/INDEX.HTML"), "text/html; charset=utf-8")
        XCTAssertEqual(HTTPStaticFiles.mimeType("/x/a.tar.gz"), "application/gzip")
        XCTAssertEqual(HTTPStaticFiles.mimeType("/x.d/noext"), "application/octet-stream")
        XCTAssertEqual(HTTPStaticFiles.mimeType("/x/photo.JPG"), "image/jpeg")
        // One table for mail attachments, uploads and served files: only the charset differs.
        XCTAssertEqual(MediaTypes.forFileName("report.PDF"), "application/pdf")
        XCTAssertEqual(MediaTypes.forFileName("notes.txt"), "text/plain")
        XCTAssertEqual(MediaTypes.contentType(forFile: "notes.txt"), "text/plain; charset=utf-8")
        XCTAssertEqual(MediaTypes.contentType(forFile: "data.json"), "application/json")
        XCTAssertEqual(MediaTypes.forFileName(".bashrc"), "application/octet-stream", "a dot file has no extension")
        XCTAssertEqual(MediaTypes.forFileName("dir.d/README"), "application/octet-stream")
    }

    func testRouteMatching() {
        let r = HTTPRoute(method: "get", pattern: "/users/:id/posts/:post")
        XCTAssertEqual(r.match(["users", "7", "posts", "x y"])?.map { "\($0.0)=\($0.1)" }, ["id=7", "post=x y"])
        XCTAssertNil(r.match(["users", "7", "posts"]))
        XCTAssertNil(r.match(["users", "7", "posts", "1", "2"]))
        XCTAssertTrue(r.allows("HEAD"))
        XCTAssertFalse(r.allows("POST"))
        let rest = HTTPRoute(method: "*", pattern: "/static/*path")
        XCTAssertEqual(rest.match(["static", "a", "b"])?.first?.1, "a/b")
        XCTAssertEqual(rest.match(["static"])?.first?.1, "")
        XCTAssertTrue(rest.allows("DELETE"))
        XCTAssertEqual(HTTPRoute(method: "GET", pattern: "/").match([])?.count, 0)
    }
}
