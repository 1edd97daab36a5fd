import Foundation
import XCTest
@testable import NetKit

/// `trace` through a local delegation tree (root → test. → example.test. on 127.0.0.1–3),
/// started from `scripts/lab.d/nsd-tree.sh`.
final class DNSTraceTests: XCTestCase {
    func testTraceFollowsReferralsFromTheRoot() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nsd") else { throw XCTSkip("nsd is not installed") }
        let port = NSDServer.freePort()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tree-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", "source scripts/lab.d/nsd-tree.sh && lab_start"]
        p.currentDirectoryURL = NSDServer.repoRoot
        var env = ProcessInfo.processInfo.environment
        env["LAB_DIR"] = dir.path; env["TREE_PORT"] = String(port)
        p.environment = env
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run()
        defer {
            p.terminate()
            let deadline = Date().addingTimeInterval(5)
            while p.isRunning && Date() < deadline { usleep(10_000) }
            try? FileManager.default.removeItem(at: dir)
        }
        let leaf = DNSServer(address: try IPAddress("127.0.0.3"), port: port)
        var o = DNSQueryOptions(); o.timeout = 0.2; o.retries = 0
        let deadline = Date().addingTimeInterval(10)
        while (try? DNSClient().query(try DNSName("example.test"), .SOA, server: leaf, options: o)) == nil {
            guard Date() < deadline, p.isRunning else { throw XCTSkip("the delegation tree did not start") }
            usleep(50_000)
        }
        let t = Transcript()
        o.timeout = 2
        let root = DNSServer(address: try IPAddress("127.0.0.1"), port: port)
        let steps = try DNSClient(transcript: t).trace(try DNSName("www.example.test"), .A, roots: [root], options: o)
        XCTAssertEqual(steps.map(\.zone.description), [".", "test.", "example.test."])
        XCTAssertEqual(steps.map(\.server.description), ["127.0.0.1:\(port)", "127.0.0.2:\(port)", "127.0.0.3:\(port)"])
        XCTAssertEqual(steps.map { $0.referral?.description ?? "-" }, ["test.", "example.test.", "-"])
        XCTAssertEqual(steps.last?.response.message.answers.first?.dataText, "192.0.2.80")
        XCTAssertFalse(steps.last!.response.message.flags.rd, "iterative queries do not ask for recursion")
        XCTAssertTrue(t.steps.contains { $0.text.contains("refers www.example.test. to test.") })
        let nx = try DNSClient().trace(try DNSName("nope.example.test"), .A, roots: [root], options: o)
        XCTAssertEqual(nx.last?.response.message.rcode, 3)
        XCTAssertEqual(nx.count, 3)
    }
}
