import Foundation
import XCTest
@testable import NetKit

/// Real FTP servers for the tests, started on loopback through `scripts/ftp-server` (vsftpd,
/// pure-ftpd, with TLS), `Tests/peers/pyftpd_server.py` (pyftpdlib) or
/// `Tests/peers/ftp_fault_server.py` (scripted faults), and stopped by PID.
final class FTPTestServer {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let user = "netscript-ftp", password = "ns-ftp-test"

    let process: Process
    let dir: URL
    let port: Int
    var host = "127.0.0.1"
    var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    /// The local user's root (the server calls it "/").
    var home: URL { dir.appendingPathComponent("home") }
    var anon: URL { dir.appendingPathComponent("anon") }
    var caFile: String { dir.appendingPathComponent("ca.pem").path }

    private init(process: Process, dir: URL, port: Int) { self.process = process; self.dir = dir; self.port = port }

    /// vsftpd, vsftpd-tls, vsftpd-implicit, pure-ftpd or pure-ftpd-tls. Needs root (the
    /// script makes the local user); skips when not root or the server is not installed.
    static func start(_ kind: String) throws -> FTPTestServer {
        guard getuid() == 0 else { throw XCTSkip("FTP server tests need root (they make the local user netscript-ftp)") }
        let dir = try Peers.tempDir()
        let port = try Peers.freePort()
        let pmin = 20000 + Int.random(in: 0..<400) * 100
        let log = dir.appendingPathComponent("server.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repo.appendingPathComponent("scripts/ftp-server").path, kind, dir.path, String(port), String(pmin)]
        let h = try FileHandle(forWritingTo: log)
        p.standardOutput = h
        p.standardError = h
        try p.run()
        let s = FTPTestServer(process: p, dir: dir, port: port)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if !p.isRunning {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                if p.terminationStatus == 127 { throw XCTSkip("\(kind) is not installed: \(text)") }
                XCTFail("\(kind) exited at once: \(text)")
                throw XCTSkip("\(kind) did not start")
            }
            if let c = try? StreamConnection.connect(s.address, timeout: 1) { c.close(); return s }
            usleep(50_000)
        }
        s.stop()
        throw XCTSkip("\(kind) did not listen on \(s.address)")
    }

    /// A Python server from Tests/peers with its arguments after the port.
    static func python(_ script: String, _ args: [String], host: String = "127.0.0.1") throws -> FTPTestServer {
        guard let py = Peers.python else { throw XCTSkip("python3 is not installed") }
        let dir = try Peers.tempDir()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("home"), withIntermediateDirectories: true)
        let port = try Peers.freePort()
        let path = repo.appendingPathComponent("Tests/peers/\(script)").path
        let p = try Peers.start(py, [path, String(port)] + args.map { $0 == "HOME" ? dir.appendingPathComponent("home").path : $0 })
        let s = FTPTestServer(process: p, dir: dir, port: port)
        s.host = host
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if !p.isRunning { throw XCTSkip("\(script) did not start (is pyftpdlib installed?)") }
            if let c = try? StreamConnection.connect(s.address, timeout: 1) { c.close(); return s }
            usleep(50_000)
        }
        s.stop()
        throw XCTSkip("\(script) did not listen")
    }

    func stop() {
        // bash execs the server, so the PID is the server's own.
        Peers.stop(process)
        try? FileManager.default.removeItem(at: dir)
    }

    /// Makes a file of `size` seeded pseudo-random bytes, written in 1 MiB pieces.
    static func makeFile(_ url: URL, size: Int, seed: UInt64) throws {
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let h = try FileHandle(forWritingTo: url)
        defer { try? h.close() }
        var x = seed | 1
        var left = size
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while left > 0 {
            let n = min(left, buf.count)
            buf.withUnsafeMutableBytes { p in
                let w = p.bindMemory(to: UInt64.self)
                for i in 0..<w.count { x ^= x << 13; x ^= x >> 7; x ^= x << 17; w[i] = x }
            }
            h.write(Data(buf[0..<n]))
            left -= n
        }
    }

    /// SHA-256 of a file, by sha256sum.
    static func sha256(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: out, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}
