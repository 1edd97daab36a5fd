import Foundation
import XCTest
@testable import NetKit

/// Real peers for the socket tests: processes (socat, openssl, python) started on loopback
/// and stopped by PID; free ports found by binding port 0.
enum Peers {
    /// A port that was free a moment ago on 127.0.0.1 (and ::1).
    static func freePort() throws -> Int {
        let l = try Listener.listen("127.0.0.1:0")
        defer { l.close() }
        return l.port!
    }

    static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// The real Python interpreter (not a version-manager shim).
    static let python: String? = {
        guard let shim = which("python3") else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: shim)
        p.arguments = ["-c", "import sys; print(sys.executable)"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try? p.run()
        p.waitUntilExit()
        let out = String(data: pipe.fileHandleForReading.readDataToEndOfFile(), encoding: .utf8)?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return out.isEmpty ? shim : out
    }()

    /// Starts a tool in the background; XCTSkip when it is not installed.
    static func start(_ tool: String, _ args: [String], cwd: URL? = nil) throws -> Process {
        guard let path = tool.hasPrefix("/") ? tool : which(tool) else { throw XCTSkip("\(tool) is not installed") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = cwd }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    static func stop(_ p: Process?) {
        guard let p, p.isRunning else { return }
        p.terminate()
        let deadline = Date().addingTimeInterval(3)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    }

    /// Waits until a TCP port accepts connections (at most 5 s).
    static func waitForPort(_ address: String) throws {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let c = try? StreamConnection.connect(address, timeout: 1) { c.close(); return }
            usleep(30_000)
        }
        XCTFail("nothing listens on \(address)")
    }

    static func waitForPath(_ path: String) {
        let deadline = Date().addingTimeInterval(5)
        while !FileManager.default.fileExists(atPath: path) && Date() < deadline { usleep(20_000) }
    }

    static func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("ns-sock-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    /// A CA and a server certificate for localhost / 127.0.0.1 / ::1, made with the openssl CLI.
    static func makeCertificates(in dir: URL) throws {
        guard which("openssl") != nil else { throw XCTSkip("openssl is not installed") }
        let script = """
        set -e
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=NetScript Test CA" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=localhost" 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf
        openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf 2>/dev/null
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        p.currentDirectoryURL = dir
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "openssl failed")
    }
}
