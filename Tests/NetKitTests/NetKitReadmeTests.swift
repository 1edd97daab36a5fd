import Foundation
import XCTest
import NetKit   // not @testable: only what another Swift program can use

/// The example in Sources/NetKit/README.md, run as written (a test checks the README quotes
/// this function), against real servers on loopback: NSD for DNS, aiosmtpd for mail, and an
/// echo server of NetKit's own.
final class NetKitReadmeTests: XCTestCase {
    // README-EXAMPLE-BEGIN
    func example(dnsServer: String, smtpServer: String) throws -> [String] {
        var out: [String] = []

        // Addresses: parse, test membership, summarize.
        let net = try CIDR("192.0.2.0/25")
        out.append("\(net.contains(try IPAddress("192.0.2.7")))")                  // true
        out.append("\(cidrMerge([net, try CIDR("192.0.2.128/25")]))")               // [192.0.2.0/24]

        // DNS: resolve raises NXDOMAIN, SERVFAIL, … as DNSError; NODATA is an empty answer.
        let dns = DNSClient()
        let mx = try dns.resolve("example.test", .MX, server: try DNSServer(dnsServer))
        out.append(mx.message.answers.map(\.dataText).joined(separator: ", "))

        // Mail: one message in one session (STARTTLS when offered unless security: says otherwise),
        // every protocol step reported to a transcript.
        let transcript = Transcript()
        let message = MailMessage(from: "me@example.test", to: ["you@example.test"], subject: "hi", body: "hello")
        let refused = try SMTPClient.send(message, server: smtpServer, security: .none, transcript: transcript)
        out.append("refused: \(refused.count)")
        out.append(transcript.steps.map(Transcript.render).first { $0.hasPrefix("C: MAIL FROM") } ?? "")
        return out
    }
    // README-EXAMPLE-END

    var peers: [Process] = []
    override func tearDown() { peers.forEach(Peers.stop) }

    func testReadmeExampleRunsAgainstRealServers() throws {
        guard let py = Peers.python else { throw XCTSkip("python3 is not installed") }
        let nsd = try NSDServer()
        defer { nsd.stop() }
        let dir = try Peers.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try Peers.freePort()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/smtp_peer.py").path
        peers.append(try Peers.start(py, [script, "--port", "\(port)", "--dir", dir.path]))
        try Peers.waitForPort("127.0.0.1:\(port)")
        let out = try example(dnsServer: nsd.server.description, smtpServer: "127.0.0.1:\(port)")
        XCTAssertEqual(out[0], "true")
        XCTAssertEqual(out[1], "[192.0.2.0/24]")
        XCTAssertTrue(out[2].contains("mail.example.test."), out[2])
        XCTAssertEqual(out[3], "refused: 0")
        XCTAssertTrue(out[4].hasPrefix("C: MAIL FROM:<me@example.test>"), out[4])
    }

    func testReadmeQuotesTheExample() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("Sources/NetKit/README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let begin = source.range(of: "    // README-EXAMPLE-BEGIN\n")!.upperBound
        let end = source.range(of: "    // README-EXAMPLE-END")!.lowerBound
        let example = source[begin..<end].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : String($0) }.joined(separator: "\n")
        XCTAssertTrue(readme.contains(example), "Sources/NetKit/README.md must quote the example of NetKitReadmeTests as it is")
    }
}
