import Foundation
import XCTest
import NetKit

/// Tasks, `parallel for`, `pmap`, `shard` and `emit` through the built `netscript`, against
/// real peers on loopback (a Python banner server, netscript's own listeners).
final class ConcurrencyScriptTests: XCTestCase {
    var exe = ""
    var peers: [Process] = []
    override func setUpWithError() throws { exe = try NetScriptBinary.path() }
    override func tearDown() { stopProcesses(peers); peers = [] }

    func ns(_ code: String, env: [String: String]? = nil, timeout: TimeInterval = 30) throws -> RunResult {
        let r = try runProcess(exe, ["-e", code], env: env, timeout: timeout)
        XCTAssertFalse(r.timedOut, "netscript timed out: \(code)")
        return r
    }

    /// A threaded Python server that answers each client with "banner PORT" and closes.
    func bannerServer() throws -> Int {
        let port = try freePort()
        let code = """
        import socketserver, sys
        class H(socketserver.BaseRequestHandler):
            def handle(self): self.request.sendall(b"banner %d\\r\\n" % self.server.server_address[1])
        class S(socketserver.ThreadingTCPServer):
            allow_reuse_address = True; daemon_threads = True; request_queue_size = 512
        S(("127.0.0.1", \(port)), H).serve_forever()
        """
        let p = try startQuiet(try python(), ["-c", code])
        peers.append(p)
        waitForListening(port)
        return port
    }

    // MARK: tasks

    func testSpawnAndWaitGiveValuesInOrder() throws {
        let r = try ns("""
        fn double(x) { sleep (0.01 * (5 - x)); x * 2 }
        ts = [spawn double 1, spawn double 2, spawn { "block" }, spawn double 3 ]
        print (wait ts)
        t = spawn fn(a, b: 0) { a + b } 40 b: 2
        print (wait t) t.done t.id
        """)
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(r.stdout, "[2, 4, \"block\", 6]\n42 true 5\n")
    }

    /// A task runs while the spawner waits on the network: the task accepts the connection
    /// the spawner makes, which only works if both run at once.
    func testTaskRunsWhileSpawnerWaitsOnNetwork() throws {
        let r = try ns("""
        l = listen "127.0.0.1:0"
        t = spawn { c = accept l timeout: 5; line = recv.line c; send c "got {line}\\n"; line }
        c = connect "127.0.0.1:{l.port}"
        send c "hi\\n"
        print (recv.line c timeout: 5)
        print (wait t)
        """)
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(r.stdout, "got hi\nhi\n")
    }

    func testWaitRaisesTheTasksErrorWithItsLocation() throws {
        let r = try ns("""
        t = spawn {
            x = 1
            connect "127.0.0.1:1" timeout: 2
        }
        try { wait t } catch "refused" e { print e.kind e.line e.column e.address }
        wait t
        """)
        XCTAssertEqual(r.stdout, "refused 3 5 127.0.0.1:1\n")
        XCTAssertTrue(r.stderr.hasPrefix("-e:3:5: error[refused]:"), r.stderr)
        XCTAssertEqual(r.status, 1)
        let bad = try ns("wait 3")
        XCTAssertTrue(bad.stderr.contains("error[type]: wait: needs a task"), bad.stderr)
        let slow = try ns("t = spawn { sleep 5 }; wait t timeout: 0.1")
        XCTAssertTrue(slow.stderr.contains("error[timeout]: wait: task 1 did not finish in time"), slow.stderr)
    }

    func testTraceLabelsStepsWithTheirTask() throws {
        let port = try bannerServer()
        let r = try ns("""
        trace on
        t = spawn { c = connect "127.0.0.1:\(port)"; recv.line c }
        print (wait t)
        """)
        XCTAssertEqual(r.stdout, "banner \(port)\n")
        let lines = r.stderr.split(separator: "\n")
        XCTAssertFalse(lines.isEmpty)
        XCTAssertTrue(lines.contains { $0.hasPrefix("[task 1] ") && $0.contains("banner \(port)") }, r.stderr)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("[task 1] ") }, r.stderr)
    }

    // MARK: parallel for and pmap

    func testParallelForAndPmapCoverEveryItemInOrder() throws {
        let port = try bannerServer()
        let r = try ns("""
        hosts = map fn(i) { "127.0.0.1" } (range 300)
        banners = pmap fn(h) { c = connect "{h}:\(port)" timeout: 5; b = recv.line c; close c; b } hosts concurrency: 50
        print (len banners) (len (filter fn(b) { b == "banner \(port)" } banners))
        seen = {}
        parallel for i in range 300 concurrency: 40 {
            sleep (0.001 * (i % 5))
            seen[i] = i * i
        }
        print (len seen) (sum (values seen)) (sum (map fn(i) { i * i } (range 300)))
        print (pmap fn(x) { sleep (0.002 * (10 - x)); x * 10 } (range 10) concurrency: 10)
        parallel for k, v in {a: 1, b: 2} { print k v }
        """)
        XCTAssertEqual(r.stderr, "")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.prefix(3)), ["300 300", "300 8955050 8955050", "[0, 10, 20, 30, 40, 50, 60, 70, 80, 90]"])
        XCTAssertEqual(Set(lines.dropFirst(3)), ["a 1", "b 2"])
    }

    /// The loop's options end its items at their own level, whatever the items are: a list
    /// or map literal, a command with options of its own inside brackets.
    func testParallelForOptionsAfterAnyItemsExpression() throws {
        let r = try ns("""
        seen = {}
        parallel for h in [1, 2, 3] concurrency: 2 { seen[h] = h * 10 }
        print (sum (values seen))
        parallel for k, v in {a: 1} rate: 100 { print k v }
        errs = parallel for x in (pmap fn(i) { i + 1 } [1, 2] concurrency: 1) errors: "collect" { if x > 2 { fail "big {x}" } }
        print (len errs)
        """)
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(r.stdout, "60\na 1\n1\n")
    }

    func testFirstErrorStopsTheRestAndIsRaised() throws {
        let r = try ns("""
        ran = []
        try {
            pmap fn(i) { append ran i; if i == 3 { fail "item {i}" kind: "probe" }; i } (range 100) concurrency: 1
        } catch "probe" e { print e.kind e.message e.line }
        print ran
        parallel for i in range 50 concurrency: 4 {
            if i == 7 { connect "127.0.0.1:1" timeout: 2 }
        }
        """)
        XCTAssertEqual(r.stdout, "probe item 3 3\n[0, 1, 2, 3]\n")
        XCTAssertTrue(r.stderr.hasPrefix("-e:7:17: error[refused]:"), r.stderr)
        XCTAssertEqual(r.status, 1)
    }

    func testCollectGivesEachFailedItemsError() throws {
        let r = try ns("""
        rs = pmap fn(p) { connect "127.0.0.1:{p}" timeout: 2; "up" } [1, 1, 1] concurrency: 3 errors: "collect"
        print (map fn(e) { e.kind } rs)
        rs = pmap fn(i) { if i % 2 { fail "odd {i}" }; i } (range 6) errors: "collect"
        print (map fn(x) { if type(x) == "error" { return x.message }; x } rs)
        errs = parallel for i in range 5 errors: "collect" { if i > 2 { fail "no {i}" } }
        print (map fn(e) { e.message } errs)
        pmap fn(x) { x } [1] errors: "sometimes"
        """)
        XCTAssertEqual(r.stdout, """
        ["refused", "refused", "refused"]
        [0, "odd 1", 2, "odd 3", 4, "odd 5"]
        ["no 3", "no 4"]

        """)
        XCTAssertTrue(r.stderr.contains("error[value]: pmap: errors: must be \"stop\" or \"collect\""), r.stderr)
    }

    /// The rate limit is an upper bound on starts: measured from the items' own start times
    /// over a bounded run (60 items at 200 a second, about 0.3 s), never more than 10 % over.
    func testRateLimitHoldsStartsToTheRate() throws {
        let r = try ns("""
        starts = pmap fn(i) { t = now; sleep 0.01; t } (range 60) concurrency: 20 rate: 200
        starts = sort starts
        print ((len starts - 1) / (starts[-1] - starts[0]))
        """)
        XCTAssertEqual(r.stderr, "")
        let observed = Double(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        XCTAssertLessThanOrEqual(observed, 220, "starts ran at \(observed)/s, over rate: 200 by more than 10 %")
        XCTAssertGreaterThan(observed, 60, "starts ran at only \(observed)/s")
        let bad = try ns("pmap fn(x) { x } [1] rate: 0")
        XCTAssertTrue(bad.stderr.contains("error[value]: pmap: rate: must be a positive number"), bad.stderr)
    }

    /// Ctrl-C while 200 items wait on a server that never answers ends every task and the
    /// process with status 130.
    func testCtrlCUnderLoadCancelsEveryTaskAndExits130() throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("ns-ctrlc-\(UUID().uuidString).net")
        try """
        l = listen "127.0.0.1:0" backlog: 512
        t = spawn { sleep 60 }
        print "started"
        parallel for i in range 1000 concurrency: 200 {
            c = connect "127.0.0.1:{l.port}"
            recv.line c timeout: 60
        }
        print "not reached"
        """.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = [script.path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        peers.append(p)
        // Wait for "started" and for the workers to be blocked on the server.
        let first = out.fileHandleForReading.availableData
        XCTAssertEqual(String(decoding: first, as: UTF8.self), "started\n")
        usleep(500_000)
        kill(p.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(10)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        XCTAssertFalse(p.isRunning, "netscript did not stop within 10 s of Ctrl-C")
        XCTAssertEqual(p.terminationStatus, 130)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(stderr.contains("interrupted"), stderr)
        XCTAssertFalse(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("not reached"))
    }

    // MARK: shard and emit

    static let shardScript = """
    for x in shard (map fn(i) { "host{i}.test" } (range 1000)) { emit {host: x, n: len x} }
    """

    func testShardFromEachEnvironmentFormIsDisjointAndComplete() throws {
        let all = try ns(Self.shardScript)
        XCTAssertEqual(all.stderr, "")
        let full = all.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(full.count, 1000)
        XCTAssertEqual(full[0], "{\"host\":\"host0.test\",\"n\":10}")
        var base = ProcessInfo.processInfo.environment
        for k in ["NETSCRIPT_SHARD", "NETSCRIPT_SHARDS", "JOB_COMPLETION_INDEX"] { base[k] = nil }
        var union: [String] = []
        var viaK8s: [[String]] = []
        for k in 1...4 {
            var env = base
            env["NETSCRIPT_SHARD"] = "\(k)/4"
            let a = try ns(Self.shardScript, env: env).stdout.split(separator: "\n").map(String.init)
            let b = try runProcess(exe, ["--shard", "\(k)/4", "-e", Self.shardScript], env: base).stdout.split(separator: "\n").map(String.init)
            var job = base
            job["JOB_COMPLETION_INDEX"] = "\(k - 1)"
            job["NETSCRIPT_SHARDS"] = "4"
            let c = try ns(Self.shardScript, env: job).stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(a, b)
            XCTAssertEqual(a, c)
            XCTAssertGreaterThan(a.count, 150, "shard \(k)/4 holds only \(a.count) of 1000")
            union += a
            viaK8s.append(c)
        }
        XCTAssertEqual(union.count, 1000, "shards overlap or miss items")
        XCTAssertEqual(union.sorted(), full.sorted())
        var bad = base
        bad["NETSCRIPT_SHARD"] = "5/4"
        XCTAssertTrue(try ns(Self.shardScript, env: bad).stderr.contains("error[value]: shard: NETSCRIPT_SHARD must be K/N"))
        bad = base
        bad["JOB_COMPLETION_INDEX"] = "1"
        XCTAssertTrue(try ns(Self.shardScript, env: bad).stderr.contains("NETSCRIPT_SHARDS"))
        XCTAssertEqual(try ns("print (shard [1, 2, 3] of: \"1/1\")").stdout, "[1, 2, 3]\n")
    }

    /// Four shards run by GNU parallel give exactly the one-process output, sorted.
    func testFourShardsUnderGNUParallelMatchOneProcess() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/parallel") else { throw XCTSkip("GNU parallel is not installed (scripts/deps)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-shard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("s.net")
        try Self.shardScript.write(to: script, atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        for k in ["NETSCRIPT_SHARD", "NETSCRIPT_SHARDS", "JOB_COMPLETION_INDEX", "PARALLEL"] { env[k] = nil }
        let one = try runProcess(exe, [script.path], env: env)
        let many = try runProcess("/usr/bin/parallel", ["--will-cite", "-j4", exe, "--shard", "{}/4", script.path, ":::", "1", "2", "3", "4"], env: env, timeout: 60)
        XCTAssertEqual(many.status, 0, many.stderr)
        XCTAssertEqual(many.stdout.split(separator: "\n").sorted(), one.stdout.split(separator: "\n").sorted())
        XCTAssertEqual(one.stdout.split(separator: "\n").count, 1000)
    }
}
