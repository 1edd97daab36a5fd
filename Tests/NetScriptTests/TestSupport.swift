import Foundation
import XCTest
import NetKit

/// Shared helpers for tests that run the built `netscript` executable.
enum NetScriptBinary {
    /// The directory holding `Tests/Scripts`.
    static let scriptsDir: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Scripts")

    /// The `netscript` executable built next to the test bundle (the test target depends on it).
    static func path() throws -> String {
        let fm = FileManager.default
        var candidates: [URL] = []
        let bundle = Bundle(for: Marker.self).bundleURL
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("netscript"))
        candidates.append(bundle.appendingPathComponent("netscript"))
        if let exe = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("netscript"))
        }
        for c in candidates where fm.isExecutableFile(atPath: c.path) { return c.path }
        throw XCTSkip("netscript executable not found next to the test bundle (looked in \(candidates.map(\.path)))")
    }
    private final class Marker {}
}

struct RunResult {
    var stdout: String
    var stderr: String
    var status: Int32
    var timedOut: Bool
}

/// Runs a program with arguments, optional stdin text, in a directory, with a timeout.
/// Output goes through temporary files, so large outputs cannot deadlock a pipe.
func runProcess(_ exe: String, _ args: [String], stdin: String? = nil, cwd: URL? = nil,
                env: [String: String]? = nil, timeout: TimeInterval = 20) throws -> RunResult {
    let fm = FileManager.default
    let tmp = fm.temporaryDirectory.appendingPathComponent("ns-run-\(UUID().uuidString)")
    try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? fm.removeItem(at: tmp) }
    let outURL = tmp.appendingPathComponent("out"), errURL = tmp.appendingPathComponent("err"), inURL = tmp.appendingPathComponent("in")
    fm.createFile(atPath: outURL.path, contents: nil)
    fm.createFile(atPath: errURL.path, contents: nil)
    fm.createFile(atPath: inURL.path, contents: (stdin ?? "").data(using: .utf8))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = cwd }
    var environment = env ?? ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    p.environment = environment
    let outH = try FileHandle(forWritingTo: outURL), errH = try FileHandle(forWritingTo: errURL)
    let inH = try FileHandle(forReadingFrom: inURL)
    p.standardOutput = outH
    p.standardError = errH
    p.standardInput = inH
    try p.run()
    let deadline = Date().addingTimeInterval(timeout)
    var timedOut = false
    while p.isRunning {
        if Date() > deadline { timedOut = true; p.terminate(); break }
        usleep(2_000)
    }
    p.waitUntilExit()
    try? outH.close(); try? errH.close(); try? inH.close()
    let out = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
    let err = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
    return RunResult(stdout: out, stderr: err, status: p.terminationStatus, timedOut: timedOut)
}

/// A line-by-line diff of expected and actual text, for failure messages.
func lineDiff(expected: String, actual: String) -> String {
    let e = expected.components(separatedBy: "\n"), a = actual.components(separatedBy: "\n")
    var out: [String] = []
    for i in 0..<max(e.count, a.count) {
        let x = i < e.count ? e[i] : nil, y = i < a.count ? a[i] : nil
        if x == y { out.append("   \(x!)") }
        else {
            if let x { out.append(" - \(x.debugDescription)") }
            if let y { out.append(" + \(y.debugDescription)") }
        }
    }
    return "(- expected, + actual)\n" + out.joined(separator: "\n")
}

/// Starts a peer (a server, a client, a tool) in the background with its output discarded:
/// the one place the tests build such a Process. `openStdin` gives it a pipe that stays open
/// (openssl s_server ends at end of input). The caller stops it (`stopProcesses`).
func startQuiet(_ exe: String, _ args: [String], cwd: URL? = nil, openStdin: Bool = false) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = cwd }
    if openStdin { p.standardInput = Pipe() }
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
}

/// Loopback helpers every script-level peer test uses.
extension XCTestCase {
    /// A port that was free a moment ago on 127.0.0.1.
    func freePort() throws -> Int {
        let l = try Listener.listen("127.0.0.1:0")
        defer { l.close() }
        return l.port!
    }

    /// Waits until something accepts connections on HOST:PORT (at most `seconds`).
    /// Waits until something listens on the port, reading /proc/net/tcp rather than
    /// connecting (a server that serves a fixed number of clients would count a probe as one).
    func waitForListening(_ port: Int, seconds: Double = 15) {
        let hex = String(format: ":%04X ", port)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            for f in ["/proc/net/tcp", "/proc/net/tcp6"] {
                if let t = try? String(contentsOfFile: f, encoding: .utf8),
                   t.split(separator: "\n").contains(where: { $0.contains(hex) && $0.contains(" 0A ") }) { return }
            }
            usleep(20_000)
        }
        XCTFail("nothing listens on port \(port)")
    }

    func waitForPort(_ port: Int, host: String = "127.0.0.1", seconds: Double = 15) {
        let deadline = Date().addingTimeInterval(seconds)
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        while Date() < deadline {
            if let c = try? StreamConnection.connect(address, timeout: 1) { c.close(); return }
            usleep(30_000)
        }
        XCTFail("nothing listens on \(address)")
    }

    /// Stops processes a test started: TERM, then KILL if one is still running after 3 s.
    func stopProcesses(_ processes: [Process]) {
        for p in processes where p.isRunning {
            p.terminate()
            let deadline = Date().addingTimeInterval(3)
            while p.isRunning && Date() < deadline { usleep(10_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
    }

    /// The real Python interpreter (not a version-manager shim); XCTSkip without one.
    func python() throws -> String {
        let r = try runProcess("/usr/bin/env", ["python3", "-c", "import sys; print(sys.executable)"])
        let p = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard r.status == 0, !p.isEmpty else { throw XCTSkip("python3 is not installed") }
        return p
    }
}
