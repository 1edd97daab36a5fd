import Foundation
import XCTest

/// The seed's chapters, as a newcomer would write them in NetScript: one short script per
/// chapter in `Tests/Seed` (sockets, SMTP, FTP, DNS, HTTP client and server, addresses at
/// layers 3 and 2), run against the lab's real servers (`scripts/lab`, on free loopback
/// ports chosen here) and compared with `NAME.out`. A `NAME.server.net` beside a chapter is
/// started first, on a port of its own in `$PORT`, and its own output compared with
/// `NAME.server.out` once it ends.
final class SeedChapterTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let seedDir = root.appendingPathComponent("Tests/Seed")
    var labDir: URL!
    var work: URL!
    var env: [String: String] = [:]
    var started = false

    override func setUpWithError() throws {
        labDir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-seed-lab-\(UUID().uuidString.prefix(8))")
        work = FileManager.default.temporaryDirectory.appendingPathComponent("ns-seed-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: labDir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        env = ProcessInfo.processInfo.environment
        env["LAB_DIR"] = labDir.path
        for key in ["SMTP_PORT", "FTP_PORT", "NSD_PORT", "HTTP_ECHO_PORT", "NGINX_HTTP_PORT"] {
            env[key] = String(try freePort())
        }
        let lab = try lab(["start", "smtp", "ftp", "nsd", "http-echo", "nginx-http"])
        started = true
        guard lab.status == 0 else {
            let logs = (try? FileManager.default.contentsOfDirectory(atPath: labDir.path))?.filter { $0.hasSuffix(".log") }
                .map { name in "\(name):\n" + ((try? String(contentsOf: labDir.appendingPathComponent(name), encoding: .utf8)) ?? "") }
                .joined(separator: "\n") ?? ""
            XCTFail("the lab did not start:\n\(lab.output)\n\(logs)")
            throw XCTSkip("no lab")
        }
    }

    override func tearDown() {
        if started {
            _ = try? lab(["stop"])
        }
        if let labDir { try? FileManager.default.removeItem(at: labDir) }
        if let work { try? FileManager.default.removeItem(at: work) }
    }

    func runEnv(_ argv: [String], cwd: URL? = nil, extra: [String: String] = [:], timeout: TimeInterval = 60) throws -> RunResult {
        var e = env
        for (k, v) in extra { e[k] = v }
        return try runProcess(argv[0], Array(argv.dropFirst()), cwd: cwd, env: e, timeout: timeout)
    }

    /// Runs the lab script with posix_spawn and waitpid: the servers it leaves running keep
    /// descriptors Foundation's Process watches, so Process would not see it end.
    func lab(_ args: [String]) throws -> (status: Int32, output: String) {
        let out = labDir.appendingPathComponent("lab-\(UUID().uuidString.prefix(8)).out").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = (["/bin/bash", Self.root.appendingPathComponent("scripts/lab").path] + args).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/bash", &actions, nil, argv, envp)
        guard rc == 0 else { throw NSError(domain: "posix_spawn", code: Int(rc)) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        return ((status >> 8) & 0xFF, text)
    }

    func testEachSeedChapterAgainstTheLab() throws {
        let exe = try NetScriptBinary.path()
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.seedDir.path)
            .filter { $0.hasSuffix(".net") && !$0.hasSuffix(".server.net") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 8, "seed chapters missing from \(Self.seedDir.path)")
        for name in names {
            let base = String(name.dropLast(4))
            // Each chapter runs in a directory of its own, so files it writes go nowhere else.
            let dir = work.appendingPathComponent(base)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for file in try FileManager.default.contentsOfDirectory(atPath: Self.seedDir.path) where file.hasPrefix(base + ".") {
                try FileManager.default.copyItem(at: Self.seedDir.appendingPathComponent(file), to: dir.appendingPathComponent(file))
            }
            func expected(_ ext: String) -> String? { try? String(contentsOf: dir.appendingPathComponent("\(base).\(ext)"), encoding: .utf8) }
            var extra: [String: String] = [:]
            var server: SocketScriptTests.Background? = nil
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(base).server.net").path) {
                let port = try freePort()
                extra["PORT"] = String(port)
                server = SocketScriptTests.Background("/usr/bin/env", ["PORT=\(port)", exe, "\(base).server.net"], cwd: dir, timeout: 60)
                waitForListening(port)
            }
            let r = try runEnv([exe, name], cwd: dir, extra: extra, timeout: 60)
            XCTAssertFalse(r.timedOut, "\(name): timed out")
            if let want = expected("out") {
                if r.stdout != want { XCTFail("\(name): stdout differs (stderr: \(r.stderr))\n" + lineDiff(expected: want, actual: r.stdout)) }
            } else {
                XCTFail("\(name): missing \(base).out; it printed:\n\(r.stdout)\(r.stderr)")
            }
            XCTAssertEqual(r.stderr, "", "\(name): stderr")
            XCTAssertEqual(r.status, 0, "\(name): exit status")
            if let server {
                let s = server.wait(30)
                XCTAssertNotNil(s, "\(base).server.net did not end")
                if let s {
                    XCTAssertEqual(s.stdout, expected("server.out") ?? "", "\(base).server.net: stdout (stderr: \(s.stderr))")
                    XCTAssertEqual(s.status, 0, "\(base).server.net: exit status; stderr: \(s.stderr)")
                }
            }
        }
    }
}
