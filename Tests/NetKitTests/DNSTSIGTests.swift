import Foundation
import XCTest
@testable import NetKit

/// Hashes, HMAC and TSIG: known-answer vectors, then signed updates against Knot and a
/// signed transfer from NSD (both started here on loopback).
final class DNSTSIGTests: XCTestCase {
    func hex(_ b: [UInt8]) -> String { DNSText.hex(b).lowercased() }

    func testHashAndHMACVectors() {
        XCTAssertEqual(hex(Digests.sha256([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(Digests.sha256(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(Digests.sha256(Array(repeating: 0x61, count: 1_000))), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
        XCTAssertEqual(hex(Digests.md5([])), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(hex(Digests.md5(Array("The quick brown fox jumps over the lazy dog".utf8))), "9e107d9d372bb6826bd81d3542a419d6")
        // RFC 4231 test case 2 and RFC 2202 test case 2.
        XCTAssertEqual(hex(Digests.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(hex(Digests.hmacMD5(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))),
                       "750c783e6ab0b503eaa86e310a5db738")
        // RFC 4231 test case 6: a key longer than the block.
        XCTAssertEqual(hex(Digests.hmacSHA256(key: Array(repeating: 0xaa, count: 131),
                                        message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func testSignAndVerifyRoundTrip() throws {
        let key = try DNSTSIGKey("hmac-sha256:k.test:c2VjcmV0")
        let q = try DNSMessage.query(DNSQuestion(try DNSName("x.test"), .A), id: 77).encode()
        let (signed, mac) = DNSTSIG.sign(q, key: key, time: 1_000_000)
        // The TSIG record is kept apart from the additional records, and printed as dig does.
        let decoded = try DNSMessage(decoding: signed)
        XCTAssertEqual(decoded.tsig?.type, .TSIG)
        XCTAssertTrue(decoded.additional.allSatisfy { $0.type != .TSIG })
        let again = try DNSMessage(decoding: try decoded.encode())
        XCTAssertEqual(again.tsig, decoded.tsig, "re-encoding keeps the TSIG record, last")
        XCTAssertEqual(again.additionalCount, 2)
        XCTAssertTrue(decoded.text().contains(";; TSIG PSEUDOSECTION:\nk.test.\t\t\t0\tANY\tTSIG\thmac-sha256. 1000000 300 32 "), decoded.text())
        // A "response" signed over the request MAC verifies; a flipped byte does not.
        let (resp, _) = DNSTSIG.sign(q, key: key, time: 1_000_000, requestMAC: mac)
        XCTAssertNotNil(try DNSTSIG.verify(resp, key: key, requestMAC: mac, now: 1_000_100))
        var bad = resp; bad[13] ^= 1
        XCTAssertThrowsError(try DNSTSIG.verify(bad, key: key, requestMAC: mac, now: 1_000_100)) { XCTAssertEqual(($0 as? DNSError)?.kind, .tsig) }
        XCTAssertThrowsError(try DNSTSIG.verify(resp, key: key, requestMAC: mac, now: 1_000_400), "outside the fudge")
        XCTAssertThrowsError(try DNSTSIGKey("hmac-sha1:k:c2VjcmV0"))
    }

    static let sha = "hmac-sha256:update-key:c2VjcmV0LXNoYTI1Ni1rZXktZm9yLXRlc3Rz"

    func startKnot() throws -> (Process, UInt16, URL) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/knotd") else { throw XCTSkip("knot is not installed (apt-get install knot)") }
        let port = NSDServer.freePort()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("knot-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", "source scripts/lab.d/knot.sh && lab_start"]
        p.currentDirectoryURL = NSDServer.repoRoot
        var env = ProcessInfo.processInfo.environment
        env["LAB_DIR"] = dir.path; env["KNOT_PORT"] = String(port)
        p.environment = env
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run()
        var o = DNSQueryOptions(); o.timeout = 0.2; o.retries = 0
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, p.isRunning {
            if let r = try? DNSClient().query(try DNSName("update.test"), .SOA, server: DNSServer(address: try IPAddress("127.0.0.1"), port: port), options: o),
               !r.message.answers.isEmpty { return (p, port, dir) }
            usleep(50_000)
        }
        p.terminate(); p.waitUntilExit()
        throw XCTSkip("knot did not start")
    }

    func testSignedUpdatesAgainstKnot() throws {
        let (p, port, dir) = try startKnot()
        defer { p.terminate(); p.waitUntilExit(); try? FileManager.default.removeItem(at: dir) }
        let server = DNSServer(address: try IPAddress("127.0.0.1"), port: port)
        let zone = try DNSName("update.test")
        let client = DNSClient()
        let key = try DNSTSIGKey(Self.sha)
        var r = try client.update(zone, server: server, prerequisites: [try DNSUpdate.absent("www", zone: zone)],
                                  updates: [try DNSUpdate.delete("old A", zone: zone), try DNSUpdate.add("www 300 A 192.0.2.80", zone: zone)], key: key)
        XCTAssertEqual(r.message.rcode, 0)
        var o = DNSQueryOptions(); o.timeout = 2
        XCTAssertEqual(try client.query(try DNSName("www.update.test"), .A, server: server, options: o).message.answers.first?.dataText, "192.0.2.80")
        XCTAssertEqual(try client.query(try DNSName("old.update.test"), .A, server: server, options: o).message.rcode, 3)
        // Prerequisites that fail, with each rcode.
        r = try client.update(zone, server: server, prerequisites: [try DNSUpdate.absent("www", zone: zone)], updates: [try DNSUpdate.add("y A 192.0.2.1", zone: zone)], key: key)
        XCTAssertEqual(DNSClient.rcodeError(r.message, r.question, r.server)?.kind, .yxdomain)
        r = try client.update(zone, server: server, prerequisites: [try DNSUpdate.exists("www MX", zone: zone)], updates: [try DNSUpdate.add("y A 192.0.2.1", zone: zone)], key: key)
        XCTAssertEqual(DNSClient.rcodeError(r.message, r.question, r.server)?.kind, .nxrrset)
        // HMAC-MD5 too; then a signed AXFR shows both changes.
        r = try client.update(zone, server: server, updates: [try DNSUpdate.add("md5 60 TXT \"signed with md5\"", zone: zone)],
                              key: try DNSTSIGKey("hmac-md5:md5-key:c2VjcmV0LW1kNS1rZXk="))
        XCTAssertEqual(r.message.rcode, 0)
        // Without an algorithm a key is hmac-md5, as dig takes `-y NAME:SECRET`: one string for both.
        let bare = "md5-key:c2VjcmV0LW1kNS1rZXk="
        XCTAssertEqual(try DNSTSIGKey(bare).algorithm, .hmacMD5)
        r = try client.update(zone, server: server, updates: [try DNSUpdate.add("bare 60 TXT \"no algorithm\"", zone: zone)], key: try DNSTSIGKey(bare))
        XCTAssertEqual(r.message.rcode, 0)
        let digBare = try runTool("/usr/bin/dig", ["+noall", "+answer", "-y", bare, "TXT", "bare.update.test", "@127.0.0.1", "-p", String(port)])
        XCTAssertTrue(digBare.contains("\"no algorithm\""), digBare)
        let recs = try client.axfr(zone, server: server, key: key)
        XCTAssertTrue(recs.contains { $0.description == "md5.update.test.\t60\tIN\tTXT\t\"signed with md5\"" }, recs.map(\.description).joined(separator: "\n"))
        // IXFR from the first serial: the differences, exactly as dig prints them.
        let ixfr = try client.ixfr(zone, serial: 1, server: server, key: key)
        let dig = try runTool("/usr/bin/dig", ["+noall", "+answer", "-y", Self.sha, "ixfr=1", "update.test", "@127.0.0.1", "-p", String(port)])
        XCTAssertEqual(ixfr.map(\.description), dig.split(separator: "\n").map(String.init))
        XCTAssertGreaterThan(ixfr.filter { $0.type == .SOA }.count, 3)
        guard let current = DNSClient.serial(ixfr[0]) else { return XCTFail("no SOA first") }
        XCTAssertEqual(try client.ixfr(zone, serial: current, server: server, key: key).count, 1, "up to date: just the SOA")
        // Wrong secret: the server's TSIG error; no key: NOTAUTH.
        XCTAssertThrowsError(try client.update(zone, server: server, updates: [try DNSUpdate.add("z A 192.0.2.1", zone: zone)],
                                               key: try DNSTSIGKey("hmac-sha256:update-key:d3Jvbmc="))) { e in
            XCTAssertEqual((e as? DNSError)?.kind, .tsig)
            XCTAssertTrue("\(e)".contains("BADSIG"), "\(e)")
        }
        r = try client.update(zone, server: server, updates: [try DNSUpdate.add("z A 192.0.2.1", zone: zone)])
        XCTAssertEqual(DNSClient.rcodeError(r.message, r.question, r.server)?.kind, .notauth)
    }

    func testSignedAXFRFromNSD() throws {
        let nsd = try NSDServer()
        defer { nsd.stop() }
        let key = try DNSTSIGKey("hmac-sha256:xfr-key:eGZyLWtleS1zZWNyZXQtZm9yLXRoZS10ZXN0cw==")
        let recs = try DNSClient().axfr(try DNSName("example.test"), server: nsd.server, key: key)
        XCTAssertEqual(recs.count, 10_079)
        XCTAssertThrowsError(try DNSClient().axfr(try DNSName("example.test"), server: nsd.server, key: try DNSTSIGKey("hmac-sha256:xfr-key:d3Jvbmc="))) {
            XCTAssertEqual(($0 as? DNSError)?.kind, .tsig)
        }
    }
}
