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

}
