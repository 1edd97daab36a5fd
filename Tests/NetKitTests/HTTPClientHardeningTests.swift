import Foundation
import XCTest
@testable import NetKit
import NIOHTTP1
import NIOSSL

/// Issue 18, the HTTP client hardened against what servers do. Each runs on every path: plain
/// HTTP on the calling thread, AsyncHTTPClient for the same URL, and the echo server through
/// nginx over HTTPS (HTTP/2).
extension HTTPClientTests {
    /// `body` once per path, with the base URL of the echo server on that path.
    func onEveryPath(_ body: (_ base: String, _ path: String) throws -> Void) rethrows {
        defer { HTTPAgent.plainHTTPFastPath = true }
        HTTPAgent.plainHTTPFastPath = true
        try body(echoBase, "plain HTTP")
        HTTPAgent.plainHTTPFastPath = false
        try body(echoBase, "AsyncHTTPClient")
        HTTPAgent.plainHTTPFastPath = true
        try body(tlsEchoBase, "HTTPS")
    }

    var ca: String { dir.appendingPathComponent("ca.pem").path }

    func testRawAndZlibDeflateAreDecodedOnEveryPath() throws {
        try onEveryPath { base, path in
            let raw = try get("\(base)/raw-deflate") { $0.caFile = self.ca }
            XCTAssertEqual(raw.status, 200, path)
            XCTAssertEqual(String(decoding: raw.body, as: UTF8.self), String(repeating: "raw deflate text ", count: 1000), path)
            // Raw deflate whose first bytes pass the zlib header check: tried as zlib, then raw.
            let tricky = try get("\(base)/raw-deflate-zlib-like") { $0.caFile = self.ca }
            XCTAssertEqual(String(decoding: tricky.body, as: UTF8.self), "twenty-nine bytes, stored!!!.", path)
            let zlib = try get("\(base)/deflate") { $0.caFile = self.ca }
            XCTAssertEqual(zlib.body.count, 16_000, path)
            let gzip = try get("\(base)/gzip") { $0.caFile = self.ca }
            XCTAssertEqual(gzip.body.count, 16_000, path)
            let bad = failure { try self.get("\(base)/corrupt-gzip") { $0.caFile = self.ca } }
            XCTAssertEqual(bad?.kind, .proto, path)
            XCTAssertEqual(bad?.message, "GET \(base)/corrupt-gzip: the gzip body is corrupt (it cannot be decompressed)", path)
        }
    }

    func testContentDecoderTakesAnyPieces() throws {
        let tricky: [UInt8] = [0x08, 0x1D, 0x00, 0xE2, 0xFF] + Array("twenty-nine bytes, stored!!!.".utf8) + [0x01, 0x00, 0x00, 0xFF, 0xFF]
        XCTAssertTrue(HTTPContentDecoder.isZlibHeader(0x78, 0x9C))
        XCTAssertTrue(HTTPContentDecoder.isZlibHeader(0x08, 0x1D))
        XCTAssertFalse(HTTPContentDecoder.isZlibHeader(0xED, 0xBD))
        for size in [1, 2, 3, 7, tricky.count] {
            let d = try XCTUnwrap(HTTPContentDecoder(contentEncoding: "deflate"))
            var out: [UInt8] = []
            var i = 0
            while i < tricky.count {
                let piece = Array(tricky[i..<min(tricky.count, i + size)])
                try piece.withUnsafeBytes { try d.feed($0) { out += $0 } }
                i += size
            }
            try d.finish { out += $0 }
            XCTAssertEqual(String(decoding: out, as: UTF8.self), "twenty-nine bytes, stored!!!.", "pieces of \(size)")
        }
        // Cut short: an error in words, not zlib's code.
        let d = try XCTUnwrap(HTTPContentDecoder(contentEncoding: "deflate"))
        try Array(tricky.prefix(10)).withUnsafeBytes { try d.feed($0) { _ in } }
        XCTAssertThrowsError(try d.finish { _ in }) { e in
            XCTAssertEqual((e as? HTTPBodyDecodingError)?.words, "the deflate body is cut short (the compressed data ends before its end)")
        }
        XCTAssertNil(HTTPContentDecoder(contentEncoding: "br"))
        XCTAssertNil(HTTPContentDecoder(contentEncoding: nil))
    }

    func testURLsAreEncodedOnce() throws {
        XCTAssertEqual(HTTPClientSupport.requoteURL("http://h:1/a%20b/ü?r=a%20b&s=ü x#f"), "http://h:1/a%20b/%C3%BC?r=a%20b&s=%C3%BC%20x#f")
        XCTAssertEqual(HTTPClientSupport.requoteURL("http://h/100%/%zz/%4"), "http://h/100%25/%25zz/%254")
        XCTAssertEqual(HTTPClientSupport.requoteURL("http://h/a%2Fb?x=%E2%82%AC&y=~!$'()*+,;=:@"), "http://h/a%2Fb?x=%E2%82%AC&y=~!$'()*+,;=:@")
        XCTAssertEqual(HTTPClientSupport.requoteURL("/relative path"), "/relative%20path")
        try onEveryPath { base, path in
            let r = try get("\(base)/inspect/a%20b/ü?r=a%20b&s=ü x&p=100%") { $0.caFile = self.ca }
            let target = "/inspect/a%20b/%C3%BC?r=a%20b&s=%C3%BC%20x&p=100%25"
            XCTAssertEqual(try echoJSON(r)["target"] as? String, target, path)
            XCTAssertEqual(r.url, base + target, path)
            XCTAssertEqual(try echoJSON(r)["args"] as? [String: String], ["r": "a b", "s": "ü x", "p": "100%"], path)
            // Already encoded: sent as it is.
            let same = try get("\(base)/inspect/a%20b/%C3%BC?r=a%20b") { $0.caFile = self.ca }
            XCTAssertEqual(try echoJSON(same)["target"] as? String, "/inspect/a%20b/%C3%BC?r=a%20b", path)
        }
    }

    func testDeadlineBoundsADrippingBody() throws {
        XCTAssertEqual(HTTPRequestSpec(method: "GET", url: "http://x/").deadline, 300)
        try onEveryPath { base, path in
            let started = Date()
            // One byte every 0.3 s never lets a 2 s timeout fire; the 1.5 s deadline does.
            let e = failure { try self.get("\(base)/drip?n=100&every=0.3") { $0.timeout = 2; $0.deadline = 1.5; $0.caFile = self.ca } }
            let took = Date().timeIntervalSince(started)
            XCTAssertEqual(e?.kind, .timeout, path)
            XCTAssertTrue(e?.message.hasPrefix("GET \(base)/drip?n=100&every=0.3: not finished within deadline: 1.5 s (") ?? false, "\(path): \(e?.message ?? "no error")")
            XCTAssertTrue(e?.message.contains("bytes of the body had arrived") ?? false, "\(path): \(e?.message ?? "")")
            XCTAssertLessThan(took, 4, path)
            // Before the head, and with retries asked for: the deadline still holds.
            let head = failure { try self.get("\(base)/stall-head") { $0.timeout = 5; $0.deadline = 0.5; $0.retries = 3; $0.caFile = self.ca } }
            XCTAssertEqual(head?.kind, .timeout, path)
            XCTAssertTrue(head?.message.contains("not finished within deadline: 0.5 s (no response yet)") ?? false, "\(path): \(head?.message ?? "")")
            // No deadline: a short drip completes.
            let done = try get("\(base)/drip?n=3&every=0.1") { $0.deadline = nil; $0.caFile = self.ca }
            XCTAssertEqual(String(decoding: done.body, as: UTF8.self), "ddd", path)
        }
    }

    func testDownloadOfAnEndlessStreamStopsAtMax() throws {
        try onEveryPath { base, path in
            let out = dir.appendingPathComponent("endless.bin").path
            let fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            defer { close(fd) }
            var spec = HTTPRequestSpec(method: "GET", url: "\(base)/endless")
            spec.maxDownload = 1_000_000
            spec.deadline = 20
            spec.caFile = ca
            let started = Date()
            let e = failure { try HTTPAgent().perform(spec, sink: fd) }
            XCTAssertEqual(e?.kind, .value, path)
            XCTAssertEqual(e?.message, "GET \(base)/endless: the download is larger than max: 1,000,000 bytes; stopped", path)
            XCTAssertLessThan(Date().timeIntervalSince(started), 10, path)
            // A body within the limit is written whole.
            var fits = HTTPRequestSpec(method: "GET", url: "\(base)/huge-body?n=5000")
            fits.maxDownload = 5000
            fits.caFile = ca
            XCTAssertEqual(try HTTPAgent().perform(fits, sink: fd).bodySize, 5000, path)
        }
    }

    func testTLSErrorsAreInWords() {
        let untrusted = failure { try self.get("https://127.0.0.1:\(self.tlsPort)/hello.txt") }
        let plain = failure { try self.get("https://127.0.0.1:\(self.port)/hello.txt") { $0.verify = false } }
        for e in [untrusted, plain] {
            XCTAssertEqual(e?.kind, .tls)
            for name in ["NIOSSL", "BoringSSL", "SSL_", "Error("] { XCTAssertFalse(e?.message.contains(name) ?? true, e?.message ?? "") }
        }
        XCTAssertTrue(untrusted?.message.contains("not signed by a trusted CA") ?? false, untrusted?.message ?? "")
    }

    func testMessagesNameNoLibraryTypes() {
        let cases: [Error] = [HTTPBodyDecodingError(reason: .corrupt, encoding: "gzip")]
        for c in cases {
            let m = HTTPClientFailure.from(c, method: "GET", url: "http://h/").message
            for name in ["inflationError", "Error(", "NIO", "HTTPParserError", "invalidConstant"] {
                XCTAssertFalse(m.contains(name), m)
            }
        }
        for p in [HTTPParserError.invalidConstant, .invalidVersion, .lfExpected, .invalidHeaderToken, .unknown] {
            let m = HTTPClientFailure.from(p, method: "GET", url: "http://h/").message
            XCTAssertFalse(m.contains("\(p)"), m)
            XCTAssertTrue(m.hasPrefix("GET http://h/: malformed response ("), m)
        }
        let name = HTTPClientFailure.from(NIOSSLExtraError.failedToValidateHostname, method: "GET", url: "https://h.test/").message
        XCTAssertEqual(name, "GET https://h.test/: TLS handshake failed: the server's certificate is not for h.test")
        let handshake = HTTPClientFailure.from(NIOSSLError.handshakeFailed(.sslError([])), method: "GET", url: "https://h.test/").message
        XCTAssertEqual(handshake, "GET https://h.test/: TLS handshake failed: the TLS handshake failed")
        struct Odd: Error {}
        XCTAssertFalse(HTTPClientFailure.from(Odd(), method: "GET", url: "http://h/").message.contains("Odd"))
    }
}
