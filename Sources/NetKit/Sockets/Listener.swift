import Foundation
import NIOCore
import NIOPosix

/// A listening stream socket (TCP or Unix) whose connections are taken one at a time with
/// `accept`, as in the classic socket/bind/listen/accept sequence. At most `backlog` accepted
/// connections wait to be taken; beyond that the listener stops accepting, and the kernel's
/// own backlog holds the rest.
public final class Listener: @unchecked Sendable {
    /// The NIO server channel bound to the listening socket.
    public let channel: Channel
    /// Where accepts and the accepted connections' steps are recorded; nil records nothing.
    public let transcript: Transcript?
    /// The bound local address as text (`127.0.0.1:7007`, with the real port when 0 was asked for,
    /// or the socket path), or `?` when the channel has none.
    public let localText: String
    let proto: String
    let backlog: Int
    let cond = NSCondition()
    var queue: [StreamConnection] = []
    var paused = false
    /// True once `close()` was called; `accept` then fails with `SocketError`.
    public private(set) var isClosed = false
    /// Set for a TLS listener: connections reach `accept` once their handshake is done.
    public let tls: TLSServerSetup?
    /// Handshakes that failed or timed out (the listener goes on serving).
    public var handshakeFailures: Int { cond.lock(); defer { cond.unlock() }; return failures }
    private var failures = 0
    /// Told of each failed handshake (the client's address, the reason in plain words).
    public var onHandshakeFailure: ((String, String) -> Void)?

    init(channel: Channel, proto: String, backlog: Int, tls: TLSServerSetup?, transcript: Transcript?) {
        self.channel = channel; self.proto = proto; self.backlog = backlog; self.tls = tls; self.transcript = transcript
        self.localText = channel.localAddress?.text ?? "?"
    }

    /// Listens on `HOST:PORT` (port 0 picks a free one) or, when the text is a path
    /// (starts with `/` or `./`, or `unix:`), on a Unix stream socket. With `tls`, every
    /// connection is TLS: it is accepted once its handshake is done (see `TLSServerGate`).
    public static func listen(_ address: String, backlog: Int = 128, tls: TLSServerSetup? = nil, transcript: Transcript? = nil,
                              timeout: TimeInterval = 10, cancel: CancelCheck? = nil) throws -> Listener {
        let unixPath = Listener.unixPath(address)
        var holder: Listener? = nil
        let lock = NSLock()
        let bootstrap = ServerBootstrap(group: SocketRuntime.group)
            .serverChannelOption(ChannelOptions.backlog, value: Int32(max(1, backlog)))
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { ch in
                let box = InboundBuffer()
                let hand: (Channel) -> Void = { active in
                    lock.lock(); let l = holder; lock.unlock()
                    if let l {
                        let proto = tls != nil ? "tls" : unixPath == nil ? "tcp" : "unix"
                        l.enqueue(StreamConnection.accepted(channel: active, box: box, proto: proto, transcript: l.transcript))
                    } else {
                        active.close(promise: nil)
                    }
                }
                do {
                    if let tls {
                        let gate = TLSServerGate(timeout: tls.options.handshakeTimeout, onReady: hand) { failed, why in
                            lock.lock(); let l = holder; lock.unlock()
                            l?.noteHandshakeFailure(failed.remoteAddress?.text ?? "?", why)
                        }
                        try ch.pipeline.syncOperations.addHandlers([tls.makeHandler(), gate, InboundHandler(box)])
                    } else {
                        try ch.pipeline.syncOperations.addHandler(InboundHandler(box, onActive: hand))
                    }
                } catch { return ch.eventLoop.makeFailedFuture(error) }
                return ch.eventLoop.makeSucceededVoidFuture()
            }
        let deadline = Date().addingTimeInterval(timeout)
        let future: EventLoopFuture<Channel>
        let shown: String
        if let path = unixPath {
            future = bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            shown = path
        } else {
            let ep = try Endpoint(parsing: address)
            let addrs = try HostLookup.resolve(ep, deadline: deadline, cancel: cancel)
            future = bootstrap.bind(to: addrs[0])
            shown = ep.description
        }
        let ch = try SocketRuntime.wait(future, deadline: deadline, cancel: cancel, op: "listen on", address: shown,
                                        onAbandon: { $0.close(promise: nil) })
        let l = Listener(channel: ch, proto: tls != nil ? "tls" : unixPath == nil ? "tcp" : "unix", backlog: max(1, backlog), tls: tls, transcript: transcript)
        lock.lock(); holder = l; lock.unlock()
        let alpn = tls.map { $0.options.alpn.isEmpty ? "" : ", ALPN \($0.options.alpn.joined(separator: " "))" } ?? ""
        let mtls = tls?.options.clientCAFile != nil ? ", client certificates required" : ""
        transcript?.record(l.proto, .note, "listening on \(l.localText) (backlog \(backlog)\(alpn)\(mtls))")
        return l
    }

    static func unixPath(_ address: String) -> String? { Endpoint.unixPath(address) }

    func noteHandshakeFailure(_ peer: String, _ why: String) {
        cond.lock(); failures += 1; let tell = onHandshakeFailure; cond.unlock()
        transcript?.record("tls", .note, "TLS handshake with \(peer) failed: \(why)")
        tell?(peer, why)
    }

    /// The port actually bound (useful after listening on port 0); nil for Unix sockets.
    public var port: Int? { channel.localAddress?.port }

    func enqueue(_ c: StreamConnection) {
        cond.lock()
        queue.append(c)
        let full = queue.count >= backlog
        if full { paused = true }
        cond.signal()
        cond.unlock()
        if full { channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in } }
    }

    /// The next connection, waiting up to `timeout` seconds.
    public func accept(timeout: TimeInterval = 30, cancel: CancelCheck? = nil) throws -> StreamConnection {
        let deadline = Date().addingTimeInterval(timeout)
        cond.lock()
        defer { cond.unlock() }
        while queue.isEmpty {
            if isClosed { throw SocketError(.closed, "accept on \(localText): the listener is closed", address: localText) }
            if cancel?() == true { throw SocketError(.interrupted, "accept on \(localText): interrupted", address: localText) }
            let now = Date()
            if now >= deadline { throw SocketError(.timeout, "accept on \(localText): no connection within \(Transcript.seconds(timeout))", address: localText) }
            _ = cond.wait(until: min(deadline, now.addingTimeInterval(0.1)))
        }
        let c = queue.removeFirst()
        if paused && queue.count < backlog {
            paused = false
            let ch = channel
            ch.eventLoop.execute { ch.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }; ch.read() }
        }
        c.cancel = cancel
        transcript?.record(c.proto, .note, "accepted \(c.peerText) on \(c.localText)")
        return c
    }

    /// Stops listening; connections not yet accepted are closed.
    public func close() {
        cond.lock()
        if isClosed { cond.unlock(); return }
        isClosed = true
        let pending = queue
        queue.removeAll()
        cond.broadcast()
        cond.unlock()
        for c in pending { c.abandon() }
        try? channel.close().wait()
        transcript?.record(proto, .note, "stopped listening on \(localText)")
    }
}

extension Transcript {
    /// "1 s", "0.5 s": a duration for messages.
    public static func seconds(_ t: TimeInterval) -> String {
        t == t.rounded() ? "\(Int(t)) s" : "\(t) s"
    }
}
