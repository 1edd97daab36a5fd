import Foundation
import NIOCore
import NIOPosix
import NIOTLS

final class DatagramEchoHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let stats: EchoServer.Stats
    init(_ stats: EchoServer.Stats) { self.stats = stats }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let env = unwrapInboundIn(data)
        stats.add(bytes: env.data.readableBytes, datagrams: 1)
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: env.remoteAddress, data: env.data)), promise: nil)
    }
    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
    func errorCaught(context: ChannelHandlerContext, error: Error) { /* ICMP errors for one peer must not stop the server */ }
}

/// Echoes a TLS stream on the event loop: what is read is written back, and reading pauses
/// while the peer does not take what was written (writability is the back-pressure).
final class TLSEchoHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let stats: EchoServer.Stats
    init(_ stats: EchoServer.Stats) { self.stats = stats }
    func channelActive(context: ChannelHandlerContext) { context.fireChannelActive() }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buf = unwrapInboundIn(data)
        stats.add(bytes: buf.readableBytes)
        context.write(wrapOutboundOut(buf), promise: nil)
    }
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        if !context.channel.isWritable { context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in } }
    }
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }; context.read() }
    }
    private var ready = false
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted? = event as? TLSUserEvent { ready = true }
        // The client is done sending: finish echoing, then close (as the plain echo does).
        if case ChannelEvent.inputClosed? = event as? ChannelEvent {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in context.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }
    func channelInactive(context: ChannelHandlerContext) {
        if ready { stats.add(finished: 1) }
        context.fireChannelInactive()
    }
    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

/// A built-in echo server: TCP or a Unix stream socket (a thread per client, see StreamEcho),
/// or UDP (on the shared event loops). Any number of clients at once; it runs until `stop()`.
public final class EchoServer: @unchecked Sendable {
    /// Counters the server keeps while it runs.
    public final class Stats: @unchecked Sendable {
        let lock = NSLock()
        /// Stream clients accepted so far (for TLS: handshakes completed). Read `snapshot` for a
        /// consistent set of counters while the server runs.
        public private(set) var connections = 0
        /// Stream clients whose connection has ended (closed or reset by either side).
        public private(set) var finished = 0
        /// Bytes echoed so far, streams and datagrams together (each byte counted once, as received).
        public private(set) var bytes = 0
        /// UDP datagrams echoed so far (0 for a stream server).
        public private(set) var datagrams = 0
        func add(connections c: Int = 0, finished f: Int = 0, bytes b: Int = 0, datagrams d: Int = 0) {
            lock.lock(); connections += c; finished += f; bytes += b; datagrams += d; lock.unlock()
        }
        /// The four counters read together under the lock.
        public var snapshot: (connections: Int, finished: Int, bytes: Int, datagrams: Int) {
            lock.lock(); defer { lock.unlock() }; return (connections, finished, bytes, datagrams)
        }
    }

    /// The UDP channel (datagrams are echoed on the event loop), or nil for a stream server.
    let channel: Channel?
    /// The stream server (TCP or Unix): a thread per client.
    let streams: StreamEcho?
    /// The server's counters, updated as it runs.
    public let stats: Stats
    /// True for a UDP server (datagrams echoed to their sender), false for TCP, TLS or a Unix
    /// stream socket.
    public let udp: Bool
    /// The bound local address as text (`127.0.0.1:7007`, with the real port when 0 was asked for,
    /// or the socket path), `?` when unknown.
    public let localText: String
    let transcript: Transcript?

    init(channel: Channel?, streams: StreamEcho?, stats: Stats, udp: Bool, transcript: Transcript?, tlsFailures: Stats = Stats()) {
        self.channel = channel; self.streams = streams; self.stats = stats; self.udp = udp; self.transcript = transcript
        self.tlsFailures = tlsFailures
        self.localText = streams?.localText ?? channel?.localAddress?.text ?? "?"
    }

    /// The bound port (the real one when port 0 was asked for); nil for a Unix socket.
    public var port: Int? { streams?.port ?? channel?.localAddress?.port }

    /// Handshakes that failed or timed out (TLS only; the server goes on).
    public let tlsFailures: Stats

    /// Binds `address` (`HOST:PORT`, `:PORT`, or a Unix socket path; a stale socket file is
    /// replaced) and starts echoing: TCP and Unix streams on a thread per client, UDP (`udp`) and
    /// TLS (`tls`, each connection echoed once its handshake is done) on the shared event loops.
    /// `backlog` is the kernel's listen queue. Returns once the socket is bound; throws `SocketError`
    /// for a bad address, a name that does not resolve, a port in use or not permitted, or when
    /// binding takes more than 10 seconds or `cancel` fires. `onHandshakeFailure` gets the client's
    /// address and the reason for each failed TLS handshake.
    public static func start(_ address: String, udp: Bool = false, backlog: Int = 1024, tls: TLSServerSetup? = nil,
                             transcript: Transcript? = nil, cancel: CancelCheck? = nil,
                             onHandshakeFailure: ((String, String) -> Void)? = nil) throws -> EchoServer {
        let stats = Stats()
        let deadline = Date().addingTimeInterval(10)
        let unixPath = Listener.unixPath(address)
        let future: EventLoopFuture<Channel>
        if let tls, !udp {
            let failures = Stats()
            let b = ServerBootstrap(group: SocketRuntime.group)
                .serverChannelOption(ChannelOptions.backlog, value: Int32(max(1, backlog)))
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { ch in
                    let gate = TLSServerGate(timeout: tls.options.handshakeTimeout, onReady: { _ in stats.add(connections: 1) }) { failed, why in
                        failures.add(connections: 1)
                        let peer = failed.remoteAddress?.text ?? "?"
                        transcript?.record("tls", .note, "TLS handshake with \(peer) failed: \(why)")
                        onHandshakeFailure?(peer, why)
                    }
                    do {
                        try ch.pipeline.syncOperations.addHandlers([tls.makeHandler(), gate, TLSEchoHandler(stats)])
                        return ch.eventLoop.makeSucceededVoidFuture()
                    } catch { return ch.eventLoop.makeFailedFuture(error) }
                }
            if let p = unixPath { future = b.bind(unixDomainSocketPath: p, cleanupExistingSocketFile: true) }
            else { future = b.bind(to: try HostLookup.resolve(try Endpoint(parsing: address), deadline: deadline, cancel: cancel)[0]) }
            let ch = try SocketRuntime.wait(future, deadline: deadline, cancel: cancel, op: "serve echo on", address: address,
                                            onAbandon: { $0.close(promise: nil) })
            let s = EchoServer(channel: ch, streams: nil, stats: stats, udp: false, transcript: transcript, tlsFailures: failures)
            transcript?.record("tls", .note, "TLS echo server listening on \(s.localText)")
            return s
        } else if udp {
            let b = DatagramBootstrap(group: SocketRuntime.group)
                .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
                .channelInitializer { ch in
                    do { try ch.pipeline.syncOperations.addHandler(DatagramEchoHandler(stats)); return ch.eventLoop.makeSucceededVoidFuture() }
                    catch { return ch.eventLoop.makeFailedFuture(error) }
                }
            if let p = unixPath { future = b.bind(unixDomainSocketPath: p, cleanupExistingSocketFile: true) }
            else { future = b.bind(to: try HostLookup.resolve(try Endpoint(parsing: address), deadline: deadline, cancel: cancel)[0]) }
        } else {
            let target: SocketAddress
            if let p = unixPath {
                do { target = try SocketAddress(unixDomainSocketPath: p) }
                catch { throw SocketError(.value, "serve echo on \(p): not a usable socket path (\(error))", address: p) }
            } else {
                target = try HostLookup.resolve(try Endpoint(parsing: address), deadline: deadline, cancel: cancel)[0]
            }
            let streams = try StreamEcho.start(target, unixPath: unixPath, backlog: backlog, stats: stats, shown: address)
            let s = EchoServer(channel: nil, streams: streams, stats: stats, udp: false, transcript: transcript)
            transcript?.record(unixPath == nil ? "tcp" : "unix", .note, "echo server listening on \(s.localText)")
            return s
        }
        let ch = try SocketRuntime.wait(future, deadline: deadline, cancel: cancel, op: "serve echo on", address: address,
                                        onAbandon: { $0.close(promise: nil) })
        let s = EchoServer(channel: ch, streams: nil, stats: stats, udp: udp, transcript: transcript)
        transcript?.record(udp ? "udp" : (unixPath == nil ? "tcp" : "unix"), .note, "echo server listening on \(s.localText)")
        return s
    }

    /// Stops the server: closes the listening (or UDP) socket, shuts down each TCP/Unix client's
    /// connection so its thread ends, and records a summary note (connections or datagrams, bytes
    /// echoed). TLS connections already accepted finish on their own. A second call only records
    /// the note again.
    public func stop() {
        try? channel?.close().wait()
        streams?.stop()
        let s = stats.snapshot
        transcript?.record(udp ? "udp" : "tcp", .note,
                           "echo server on \(localText) stopped: \(udp ? "\(s.datagrams) datagrams" : "\(s.connections) connections"), \(s.bytes) bytes echoed")
    }
}
