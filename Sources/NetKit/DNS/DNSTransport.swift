#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore

/// A DNS server address: an IP and a port (53 unless given).
public struct DNSServer: Hashable, Sendable, CustomStringConvertible {
    /// The server's IP address (IPv4 or IPv6).
    public var address: IPAddress
    /// The UDP/TCP port queries go to (53 for DNS).
    public var port: UInt16

    /// A server at `address`, port 53 unless `port` is given.
    public init(address: IPAddress, port: UInt16 = 53) { self.address = address; self.port = port }

    /// `192.0.2.1`, `192.0.2.1:5300`, `::1`, `[::1]:5300`, `localhost[:PORT]` (split by
    /// `Endpoint.split`, the one `HOST:PORT` parser).
    public init(_ text: String, defaultPort: UInt16 = 53) throws {
        var (host, port) = try DNSServer.split(text, defaultPort: defaultPort)
        if host.lowercased() == "localhost" { host = "127.0.0.1" }
        guard let ip = try? IPAddress(host) else {
            throw DNSError.syntax("server must be an IP address (optionally with :PORT), not '\(text)'")
        }
        address = ip; self.port = port
    }

    /// The host and port of a server's text; syntax errors as DNS names them.
    static func split(_ text: String, defaultPort: UInt16) throws -> (host: String, port: UInt16) {
        let parts: (host: String, port: String?)
        do { parts = try Endpoint.split(text) } catch let e as SocketError { throw DNSError.syntax("bad server: \(e.message)") }
        guard let p = parts.port else { return (parts.host, defaultPort) }
        guard p.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = UInt16(p) else {
            throw DNSError.syntax("bad port in server '\(text)'")
        }
        return (parts.host, n)
    }

    /// `address:port`, with an IPv6 address in brackets (`[::1]:53`), as `init(_:)` reads it back.
    public var description: String {
        address.version == .v6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// Like `init(_:)`, but a host name (`ns1.example.test[:PORT]`) is looked up (A, then
    /// AAAA) through the resolv.conf nameservers, as dig does with `@host`.
    public static func resolving(_ text: String, client: DNSClient, options: DNSQueryOptions = DNSQueryOptions(),
                                 resolvConf: ResolvConf? = nil, defaultPort: UInt16 = 53) throws -> DNSServer {
        if let s = try? DNSServer(text, defaultPort: defaultPort) { return s }
        let (host, port) = try DNSServer.split(text, defaultPort: defaultPort)
        for type in [DNSType.A, .AAAA] {
            let r = try client.query(host, type, options: options, resolvConf: resolvConf)
            for rec in r.message.answers where rec.type == type {
                if case .address(let a)? = rec.field("address") { return DNSServer(address: a, port: port) }
            }
        }
        throw DNSError(.nxdomain, "server '\(host)' has no address (asked \(host) A and AAAA)")
    }
}

/// A socket for DNS over UDP (a non-blocking POSIX socket) or over a stream (TCP: a
/// `ByteStream`, the direct socket of `StreamConnection`; in tests any stream, such as a
/// `ScriptedStream`). Every wait is cut into slices of at most 100 ms so `shouldCancel`
/// (Ctrl-C) is honoured promptly.
public final class DNSSocket {
    /// The UDP socket, or the stream's descriptor (-1 when it has none).
    public let fd: Int32
    /// The server this socket sends queries to.
    public let server: DNSServer
    /// The byte stream of a TCP connection; nil for UDP.
    public let stream: (any ByteStream)?
    /// Its number in a `--record` recording.
    var wireID: Int?
    /// True when `--replay` answers it from a recording: datagrams then come from a socket
    /// pair, and are taken as the server's.
    var isReplayed = false

    private init(fd: Int32, server: DNSServer) { self.fd = fd; self.server = server; self.stream = nil }

    /// DNS messages over `stream` (length-prefixed, RFC 1035 §4.2.2) to `server`.
    public init(stream: any ByteStream, server: DNSServer) {
        self.stream = stream; self.server = server; self.fd = stream.rawDescriptor ?? -1
    }

    deinit { if let stream { stream.abandon() } else { close(fd) } }

    static func errno_(_ what: String) -> DNSError { errno_(what, errno) }

    static func errno_(_ what: String, _ code: Int32) -> DNSError {
        if code == ECONNREFUSED { return DNSError(.connectionRefused, "\(what): connection refused (nothing listens there)") }
        return DNSError(.io, "\(what): \(String(cString: strerror(code)))")
    }

    /// What a connected UDP socket reports when an ICMP port-unreachable came back.
    func refusedOverUDP() -> DNSError {
        DNSError(.connectionRefused, "\(server) refused the query: nothing listens on UDP port \(server.port) (ICMP port unreachable)")
    }

    /// Calls `body` with the server's address as a sockaddr.
    static func withSockaddr<T>(_ s: DNSServer, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        if s.address.version == .v4 {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = s.port.bigEndian
            sa.sin_addr.s_addr = UInt32(truncatingIfNeeded: s.address.value).bigEndian
            return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = s.port.bigEndian
        let packed = s.address.packed
        withUnsafeMutableBytes(of: &sa.sin6_addr) { raw in for i in 0..<16 { raw[i] = packed[i] } }
        return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
    }

    static func peer(_ ss: sockaddr_storage) -> DNSServer? {
        var ss = ss
        switch Int32(ss.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &ss) { p in p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sa in
                DNSServer(address: IPAddress(v4: UInt32(bigEndian: sa.pointee.sin_addr.s_addr)), port: UInt16(bigEndian: sa.pointee.sin_port))
            } }
        case AF_INET6:
            return withUnsafePointer(to: &ss) { p in p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sa in
                var v: UInt128 = 0
                withUnsafeBytes(of: sa.pointee.sin6_addr) { for b in $0 { v = v << 8 | UInt128(b) } }
                return DNSServer(address: IPAddress(v6: v), port: UInt16(bigEndian: sa.pointee.sin6_port))
            } }
        default: return nil
        }
    }

    static func make(_ server: DNSServer, _ type: Int32) throws -> DNSSocket {
        let family = server.address.version == .v4 ? AF_INET : AF_INET6
        let fd = socket(family, type, 0)
        guard fd >= 0 else { throw errno_("socket") }
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        return DNSSocket(fd: fd, server: server)
    }

    /// A UDP socket bound to a kernel-chosen (random) source port and connected to `server`:
    /// the kernel then drops datagrams from anyone else, and an ICMP port-unreachable comes
    /// back as "connection refused" at once, as dig reports it, instead of a timeout.
    public static func udp(_ server: DNSServer) throws -> DNSSocket {
        if let replay = WireReplay.shared {
            let fd = try replay.openDatagrams(address: server.description)
            let s = DNSSocket(fd: fd, server: server)
            s.isReplayed = true
            return s
        }
        #if canImport(Glibc)
        let s = try make(server, Int32(SOCK_DGRAM.rawValue))
        #else
        let s = try make(server, SOCK_DGRAM)
        #endif
        // Binding to port 0 makes the kernel pick a random ephemeral port (RFC 6056).
        let any = DNSServer(address: server.address.version == .v4 ? IPAddress(v4: 0) : IPAddress(v6: 0), port: 0)
        let rc = withSockaddr(any) { bind(s.fd, $0, $1) }
        guard rc == 0 else { throw errno_("bind") }
        guard withSockaddr(server, { connect(s.fd, $0, $1) }) == 0 else { throw errno_("connect to \(server)") }
        s.wireID = WireRecorder.shared?.open(address: server.description, tls: false, kind: "dns-udp")
        return s
    }

    /// A TCP connection to `server`, waiting at most until `deadline`.
    public static func tcp(_ server: DNSServer, deadline: Date, shouldCancel: () -> Bool) throws -> DNSSocket {
        if let replay = WireReplay.shared {
            let s = DNSSocket(stream: DirectSocket(fd: try replay.openDNSStream(address: server.description)), server: server)
            s.isReplayed = true
            return s
        }
        let address: SocketAddress
        do { address = try SocketAddress(ipAddress: server.address.description, port: Int(server.port)) }
        catch { throw DNSError(.io, "TCP connect to \(server): \(error)") }
        do {
            let d = try withoutActuallyEscaping(shouldCancel) { cancel in
                try DirectSocket.connect(to: address, deadline: deadline, cancel: cancel, shown: server.description)
            }
            let s = DNSSocket(stream: d, server: server)
            s.wireID = WireRecorder.shared?.open(address: server.description, tls: false, kind: "dns-tcp")
            return s
        } catch let e as SocketError {
            throw streamError(e, server, doing: "TCP connect to \(server)", timedOut: "TCP connect to \(server) timed out")
        }
    }

    /// A stream failure as DNS names it.
    static func streamError(_ e: SocketError, _ server: DNSServer, doing: String, timedOut: String) -> DNSError {
        switch e.kind {
        case .timeout: return DNSError(.timeout, timedOut)
        case .interrupted: return DNSError(.interrupted, "interrupted")
        default:
            if let code = e.code { return errno_(doing, code) }
            return DNSError(.io, e.message)
        }
    }

    /// Waits until the socket is ready for `events`; false at the deadline.
    public func wait(_ events: Int16, deadline: Date, shouldCancel: () -> Bool) throws -> Bool {
        switch SysCall.wait(fd, for: events, until: deadline, cancel: shouldCancel) {
        case .ready: return true
        case .timedOut: return false
        case .cancelled: throw DNSError(.interrupted, "interrupted")
        case .failed(let e): throw DNSSocket.errno_("poll", e)
        }
    }

    /// Sends one datagram to the server.
    public func sendDatagram(_ bytes: [UInt8]) throws {
        if let id = wireID { WireRecorder.shared?.event(id, "send", bytes) }
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard n == bytes.count else {
            if errno == ECONNREFUSED { throw refusedOverUDP() }
            throw DNSSocket.errno_("send to \(server)")
        }
    }

    /// Receives one datagram and its source, or nil at the deadline.
    public func receiveDatagram(deadline: Date, shouldCancel: () -> Bool) throws -> ([UInt8], DNSServer?)? {
        var buf = [UInt8](repeating: 0, count: 65535)
        while try wait(Int16(POLLIN), deadline: deadline, shouldCancel: shouldCancel) {
            var ss = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = buf.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &ss) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &len) }
                }
            }
            if n < 0 {
                let e = errno
                if SysCall.isTransient(e) { continue }
                if e == ECONNREFUSED { throw refusedOverUDP() }
                throw DNSSocket.errno_("receive from \(server)", e)
            }
            if n == 0 && isReplayed { throw DNSError(.io, "replay: \(server) has no more recorded answers") }
            if let id = wireID, DNSSocket.peer(ss) == server { WireRecorder.shared?.event(id, "recv", Array(buf[0..<n])) }
            return (Array(buf[0..<n]), isReplayed ? server : DNSSocket.peer(ss))
        }
        return nil
    }

    /// Receives one datagram if one is waiting, without blocking.
    public func tryReceiveDatagram(into buf: inout [UInt8]) throws -> (Int, DNSServer?)? {
        while true {
            var ss = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = buf.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &ss) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &len) }
                }
            }
            if n >= 0 { return (n, DNSSocket.peer(ss)) }
            let e = errno
            if e == ECONNREFUSED { throw refusedOverUDP() }
            // Interrupted: try again; not ready: nothing is waiting.
            if SysCall.isTransient(e) { if e == EAGAIN || e == EWOULDBLOCK { return nil }; continue }
            throw DNSSocket.errno_("receive from \(server)", e)
        }
    }

    /// Sends one datagram; false when the socket buffer is full (the caller retries later).
    public func trySendDatagram(_ bytes: [UInt8]) throws -> Bool {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        if n == bytes.count { return true }
        if errno == ECONNREFUSED { throw refusedOverUDP() }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS { return false }
        throw DNSSocket.errno_("send to \(server)")
    }

    /// The stream, or a clear error for a UDP socket.
    private func byteStream() throws -> any ByteStream {
        guard let stream else { throw DNSError(.io, "DNS to \(server): a UDP socket carries no stream of messages") }
        return stream
    }

    /// Writes all bytes on the stream.
    public func sendAll(_ bytes: [UInt8], deadline: Date, shouldCancel: () -> Bool) throws {
        if shouldCancel() { throw DNSError(.interrupted, "interrupted") }
        if let id = wireID { WireRecorder.shared?.event(id, "send", bytes) }
        let stream = try byteStream()
        do {
            try withoutActuallyEscaping(shouldCancel) { cancel in
                try stream.writeAll(bytes, deadline: deadline, cancel: cancel)
            }
        } catch let e as SocketError {
            throw DNSSocket.streamError(e, server, doing: "send to \(server)", timedOut: "sending to \(server) timed out")
        }
    }

    /// Sends one DNS message with its two-byte length prefix.
    public func sendMessage(_ wire: [UInt8], deadline: Date, shouldCancel: () -> Bool) throws {
        guard wire.count <= 65535 else { throw DNSError(.io, "a DNS message of \(wire.count) bytes is too long for TCP (at most 65,535)") }
        try sendAll([UInt8(wire.count >> 8), UInt8(wire.count & 0xFF)] + wire, deadline: deadline, shouldCancel: shouldCancel)
    }

    private var pending: [UInt8] = []
    private var pendingStart = 0
    private var chunk: [UInt8] = []

    /// Reads exactly `count` bytes from the stream; nil when the peer closed first.
    public func read(_ count: Int, deadline: Date, shouldCancel: () -> Bool) throws -> [UInt8]? {
        let stream = try byteStream()
        if chunk.isEmpty { chunk = [UInt8](repeating: 0, count: 65536) }
        while pending.count - pendingStart < count {
            if shouldCancel() { throw DNSError(.interrupted, "interrupted") }
            if Date() >= deadline { throw DNSError(.timeout, "no answer from \(server) over TCP before the timeout") }
            let got: ByteStreamRead
            do { got = try chunk.withUnsafeMutableBytes { try stream.readSome(into: $0, deadline: deadline) } }
            catch let e as SocketError {
                throw DNSSocket.streamError(e, server, doing: "receive from \(server)", timedOut: "no answer from \(server) over TCP before the timeout")
            }
            switch got {
            case .end: return nil
            case .nothing: continue
            case .data(let n):
                if pendingStart > 0 { pending.removeFirst(pendingStart); pendingStart = 0 }
                pending += chunk[0..<n]
            }
        }
        defer { pendingStart += count }
        return Array(pending[pendingStart..<pendingStart + count])
    }

    /// Reads one length-prefixed DNS message from a TCP stream; nil when the peer closed.
    public func readMessage(deadline: Date, shouldCancel: () -> Bool) throws -> [UInt8]? {
        guard let len = try read(2, deadline: deadline, shouldCancel: shouldCancel) else { return nil }
        let n = Int(len[0]) << 8 | Int(len[1])
        guard let body = try read(n, deadline: deadline, shouldCancel: shouldCancel) else {
            throw DNSError.malformed("TCP stream from \(server) closed in the middle of a message")
        }
        if let id = wireID { WireRecorder.shared?.event(id, "recv", len + body) }
        return body
    }
}
