import Foundation
import XCTest
@testable import NetKit
#if canImport(Glibc)
import Glibc
#endif

/// NSD on loopback for the DNS tests, started through `scripts/lab.d/nsd.sh` (the same
/// script the lab uses) on a free port, with its state in a temp dir; stopped by PID.
final class NSDServer {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let process = Process()
    let port: UInt16
    let dir: URL
    var server: DNSServer { DNSServer(address: try! IPAddress("127.0.0.1"), port: port) }

    /// A port free for both UDP and TCP on 127.0.0.1 and ::1 right now.
    static func freePort() -> UInt16 {
        for _ in 0..<50 {
            let p = UInt16.random(in: 20000...60000)
            if portFree(p) { return p }
        }
        return 5300
    }

    static func portFree(_ port: UInt16) -> Bool {
        for (family, type) in [(AF_INET, SOCK_DGRAM), (AF_INET, SOCK_STREAM), (AF_INET6, SOCK_DGRAM), (AF_INET6, SOCK_STREAM)] {
            let fd = socket(family, Int32(type.rawValue), 0)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            let addr = family == AF_INET ? DNSServer(address: try! IPAddress("127.0.0.1"), port: port) : DNSServer(address: try! IPAddress("::1"), port: port)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if family == AF_INET6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
            let rc = DNSSocket.withSockaddr(addr) { bind(fd, $0, $1) }
            if rc != 0 { return false }
        }
        return true
    }

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nsd") else { throw XCTSkip("nsd is not installed (apt-get install nsd)") }
        port = NSDServer.freePort()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("nsd-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "source scripts/lab.d/nsd.sh && lab_start"]
        process.currentDirectoryURL = NSDServer.repoRoot
        var env = ProcessInfo.processInfo.environment
        env["LAB_DIR"] = dir.path
        env["NSD_PORT"] = String(port)
        process.environment = env
        let log = dir.appendingPathComponent("nsd.out")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let h = try FileHandle(forWritingTo: log)
        process.standardOutput = h
        process.standardError = h
        try process.run()
        // Ready when it answers the zone's SOA (bounded: 10 s).
        let client = DNSClient()
        var opts = DNSQueryOptions()
        opts.timeout = 0.2; opts.retries = 0
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let r = try? client.query(try DNSName("example.test"), .SOA, server: server, options: opts), r.message.rcode == 0, !r.message.answers.isEmpty { return }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        stop()
        throw XCTSkip("NSD did not start on port \(port): \(text)")
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: dir)
    }
}

/// A misbehaving UDP "server" on 127.0.0.1: a thread that answers each query with whatever
/// `respond` returns (zero or more datagrams), bounded to `maxQueries` and 30 s.
final class FakeUDPServer {
    /// Shared with the server thread.
    final class State: @unchecked Sendable {
        let lock = NSLock()
        var stopped = false
        var queries = 0
    }
    let fd: Int32
    let port: UInt16
    private let thread: Thread
    private let state = State()

    init(maxQueries: Int = 20, respond: @escaping ([UInt8]) -> [[UInt8]]) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        let any = DNSServer(address: try IPAddress("127.0.0.1"), port: 0)
        guard DNSSocket.withSockaddr(any, { bind(fd, $0, $1) }) == 0 else { close(fd); throw XCTSkip("cannot bind a UDP socket on 127.0.0.1") }
        var ss = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        port = UInt16(bigEndian: ss.sin_port)
        let state = self.state
        thread = Thread {
            let start = Date()
            var n = 0
            var buf = [UInt8](repeating: 0, count: 65535)
            while n < maxQueries, Date().timeIntervalSince(start) < 30 {
                state.lock.lock(); let stop = state.stopped; state.lock.unlock()
                if stop { return }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 50) > 0 else { continue }
                var from = sockaddr_storage()
                var flen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let got = buf.withUnsafeMutableBytes { b in
                    withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &flen) } }
                }
                guard got > 0 else { continue }
                n += 1
                state.lock.lock(); state.queries += 1; state.lock.unlock()
                for reply in respond(Array(buf[0..<got])) {
                    _ = reply.withUnsafeBytes { r in
                        withUnsafePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, r.baseAddress, r.count, 0, $0, flen) } }
                    }
                }
            }
        }
        thread.start()
    }

    var queriesSeen: Int { state.lock.lock(); defer { state.lock.unlock() }; return state.queries }
    var server: DNSServer { DNSServer(address: try! IPAddress("127.0.0.1"), port: port) }

    func stop() {
        state.lock.lock(); state.stopped = true; state.lock.unlock()
        let deadline = Date().addingTimeInterval(2)
        while !thread.isFinished && Date() < deadline { usleep(10_000) }
        close(fd)
    }
}

/// Runs a command with a timeout and returns its standard output.
func runTool(_ path: String, _ args: [String], timeout: TimeInterval = 20) throws -> String {
    guard FileManager.default.isExecutableFile(atPath: path) else { throw XCTSkip("\(path) is not installed") }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("tool-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: out) }
    let h = try FileHandle(forWritingTo: out)
    p.standardOutput = h
    p.standardError = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(5_000) }
    if p.isRunning { p.terminate() }
    p.waitUntilExit()
    try h.close()
    return String(decoding: try Data(contentsOf: out), as: UTF8.self)
}

/// A misbehaving TCP "server" on 127.0.0.1: accepts one connection, reads whatever comes,
/// then writes the chunks `stream` returns (called again and again) until the client goes
/// away, `stop()` is called, or 30 s pass.
final class FakeTCPServer {
    let fd: Int32
    let port: UInt16
    private let thread: Thread
    private let state = FakeUDPServer.State()

    init(stream: @escaping ([UInt8]) -> [UInt8]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let any = DNSServer(address: try IPAddress("127.0.0.1"), port: 0)
        guard DNSSocket.withSockaddr(any, { bind(fd, $0, $1) }) == 0, listen(fd, 4) == 0 else { close(fd); throw XCTSkip("cannot listen on 127.0.0.1") }
        var ss = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        port = UInt16(bigEndian: ss.sin_port)
        let state = self.state
        thread = Thread {
            let start = Date()
            func stopped() -> Bool { state.lock.lock(); defer { state.lock.unlock() }; return state.stopped || Date().timeIntervalSince(start) > 30 }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            while poll(&p, 1, 50) <= 0 { if stopped() { return } }
            let c = accept(fd, nil, nil)
            guard c >= 0 else { return }
            defer { close(c) }
            var buf = [UInt8](repeating: 0, count: 4096)
            var q = pollfd(fd: c, events: Int16(POLLIN), revents: 0)
            guard poll(&q, 1, 2000) > 0 else { return }
            let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
            guard n > 2 else { return }
            let query = Array(buf[2..<n])
            while !stopped() {
                let chunk = stream(query)
                let sent = chunk.withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent < 0 { return }
                usleep(1_000)
            }
        }
        thread.start()
    }

    var server: DNSServer { DNSServer(address: try! IPAddress("127.0.0.1"), port: port) }

    func stop() {
        state.lock.lock(); state.stopped = true; state.lock.unlock()
        let deadline = Date().addingTimeInterval(2)
        while !thread.isFinished && Date() < deadline { usleep(10_000) }
        close(fd)
    }
}
