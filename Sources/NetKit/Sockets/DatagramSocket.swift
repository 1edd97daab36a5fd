import Foundation
import NIOCore
import NIOPosix

/// A UDP (or Unix datagram) socket used with blocking calls. Message boundaries are kept:
/// each receive returns one datagram. Up to 4,096 datagrams wait unread; beyond that new ones
/// (or 4 MiB) are dropped, as the kernel would drop them.
public final class DatagramSocket: @unchecked Sendable {
    /// The largest UDP payload over IPv4: 65,535 − 8 (UDP header) − 20 (IP header).
    public static let maxPayload = 65_507
    static let queueLimit = 4_096
    /// And at most this many bytes (4,096 full-size datagrams would be 256 MiB).
    static let queueByteLimit = 4 << 20

    final class Box: @unchecked Sendable {
        let cond = NSCondition()
        var queue: [(data: [UInt8], from: SocketAddress)] = []
        var head = 0
        var error: Error?
        var closed = false
        var dropped = 0
        var queuedBytes = 0
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let box: Box
        init(_ box: Box) { self.box = box }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let env = unwrapInboundIn(data)
            box.cond.lock()
            let size = env.data.readableBytes
            if box.queue.count - box.head < DatagramSocket.queueLimit && box.queuedBytes + size <= DatagramSocket.queueByteLimit {
                box.queue.append((Array(env.data.readableBytesView), env.remoteAddress))
                box.queuedBytes += size
            } else { box.dropped += 1 }
            box.cond.signal()
            box.cond.unlock()
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) {
            // An ICMP "port unreachable" for a connected socket arrives as ECONNREFUSED.
            box.cond.lock(); box.error = error; box.cond.broadcast(); box.cond.unlock()
        }
        func channelInactive(context: ChannelHandlerContext) {
            box.cond.lock(); box.closed = true; box.cond.broadcast(); box.cond.unlock()
        }
    }

    /// The NIO channel underneath (for callers that need a socket option this class does not offer).
    public let channel: Channel
    let box: Box
    /// `udp`, or `unix` for a Unix datagram socket: the label of its transcript lines.
    public let proto: String
    /// Where each datagram sent and received is recorded (bytes escaped); nil records nothing.
    public let transcript: Transcript?
    /// The bound address as text (`0.0.0.0:40123`, or the socket path), fixed when opened.
    public let localText: String
    /// Set for a connected socket: the only peer it sends to and hears from.
    public let peer: SocketAddress?
    /// True after `close`; a send or receive after that fails with `closed`.
    public private(set) var isClosed = false
    /// Polled at least every 100 ms while a receive waits; true stops it with `interrupted`.
    public var cancel: CancelCheck?
    /// Who spoke first with each peer, for the trace's direction as on the wire: with a peer we
    /// wrote to first we are the client (our datagrams C:, its S:); with a peer whose datagram
    /// came first we are answering it as a server (its datagrams C:, ours S:).
    private var roles = PeerRoles()
    /// Sends and receives may run on different threads (a script's task and a server loop).
    private let rolesLock = NSLock()

    func direction(sentTo peer: String) -> TranscriptDirection {
        rolesLock.lock(); defer { rolesLock.unlock() }
        return roles.sent(to: peer)
    }
    func direction(receivedFrom peer: String) -> TranscriptDirection {
        rolesLock.lock(); defer { rolesLock.unlock() }
        return roles.received(from: peer)
    }

    struct PeerRoles {
        private var weAnswer: Set<String> = []
        private var weAsked: Set<String> = []
        /// Kept small: a server answering many clients forgets the oldest roles at once.
        static let limit = 4096

        mutating func sent(to peer: String) -> TranscriptDirection {
            if weAnswer.contains(peer) { return .server }
            if weAsked.count >= PeerRoles.limit { weAsked.removeAll() }
            weAsked.insert(peer)
            return .client
        }
        mutating func received(from peer: String) -> TranscriptDirection {
            if weAsked.contains(peer) { return .server }
            if weAnswer.count >= PeerRoles.limit { weAnswer.removeAll() }
            weAnswer.insert(peer)
            return .client
        }
    }

    /// Its number in a `--record` recording.
    var wireID: Int?
    /// Under `--replay`: the recording its sends are checked against and its datagrams come
    /// from (the channel is then bound to a loopback port nobody sends to, and never connected).
    var replayed: DatagramReplay?

    init(channel: Channel, box: Box, proto: String, peer: SocketAddress?, transcript: Transcript?, cancel: CancelCheck?,
         localText: String? = nil) {
        self.channel = channel; self.box = box; self.proto = proto; self.peer = peer
        self.transcript = transcript; self.cancel = cancel
        self.localText = localText ?? channel.localAddress?.text ?? "(unbound)"
    }

    /// Hands recorded datagrams to the socket as if they had arrived.
    func deliver(_ items: [([UInt8], String)]) {
        guard !items.isEmpty else { return }
        box.cond.lock()
        for (data, from) in items {
            guard let ep = try? Endpoint(parsing: from), let a = try? SocketAddress(ipAddress: ep.host, port: ep.port) else { continue }
            box.queue.append((data, a))
            box.queuedBytes += data.count
        }
        box.cond.broadcast()
        box.cond.unlock()
    }

    /// The connected peer as text (`127.0.0.1:53`), or nil for an unconnected socket.
    public var peerText: String? { peer?.text }

    /// Opens a UDP socket: bound to `bind` (default: any address, a free port, in the family of
    /// `connect` if given), and connected to `connect` when given. With `unix: true` the
    /// addresses are socket paths.
    public static func open(bind: String? = nil, connect: String? = nil, unix: Bool = false,
                            transcript: Transcript? = nil, cancel: CancelCheck? = nil, timeout: TimeInterval = 10) throws -> DatagramSocket {
        let deadline = Date().addingTimeInterval(timeout)
        let box = Box()
        var peer: SocketAddress? = nil
        if let c = connect {
            peer = unix ? try SocketAddress(unixDomainSocketPath: c)
                        : try HostLookup.resolve(try Endpoint(parsing: c), deadline: deadline, cancel: cancel)[0]
        }
        var local: SocketAddress
        if let b = bind {
            local = unix ? try SocketAddress(unixDomainSocketPath: b)
                         : try HostLookup.resolve(try Endpoint(parsing: b, defaultPort: 0), deadline: deadline, cancel: cancel)[0]
        } else if unix {
            // An unnamed Unix datagram socket cannot be answered: give it a private path.
            let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("netscript-dgram-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock")
            local = try SocketAddress(unixDomainSocketPath: path)
        } else if case .v6? = peer {
            local = try SocketAddress(ipAddress: "::", port: 0)
        } else {
            local = try SocketAddress(ipAddress: "0.0.0.0", port: 0)
        }
        let replay = unix ? nil : try WireReplay.shared.map { try $0.openUDP(address: peer?.text ?? "(unconnected)") }
        if replay != nil {
            // No network: a loopback port nobody sends to; the recording gives the datagrams.
            local = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
        }
        let bootstrap = DatagramBootstrap(group: SocketRuntime.group)
            .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
            .channelInitializer { ch in
                do { try ch.pipeline.syncOperations.addHandler(Handler(box)); return ch.eventLoop.makeSucceededVoidFuture() }
                catch { return ch.eventLoop.makeFailedFuture(error) }
            }
        let shown = replay != nil ? local.text : bind ?? local.text
        var ch: Channel
        if unix, let path = local.pathname {
            ch = try SocketRuntime.wait(bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true),
                                        deadline: deadline, cancel: cancel, op: "bind", address: path, onAbandon: { $0.close(promise: nil) })
        } else {
            ch = try SocketRuntime.wait(bootstrap.bind(to: local), deadline: deadline, cancel: cancel, op: "bind", address: shown,
                                        onAbandon: { $0.close(promise: nil) })
        }
        if let p = peer, replay == nil {
            do {
                try SocketRuntime.wait(ch.connect(to: p), deadline: deadline, cancel: cancel, op: "connect", address: p.text)
            } catch { ch.close(promise: nil); throw error }
        }
        let s = DatagramSocket(channel: ch, box: box, proto: unix ? "unix" : "udp", peer: peer, transcript: transcript, cancel: cancel,
                               localText: replay.map { $0.local ?? "(replay)" })
        transcript?.record(s.proto, .note, "bound \(s.localText)" + (peer.map { ", connected to \($0.text)" } ?? "")
                           + (replay != nil ? " (replayed from the recording)" : ""))
        if let replay {
            s.replayed = replay
            s.deliver(replay.arrivals())
        } else if !unix {
            s.wireID = WireRecorder.shared?.open(address: peer?.text ?? "(unconnected)", tls: false, kind: "udp", local: s.localText)
        }
        return s
    }

    /// Sends one datagram to `to`, or to the connected peer.
    public func send(_ data: [UInt8], to: String? = nil, timeout: TimeInterval = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        let shown = to ?? peerText ?? "?"
        if isClosed { throw SocketError(.closed, "sendto \(shown): the socket is closed", address: shown) }
        if data.count > DatagramSocket.maxPayload {
            throw SocketError(.value, "sendto \(shown): a datagram holds at most \(DatagramSocket.maxPayload) bytes, not \(data.count)", address: shown)
        }
        let buf = channel.allocator.buffer(bytes: data)
        let dest: SocketAddress?
        let destText: String
        if let to {
            let d: SocketAddress
            if proto == "unix" { d = try SocketAddress(unixDomainSocketPath: to) }
            else { d = try HostLookup.resolve(try Endpoint(parsing: to), deadline: deadline, cancel: cancel)[0] }
            dest = d
            destText = d.text
        } else {
            guard let p = peer else {
                throw SocketError(.value, "send: this socket is not connected; use sendto with an address", address: localText)
            }
            dest = nil
            destText = p.text
        }
        // Recorded before it goes, so step mode can show it first (and `q` abandon it).
        if let t = transcript { t.recordBytes(proto, direction(sentTo: destText), "→ \(shown) ", data) }
        if cancel?() == true { throw SocketError(.interrupted, "sendto \(shown): interrupted", address: shown) }
        if let r = replayed {
            try r.sent(data, to: destText)
            deliver(r.arrivals())
            return
        }
        if let id = wireID { WireRecorder.shared?.event(id, "send", data, peer: destText) }
        let f: EventLoopFuture<Void>
        if let dest { f = channel.writeAndFlush(AddressedEnvelope(remoteAddress: dest, data: buf)) }
        else { f = channel.writeAndFlush(buf) }
        try SocketRuntime.wait(f, deadline: deadline, cancel: cancel, op: "sendto", address: shown)
    }

    /// The next datagram and its sender (for a connected socket, only datagrams from the peer).
    public func receive(timeout: TimeInterval = 30) throws -> (data: [UInt8], from: String) {
        let deadline = Date().addingTimeInterval(timeout)
        box.cond.lock()
        defer { box.cond.unlock() }
        while true {
            if box.head < box.queue.count {
                let d = box.queue[box.head]
                box.head += 1
                box.queuedBytes -= d.data.count
                if box.head == box.queue.count { box.queue.removeAll(keepingCapacity: true); box.head = 0 }
                let from = d.from.text
                let got = d.data
                if let id = wireID { WireRecorder.shared?.event(id, "recv", got, peer: from) }
                if let t = transcript { t.recordBytes(proto, direction(receivedFrom: from), "← \(from) ", got) }
                return (d.data, from)
            }
            if let e = box.error {
                box.error = nil
                throw SocketError.from(e, op: "recvfrom", address: peerText ?? localText)
            }
            if box.closed || isClosed { throw SocketError(.closed, "recvfrom on \(localText): the socket is closed", address: localText) }
            if cancel?() == true { throw SocketError(.interrupted, "recvfrom on \(localText): interrupted", address: localText) }
            let now = Date()
            if now >= deadline {
                throw SocketError(.timeout, "recvfrom on \(localText): no datagram within \(Transcript.seconds(timeout))", address: peerText ?? localText)
            }
            _ = box.cond.wait(until: min(deadline, now.addingTimeInterval(0.1)))
        }
    }

    /// Closes the socket (and removes the private path an unnamed Unix socket was given); calling it again does nothing.
    public func close() {
        if isClosed { return }
        isClosed = true
        try? channel.close().wait()
        if proto == "unix", let path = channel.localAddress?.pathname ?? URL(string: localText)?.path, path.contains("netscript-dgram-") {
            unlink(path)
        }
        transcript?.record(proto, .note, "closed \(localText)")
    }
}
