import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A plain client stream socket driven with system calls on the caller's thread. The
/// interpreter is synchronous, so for a plain TCP or Unix client an event-loop hop per send
/// and receive is pure cost (measured: 24k vs 64k round trips/s); TLS, listeners and servers
/// stay on SwiftNIO (`ChannelByteStream`). Waits are cut into slices of at most 100 ms (SO_RCVTIMEO/SO_SNDTIMEO,
/// or poll for the last slice) so deadlines and cancellation are honoured.
final class DirectSocket: ByteStream, @unchecked Sendable {
    let fd: Int32
    private var sliceSet: Double = 0.1
    /// False for a socket whose reads and writes may block without limit (a server thread
    /// that nothing cancels; `shutdown` from another thread ends its wait).
    private let slicing: Bool

    /// Wraps a connected blocking stream socket (it is closed by `close`/`abandon`, not on
    /// deinit). With `slicing`, waits are cut into 100 ms slices for deadlines and Ctrl-C.
    init(fd: Int32, slicing: Bool = true) { self.fd = fd; self.slicing = slicing }

    /// Connects to one address within the deadline.
    static func connect(to address: SocketAddress, deadline: Date, cancel: CancelCheck?, shown: String) throws -> DirectSocket {
        let family: Int32
        switch address {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        case .unixDomainSocket: family = AF_UNIX
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SocketError.fromErrno(errno, op: "connect", address: shown) }
        var ok = false
        defer { if !ok { Glibc.close(fd) } }
        if family != AF_UNIX {
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let rc = address.withSockAddr { p, len in Glibc.connect(fd, p, socklen_t(len)) }
        if rc != 0 {
            guard errno == EINPROGRESS || errno == EAGAIN else {
                throw SocketError.fromErrno(errno, op: "connect", address: shown)
            }
            switch SysCall.wait(fd, for: Int16(POLLOUT), until: deadline, cancel: { cancel?() == true }) {
            case .ready: break
            case .cancelled: throw SocketError(.interrupted, "connect \(shown): interrupted", address: shown)
            case .timedOut: throw SocketError(.timeout, "connect \(shown): timed out", address: shown)
            case .failed(let e): throw SocketError.fromErrno(e, op: "connect", address: shown)
            }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 { throw SocketError.fromErrno(err, op: "connect", address: shown) }
        }
        // Blocking from here on, with 100 ms slices.
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        let s = DirectSocket(fd: fd)
        s.setSlice(0.1, force: true)
        ok = true
        return s
    }

    private func setSlice(_ seconds: Double, force: Bool = false) {
        if !slicing { return }
        if !force && abs(seconds - sliceSet) < 0.0005 { return }
        sliceSet = seconds
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        if tv.tv_sec == 0 && tv.tv_usec == 0 { tv.tv_usec = 1000 }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The slice to wait for next: 100 ms, or what is left before the deadline.
    private func slice(_ deadline: Date) -> Double { min(0.1, max(0.001, deadline.timeIntervalSinceNow)) }

    /// Whether a read has seen the end of the stream.
    private(set) var sawEnd = false
    private var closed = false
    private lazy var cachedNames: (local: String, peer: String) = names()
    /// The peer as messages name it.
    private var shown: String { let p = cachedNames.peer; return p.isEmpty ? "(unnamed)" : p }

    func readSome(into buffer: UnsafeMutableRawBufferPointer, deadline: Date) throws -> ByteStreamRead {
        setSlice(slice(deadline))
        switch SysCall.attempt({ Glibc.recv(fd, buffer.baseAddress, buffer.count, 0) }) {
        case .done(0): sawEnd = true; return .end
        case .done(let n): return .data(n)
        case .again: return .nothing
        case .failed(let e): throw SocketError.fromErrno(e, op: "recv from", address: shown)
        }
    }

    /// Writes all the bytes, in slices; throws at the deadline or on cancellation.
    func writeAll(_ bytes: UnsafeRawBufferPointer, deadline: Date, cancel: CancelCheck?) throws {
        var off = 0
        while off < bytes.count {
            setSlice(slice(deadline))
            switch SysCall.attempt({ Glibc.send(fd, bytes.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }) {
            case .done(let n) where n > 0: off += n
            case .done, .again:
                if cancel?() == true { throw SocketError(.interrupted, "send to \(shown): interrupted", address: shown) }
                if Date() >= deadline { throw SocketError(.timeout, "send to \(shown): timed out (the peer is not reading)", address: shown) }
            case .failed(let e): throw SocketError.fromErrno(e, op: "send to", address: shown)
            }
        }
    }

    func flush(deadline: Date, cancel: CancelCheck?) throws {}
    func shutdownWrite(deadline: Date, cancel: CancelCheck?) throws { if !closed { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) } }
    func close(deadline: Date) { abandon() }
    func abandon() {
        if closed { return }
        closed = true
        _ = Glibc.close(fd)
    }

    var hasInput: Bool {
        if closed { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) != 0
    }
    var endReached: Bool { sawEnd }
    var isPeerGone: Bool { sawEnd }
    var localName: String { cachedNames.local }
    var peerName: String { cachedNames.peer }
    var rawDescriptor: Int32? { closed ? nil : fd }

    /// The local and peer addresses as text.
    func names() -> (local: String, peer: String) {
        func text(_ get: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> String {
            var ss = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let rc = withUnsafeMutablePointer(to: &ss) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { get(fd, $0, &len) }
            }
            guard rc == 0 else { return "" }
            if Int32(ss.ss_family) == AF_UNIX {
                return withUnsafePointer(to: &ss) { p in
                    p.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { u in
                        withUnsafePointer(to: u.pointee.sun_path) { path in
                            path.withMemoryRebound(to: CChar.self, capacity: 108) { String(cString: $0) }
                        }
                    }
                }
            }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST)), serv = [CChar](repeating: 0, count: 32)
            let r = withUnsafePointer(to: &ss) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    getnameinfo($0, len, &host, socklen_t(host.count), &serv, socklen_t(serv.count), NI_NUMERICHOST | NI_NUMERICSERV)
                }
            }
            guard r == 0 else { return "" }
            let h = String(cString: host), s = String(cString: serv)
            return h.contains(":") ? "[\(h)]:\(s)" : "\(h):\(s)"
        }
        return (text { getsockname($0, $1, $2) }, text { getpeername($0, $1, $2) })
    }
}
