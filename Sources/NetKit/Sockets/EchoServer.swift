import Foundation
import NIOCore
import NIOPosix

/// Echoes every byte back, reading only as fast as the peer takes the echo (autoRead follows
/// writability), and closes once the peer has closed its side and the echo is flushed.
final class EchoHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let stats: EchoServer.Stats
    init(_ stats: EchoServer.Stats) { self.stats = stats }

    func channelActive(context: ChannelHandlerContext) { stats.add(connections: 1) }
    func channelInactive(context: ChannelHandlerContext) { stats.add(finished: 1) }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        stats.add(bytes: unwrapInboundIn(data).readableBytes)
        context.write(data, promise: nil)
    }
    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let w = context.channel.isWritable
        context.channel.setOption(ChannelOptions.autoRead, value: w).whenComplete { _ in }
        if w { context.read() }
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event as? ChannelEvent ?? .outputClosed {
            let ctx = context
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                ctx.close(promise: nil)
            }
        }
    }
    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

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

/// A built-in echo server on the shared event loops: TCP (any number of clients at once),
/// UDP, or a Unix stream socket. It runs until `stop()`.
public final class EchoServer: @unchecked Sendable {
    /// Counters the server keeps while it runs.
    public final class Stats: @unchecked Sendable {
        let lock = NSLock()
        public private(set) var connections = 0
        public private(set) var finished = 0
        public private(set) var bytes = 0
        public private(set) var datagrams = 0
        func add(connections c: Int = 0, finished f: Int = 0, bytes b: Int = 0, datagrams d: Int = 0) {
            lock.lock(); connections += c; finished += f; bytes += b; datagrams += d; lock.unlock()
        }
        /// The open client connections, so `stop` can close them too.
        var children: [ObjectIdentifier: Channel] = [:]
        func track(_ ch: Channel) {
            let id = ObjectIdentifier(ch)
            lock.lock(); children[id] = ch; lock.unlock()
            ch.closeFuture.whenComplete { _ in self.lock.lock(); self.children[id] = nil; self.lock.unlock() }
        }
        func closeAll() {
            lock.lock(); let all = Array(children.values); children.removeAll(); lock.unlock()
            for ch in all { ch.close(promise: nil) }
        }
        public var snapshot: (connections: Int, finished: Int, bytes: Int, datagrams: Int) {
            lock.lock(); defer { lock.unlock() }; return (connections, finished, bytes, datagrams)
        }
    }

    public let channel: Channel
    public let stats: Stats
    public let udp: Bool
    public let localText: String
    let transcript: Transcript?

    init(channel: Channel, stats: Stats, udp: Bool, transcript: Transcript?) {
        self.channel = channel; self.stats = stats; self.udp = udp; self.transcript = transcript
        self.localText = channel.localAddress?.text ?? "?"
    }

    public var port: Int? { channel.localAddress?.port }

    public static func start(_ address: String, udp: Bool = false, backlog: Int = 1024, transcript: Transcript? = nil,
                             cancel: CancelCheck? = nil) throws -> EchoServer {
        let stats = Stats()
        let deadline = Date().addingTimeInterval(10)
        let unixPath = Listener.unixPath(address)
        let future: EventLoopFuture<Channel>
        if udp {
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
            let b = ServerBootstrap(group: SocketRuntime.group)
                .serverChannelOption(ChannelOptions.backlog, value: Int32(backlog))
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { ch in
                    stats.track(ch)
                    do { try ch.pipeline.syncOperations.addHandler(EchoHandler(stats)); return ch.eventLoop.makeSucceededVoidFuture() }
                    catch { return ch.eventLoop.makeFailedFuture(error) }
                }
            if let p = unixPath { future = b.bind(unixDomainSocketPath: p, cleanupExistingSocketFile: true) }
            else { future = b.bind(to: try HostLookup.resolve(try Endpoint(parsing: address), deadline: deadline, cancel: cancel)[0]) }
        }
        let ch = try SocketRuntime.wait(future, deadline: deadline, cancel: cancel, op: "serve echo on", address: address,
                                        onAbandon: { $0.close(promise: nil) })
        let s = EchoServer(channel: ch, stats: stats, udp: udp, transcript: transcript)
        transcript?.record(udp ? "udp" : (unixPath == nil ? "tcp" : "unix"), .note, "echo server listening on \(s.localText)")
        return s
    }

    public func stop() {
        try? channel.close().wait()
        stats.closeAll()
        let s = stats.snapshot
        transcript?.record(udp ? "udp" : "tcp", .note,
                           "echo server on \(localText) stopped: \(udp ? "\(s.datagrams) datagrams" : "\(s.connections) connections"), \(s.bytes) bytes echoed")
    }
}
