import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The stream (TCP or Unix) side of the echo server: a thread blocked in `accept`, and one
/// thread per client blocked in `recv` on a `DirectSocket` (the client side's byte stream) that sends back what it read before reading again —
/// what Python's ThreadingTCPServer does, without an interpreter in the loop. An echo is two
/// system calls a message; an event loop adds an `epoll_wait` and a read that finds nothing,
/// which on 64-byte round trips is a third of the time. Sending everything before reading
/// more is the back-pressure: a client that does not read stops being read.
final class StreamEcho: @unchecked Sendable {
    let listenFD: Int32
    let stats: EchoServer.Stats
    let localText: String
    let port: Int?
    private let lock = NSLock()
    private var clients: Set<Int32> = []
    private var stopped = false
    private let acceptorDone = DispatchSemaphore(value: 0)

    private init(fd: Int32, stats: EchoServer.Stats, localText: String, port: Int?) {
        self.listenFD = fd; self.stats = stats; self.localText = localText; self.port = port
    }

    /// Binds and listens on `address` (an IP address and port, or a Unix socket path), then
    /// starts accepting.
    static func start(_ address: SocketAddress, unixPath: String?, backlog: Int, stats: EchoServer.Stats, shown: String) throws -> StreamEcho {
        let family: Int32
        switch address {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        case .unixDomainSocket: family = AF_UNIX
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError.fromErrno(errno, op: "serve echo on", address: shown) }
        var one: Int32 = 1
        if family != AF_UNIX { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
        if let path = unixPath { unlink(path) }
        let rc = address.withSockAddr { p, len in bind(fd, p, socklen_t(len)) }
        guard rc == 0, listen(fd, Int32(max(1, backlog))) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw SocketError.fromErrno(e, op: "serve echo on", address: shown)
        }
        let names = DirectSocket(fd: fd).names()
        var port: Int? = nil
        if family != AF_UNIX { port = try? Endpoint(parsing: names.local).port }
        let server = StreamEcho(fd: fd, stats: stats, localText: unixPath ?? names.local, port: port)
        let t = Thread { server.acceptLoop() }
        t.stackSize = 1 << 18
        t.start()
        return server
    }

    private func acceptLoop() {
        defer { acceptorDone.signal() }
        while true {
            var pfd = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            let n = poll(&pfd, 1, 100)
            lock.lock(); let done = stopped; lock.unlock()
            if done { return }
            if n <= 0 { continue }
            let c = accept(listenFD, nil, nil)
            if c < 0 { continue }      // EAGAIN, ECONNABORTED, EMFILE: try again at the next poll
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            setsockopt(c, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            lock.lock()
            if stopped { lock.unlock(); Glibc.close(c); return }
            clients.insert(c)
            lock.unlock()
            stats.add(connections: 1)
            let t = Thread { [self] in self.echo(c) }
            t.stackSize = 1 << 17
            t.start()
        }
    }

    /// Echoes one client over a `DirectSocket` whose waits are not sliced (nothing cancels
    /// them; `stop` shuts the socket down, which ends the wait).
    private func echo(_ fd: Int32) {
        let size = 65536
        let socket = DirectSocket(fd: fd, slicing: false)
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer {
            buf.deallocate()
            lock.lock(); clients.remove(fd); lock.unlock()
            socket.abandon()
            stats.add(finished: 1)
        }
        while true {
            let got: ByteStreamRead
            do { got = try socket.readSome(into: buf, deadline: .distantFuture) } catch { return }
            switch got {
            case .end: return                          // the peer closed its side: all was echoed
            case .nothing: continue
            case .data(let n):
                stats.add(bytes: n)
                // Reset, or shut down by stop(): the client is done.
                do { try socket.writeAll(UnsafeRawBufferPointer(rebasing: buf[0..<n]), deadline: .distantFuture, cancel: nil) } catch { return }
            }
        }
    }

    /// Stops accepting and ends every client's connection.
    func stop() {
        lock.lock()
        if stopped { lock.unlock(); return }
        stopped = true
        let open = clients
        lock.unlock()
        acceptorDone.wait()
        Glibc.close(listenFD)
        // Wakes each client's thread from recv/send; the thread closes its descriptor.
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }
}
