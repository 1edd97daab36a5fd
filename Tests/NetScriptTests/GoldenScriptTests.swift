import Foundation
import XCTest

/// Runs every `Tests/Scripts/*.net` with the built `netscript` (working directory
/// `Tests/Scripts`, relative file name) and compares stdout with `NAME.out`, stderr with
/// `NAME.err` (empty when absent) and the exit status with `NAME.rc` (0 when absent).
/// A first line `# args: a b c` gives the script's arguments.
final class GoldenScriptTests: XCTestCase {
    func testGoldenScripts() throws {
        let exe = try NetScriptBinary.path()
        let dir = NetScriptBinary.scriptsDir
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".net") }.sorted()
        XCTAssertGreaterThan(names.count, 20, "golden scripts missing from \(dir.path)")
        for name in names {
            let base = String(name.dropLast(4))
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            var args: [String] = []
            if let first = text.split(separator: "\n", omittingEmptySubsequences: false).first, first.hasPrefix("# args:") {
                args = splitArgs(String(first.dropFirst("# args:".count)))
            }
            func read(_ ext: String) -> String? {
                try? String(contentsOf: dir.appendingPathComponent("\(base).\(ext)"), encoding: .utf8)
            }
            guard let expectedOut = read("out") else { XCTFail("\(name): missing \(base).out"); continue }
            let expectedErr = read("err") ?? ""
            let expectedRC = Int32((read("rc") ?? "0").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            let r = try runProcess(exe, [name] + args, cwd: dir, timeout: 30)
            XCTAssertFalse(r.timedOut, "\(name): timed out")
            if r.stdout != expectedOut {
                XCTFail("\(name): stdout differs\n" + lineDiff(expected: expectedOut, actual: r.stdout))
            }
            if r.stderr != expectedErr {
                XCTFail("\(name): stderr differs\n" + lineDiff(expected: expectedErr, actual: r.stderr))
            }
            XCTAssertEqual(r.status, expectedRC, "\(name): exit status")
        }
    }

    /// Splits `a b "c d"` like a shell would (double quotes only).
    func splitArgs(_ s: String) -> [String] {
        var out: [String] = [], cur = "", inQuote = false, has = false
        for c in s {
            if c == "\"" { inQuote.toggle(); has = true }
            else if c == " " && !inQuote { if has { out.append(cur) }; cur = ""; has = false }
            else { cur.append(c); has = true }
        }
        if has { out.append(cur) }
        return out
    }
}

/// The command line: -e, standard input, shebang files, --version, --help, bad options, and
/// the contract examples from the issue.
final class CommandLineTests: XCTestCase {
    var exe = ""
    override func setUpWithError() throws { exe = try NetScriptBinary.path() }

    func run(_ args: [String], stdin: String? = nil, cwd: URL? = nil) throws -> RunResult {
        try runProcess(exe, args, stdin: stdin, cwd: cwd)
    }

    func testContractHello() throws {
        let r = try run(["-e", "x = 40 + 2\nname = \"world\"\nprint \"hello {name}, x={x}\""])
        XCTAssertEqual(r.stdout, "hello world, x=42\n")
        XCTAssertEqual(r.stderr, "")
        XCTAssertEqual(r.status, 0)
    }

    func testContractFunctionsAndSort() throws {
        let r = try run(["-e", "fn add(a, b) { return a + b }\nprint (add 2 3)\nxs = [3, 1, 2]\nprint (len xs)\nfor x in sort xs { print x }"])
        XCTAssertEqual(r.stdout, "5\n3\n1\n2\n3\n")
        XCTAssertEqual(r.status, 0)
    }

    func testContractNameErrorInFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "print y\n".write(to: dir.appendingPathComponent("t.net"), atomically: true, encoding: .utf8)
        let r = try run(["t.net"], cwd: dir)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "t.net:1:7: error[name]: 'y' is not defined\n  |\n1 | print y\n  |       ^\n")
    }

    func testContractTryFail() throws {
        let r = try run(["-e", "try { fail \"boom\" } catch e { print e.message }"])
        XCTAssertEqual(r.stdout, "boom\n")
        XCTAssertEqual(r.status, 0)
    }

    func testContractJSON() throws {
        let r = try run(["-e", "print (json {a: 1, b: [1, 2]})"])
        XCTAssertEqual(r.stdout, "{\"a\":1,\"b\":[1,2]}\n")
    }

    func testSeveralDashEPiecesAndArgs() throws {
        let r = try run(["-e", "x = 1", "-e", "print x (args)", "p", "q"])
        XCTAssertEqual(r.stdout, "1 [\"p\", \"q\"]\n")
        XCTAssertEqual(r.status, 0)
    }

    func testDashEErrorsUseDashEAsFileName() throws {
        let r = try run(["-e", "print 1\nprint (1 / 0)"])
        XCTAssertEqual(r.stdout, "1\n")
        XCTAssertTrue(r.stderr.hasPrefix("-e:2:7: error[zero]: division by zero\n"), r.stderr)
        XCTAssertEqual(r.status, 1)
    }

    func testProgramOnStdin() throws {
        let r = try run([], stdin: "xs = [1, 2]\nfor x in xs { print (x * 10) }\n")
        XCTAssertEqual(r.stdout, "10\n20\n")
        XCTAssertEqual(r.status, 0)
        let dash = try run(["-", "a1"], stdin: "print (args)\n")
        XCTAssertEqual(dash.stdout, "[\"a1\"]\n")
    }

    func testStdinSyntaxErrorExitsTwo() throws {
        let r = try run([], stdin: "print (1 +\n")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("<stdin>:1:"), r.stderr)
        XCTAssertTrue(r.stderr.contains("error[syntax]"), r.stderr)
    }

    func testShebangFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-shebang-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("hello")
        try "#!/usr/bin/env netscript\nprint \"shebang ok\" (args)\n".write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        // Through the executable directly, and through the kernel with netscript on PATH.
        let direct = try run([script.path, "x"])
        XCTAssertEqual(direct.stdout, "shebang ok [\"x\"]\n")
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = URL(fileURLWithPath: exe).deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        let viaKernel = try runProcess(script.path, ["y"], env: env)
        XCTAssertEqual(viaKernel.stdout, "shebang ok [\"y\"]\n", viaKernel.stderr)
        XCTAssertEqual(viaKernel.status, 0)
    }

    func testVersionAndHelp() throws {
        let v = try run(["--version"])
        XCTAssertEqual(v.status, 0)
        XCTAssertTrue(v.stdout.hasPrefix("netscript "), v.stdout)
        let h = try run(["--help"])
        XCTAssertEqual(h.status, 0)
        XCTAssertTrue(h.stdout.hasPrefix("usage: netscript"), h.stdout)
        XCTAssertTrue(h.stdout.contains("-e CODE"))
        XCTAssertEqual(try run(["-h"]).stdout, h.stdout)
    }

    func testUnknownOptionIsUsageError() throws {
        let r = try run(["--frobnicate"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("unknown option --frobnicate"), r.stderr)
        let missing = try run(["-e"])
        XCTAssertEqual(missing.status, 2)
    }

    func testMissingScriptFileIsIOError() throws {
        let r = try run(["/no/such/script.net"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("error[io]"), r.stderr)
    }

    func testExitStatusAndFlushedOutput() throws {
        let r = try run(["-e", "print \"bye\"\nexit 7"])
        XCTAssertEqual(r.stdout, "bye\n")
        XCTAssertEqual(r.status, 7)
    }
}
