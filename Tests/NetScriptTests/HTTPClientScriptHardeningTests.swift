import Foundation
import XCTest

/// Issue 18, the HTTP client, as a script sees it: E is the echo server over plain HTTP (the
/// plain-HTTP path), T the same server through nginx over HTTPS (AsyncHTTPClient).
extension HTTPClientScriptTests {
    func testRawDeflateIsDecodedAndErrorsAreInWords() throws {
        try check("""
            print (len (http.get "{E}/raw-deflate").text) (len (http.get "{T}/raw-deflate" ca: "{D}/ca.pem").text)
            print (http.get "{E}/raw-deflate-zlib-like").text (http.get "{T}/raw-deflate-zlib-like" ca: "{D}/ca.pem").text
            try { http.get "{E}/corrupt-gzip" } catch e { print e.kind e.message }
            try { http.get "{T}/corrupt-gzip" ca: "{D}/ca.pem" } catch e { print e.kind e.message }
            """, """
            17000 17000
            twenty-nine bytes, stored!!!. twenty-nine bytes, stored!!!.
            http.protocol GET http://127.0.0.1:\(echoPort)/corrupt-gzip: the gzip body is corrupt (it cannot be decompressed)
            http.protocol GET https://127.0.0.1:\(tlsPort)/corrupt-gzip: the gzip body is corrupt (it cannot be decompressed)

            """)
    }

    func testMultipartContentTypeCannotInjectAHeader() throws {
        try check("""
            try { http.post "{E}/inspect" files: {up: {filename: "a.txt", content: "x", type: "text/plain\\r\\nX-Evil: 1"}} } catch e { print e.kind }
            print (http.post "{E}/inspect" files: {up: {filename: "a.txt", content: "x", type: "text/plain"}}).status_code
            """, """
            value
            200

            """)
    }

    func testURLsAreEncodedOnceAndRURLIsEncoded() throws {
        try check("""
            for base in [E, T] {
              r = http.get "{base}/inspect/a%20b/ü?r=a%20b&s=ü x&p=100%" ca: "{D}/ca.pem"
              print r.json.target
              print (r.url == "{base}/inspect/a%20b/%C3%BC?r=a%20b&s=%C3%BC%20x&p=100%25") r.json.args.r r.json.args.s r.json.args.p
              print (http.get "{base}/inspect/x y" params: {q: "a b%"} ca: "{D}/ca.pem").json.target
            }
            """, """
            /inspect/a%20b/%C3%BC?r=a%20b&s=%C3%BC%20x&p=100%25
            true a b ü x 100%
            /inspect/x%20y?q=a+b%25
            /inspect/a%20b/%C3%BC?r=a%20b&s=%C3%BC%20x&p=100%25
            true a b ü x 100%
            /inspect/x%20y?q=a+b%25

            """)
    }

    func testHeadDoesNotFollowRedirectsUnlessAsked() throws {
        try check("""
            r = http.head "{E}/redirect/2"
            print r.status_code r.headers["location"] (len r.history)
            print (http.head "{E}/redirect/2" redirects: true).status_code (http.head "{E}/redirect/2" redirects: 5).status_code
            try { http.head "{E}/redirect/2" redirects: 1 } catch e { print e.kind }
            s = http.session
            print (s.head "{E}/redirect/1").status_code (s.head "{E}/redirect/1" redirects: true).status_code
            print (http.head "{E}/redirect/1" session: (http.session redirects: true)).status_code
            print (http.request "HEAD" "{E}/redirect/1").status_code (http.get "{E}/redirect/1").status_code
            print (http.head "{T}/moved" ca: "{D}/ca.pem").status_code (http.head "{T}/moved" ca: "{D}/ca.pem" redirects: true).status_code
            """, """
            302 /redirect/1 0
            200 200
            http.redirects
            302 200
            200
            200 200
            301 200

            """)
        let h = try run("help http.head")
        XCTAssertTrue(h.stdout.contains("not followed"), h.stdout)
    }

    func testDeadlineBoundsTheWholeRequest() throws {
        let started = Date()
        let r = try run("""
            for base in [E, T] {
              try { http.get "{base}/drip?n=100&every=0.3" timeout: 2 deadline: 1 ca: "{D}/ca.pem" } catch e { print e.kind e.message }
            }
            try { http.get "{E}/stall-head" deadline: 0.5 } catch e { print e.kind e.message }
            print (http.get "{E}/drip?n=2&every=0.1" deadline: nil).text
            s = http.session deadline: 0.5
            try { s.get "{E}/stall-head" } catch e { print e.kind }
            try { http.get "{E}/inspect" deadline: 0 } catch e { print e.kind e.message }
            """)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 6, r.stdout + r.stderr)
        guard lines.count == 6 else { return }
        XCTAssertTrue(lines[0].hasPrefix("http.timeout GET http://127.0.0.1:\(echoPort)/drip?n=100&every=0.3: not finished within deadline: 1 s ("), lines[0])
        XCTAssertTrue(lines[0].hasSuffix("bytes of the body had arrived)"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("http.timeout GET https://127.0.0.1:\(tlsPort)/drip?n=100&every=0.3: not finished within deadline: 1 s ("), lines[1])
        XCTAssertEqual(lines[2], "http.timeout GET http://127.0.0.1:\(echoPort)/stall-head: not finished within deadline: 0.5 s (no response yet)")
        XCTAssertEqual(lines[3], "dd")
        XCTAssertEqual(lines[4], "http.timeout")
        XCTAssertEqual(lines[5], "value http.get: deadline: must be between 0 and 604800 seconds, or nil for no limit")
        let h = try run("help http.get")
        XCTAssertTrue(h.stdout.contains("deadline:"), h.stdout)
    }

    func testDownloadStopsAtMaxAndKeepsTheTarget() throws {
        let started = Date()
        try check("""
            write "{D}/keep.txt" "precious"
            try { http.download "{E}/endless" "{D}/keep.txt" max: 100000 } catch e { print e.kind e.message }
            print (read "{D}/keep.txt") (exists "{D}/keep.txt.part")
            try { http.download "{T}/endless" "{D}/keep.txt" max: 100000 ca: "{D}/ca.pem" } catch e { print e.kind e.message }
            print (read "{D}/keep.txt") (exists "{D}/keep.txt.part")
            try { http.download "{E}/endless" "{D}/new.txt" max: 1000 } catch e { print e.kind (exists "{D}/new.txt") (exists "{D}/new.txt.part") }
            s = http.session max: 1000
            try { s.download "{E}/endless" "{D}/new.txt" } catch e { print e.kind }
            print (http.download "{E}/huge-body?n=5000" "{D}/fits.bin" max: 5000).size
            try { http.get "{E}/endless" max: 100000 } catch e { print e.kind e.message }
            """, """
            value GET http://127.0.0.1:\(echoPort)/endless: the download is larger than max: 100,000 bytes; stopped
            precious false
            value GET https://127.0.0.1:\(tlsPort)/endless: the download is larger than max: 100,000 bytes; stopped
            precious false
            value false false
            value
            5000
            value GET http://127.0.0.1:\(echoPort)/endless: the body is larger than max: 100,000 bytes

            """)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20)
        let h = try run("help http.download")
        XCTAssertTrue(h.stdout.contains("max:"), h.stdout)
    }
}
