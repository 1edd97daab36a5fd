import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
#if canImport(Glibc)
import Glibc
#endif

/// Bytes received on a stream, shared between the event loop (which appends) and the blocking
/// caller (which takes). Reading pauses once `limit` bytes wait unread, so a peer that floods
/// us cannot make memory grow without bound.
final class InboundBuffer: @unchecked Sendable {
    let cond = NSCondition()
    var bytes: [UInt8] = []
    var start = 0
    var eof = false
    var error: Error? = nil
    var paused = false
    var limit = 1 << 20
    var tlsReady = false
    var count: Int { bytes.count - start }

    /// Removes and returns the first `n` unread bytes. Called with the lock held.
    func take(_ n: Int) -> [UInt8] {
        let out = Array(bytes[start..<(start + n)])
        start += n
        if start == bytes.count { bytes.removeAll(keepingCapacity: bytes.count <= 1 << 20); start = 0 }
        else if start > 1 << 16 && start > bytes.count / 2 { bytes.removeFirst(start); start = 0 }
        return out
    }
}

/// Appends what arrives to the shared buffer and wakes the reader.
final class InboundHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let box: InboundBuffer
    /// Called once the channel is active (a listener hands over accepted connections then).
    let onActive: ((Channel) -> Void)?
    init(_ box: InboundBuffer, onActive: ((Channel) -> Void)? = nil) { self.box = box; self.onActive = onActive }

    func channelActive(context: ChannelHandlerContext) {
        onActive?(context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buf = unwrapInboundIn(data)
        box.cond.lock()
        buf.withUnsafeReadableBytes { box.bytes.append(contentsOf: $0) }
        let over = box.count >= box.limit
        if over { box.paused = true }
        box.cond.signal()
        box.cond.unlock()
        if over { context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in } }
    }
    func channelInactive(context: ChannelHandlerContext) {
        box.cond.lock(); box.eof = true; box.cond.broadcast(); box.cond.unlock()
        context.fireChannelInactive()
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        box.cond.lock()
        if case ChannelEvent.inputClosed = event as? ChannelEvent ?? .outputClosed { box.eof = true }
        if case TLSUserEvent.handshakeCompleted = event as? TLSUserEvent ?? .shutdownCompleted { box.tlsReady = true }
        box.cond.broadcast()
        box.cond.unlock()
        context.fireUserInboundEventTriggered(event)
    }
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        box.cond.lock(); box.cond.broadcast(); box.cond.unlock()
    }
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        box.cond.lock()
        if box.error == nil { box.error = error }
        box.cond.broadcast()
        box.cond.unlock()
        context.close(promise: nil)
    }
}

/// TLS settings for a client connection: verification is on unless `verify` is false.
public struct TLSOptions: Sendable {
    public var verify: Bool
    /// A PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?
    /// The name to send as SNI and to verify; defaults to the host connected to.
    public var serverName: String?
    public init(verify: Bool = true, caFile: String? = nil, serverName: String? = nil) {
        self.verify = verify; self.caFile = caFile; self.serverName = serverName
    }
}

/// A connected byte stream (TCP, TLS over TCP, or a Unix stream socket) used with blocking
/// calls: each waits on the event loop's work in slices of at most 100 ms, so a deadline or a
/// cancellation check (Ctrl-C) ends it promptly. Every step is reported to the transcript.
public final class StreamConnection: @unchecked Sendable {
    /// The NIO channel (TLS, accepted connections), or nil for a direct client socket.
    public let channel: Channel?
    let direct: DirectSocket?
    let box: InboundBuffer
    /// "tcp", "tls" or "unix": the transcript's protocol name.
    public let proto: String
    /// True for a connection a listener accepted: then our sends are the server's lines (S:).
    public let isServerSide: Bool
    public let transcript: Transcript?
    public let localText: String
    public let peerText: String
    public private(set) var isClosed = false
    public private(set) var isWriteShut = false
    public var cancel: CancelCheck?

    init(channel: Channel?, direct: DirectSocket? = nil, box: InboundBuffer, proto: String, serverSide: Bool, transcript: Transcript?, cancel: CancelCheck?) {
        self.channel = channel; self.direct = direct; self.box = box; self.proto = proto; self.isServerSide = serverSide
        self.transcript = transcript; self.cancel = cancel
        let names = direct?.names()
        let local = names?.local ?? channel?.localAddress?.text ?? ""
        let peer = names?.peer ?? channel?.remoteAddress?.text ?? ""
        self.localText = local.isEmpty ? "(unnamed)" : local
        self.peerText = peer.isEmpty ? "(unnamed)" : peer
    }

    /// Whether the peer has closed its side and everything it sent has been read.
    public var atEOF: Bool { box.cond.lock(); defer { box.cond.unlock() }; return box.eof && box.count == 0 }

    // MARK: connecting

    /// Connects to `HOST:PORT` (names resolved, each address tried in turn within the timeout),
    /// optionally wrapping the stream in TLS.
    public static func connect(_ address: String, timeout: TimeInterval = 10, tls: TLSOptions? = nil,
                               transcript: Transcript? = nil, cancel: CancelCheck? = nil) throws -> StreamConnection {
        let ep = try Endpoint(parsing: address)
        let deadline = Date().addingTimeInterval(timeout)
        let targets = try HostLookup.resolve(ep, deadline: deadline, cancel: cancel)
        let sslContext = try tls.map { try makeSSLContext($0, shown: "connect \(ep)", address: ep.description) }
        var lastError: Error = SocketError(.resolve, "connect \(ep): no addresses", address: ep.description)
        for target in targets {
            let addrText = ep.isLiteral ? ep.description : "\(ep) (\(target.text))"
            if tls == nil {
                do {
                    let d = try DirectSocket.connect(to: target, deadline: deadline, cancel: cancel, shown: addrText)
                    let conn = StreamConnection(channel: nil, direct: d, box: InboundBuffer(), proto: "tcp", serverSide: false,
                                                transcript: transcript, cancel: cancel)
                    transcript?.record("tcp", .note, "connected \(conn.localText) → \(conn.peerText)")
                    return conn
                } catch let e as SocketError where e.kind == .interrupted {
                    throw e
                } catch {
                    lastError = error
                    if Date() >= deadline { break }
                    continue
                }
            }
            let box = InboundBuffer()
            let sniName = tls?.serverName ?? (ep.isLiteral ? nil : ep.host)
            let remaining = max(0.001, deadline.timeIntervalSinceNow)
            let bootstrap = ClientBootstrap(group: SocketRuntime.group)
                .connectTimeout(.milliseconds(Int64(remaining * 1000)))
                .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { ch in
                    do {
                        if let ctx = sslContext {
                            let h = try NIOSSLClientHandler(context: ctx, serverHostname: sniName)
                            try ch.pipeline.syncOperations.addHandler(h)
                        }
                        try ch.pipeline.syncOperations.addHandler(InboundHandler(box))
                        return ch.eventLoop.makeSucceededVoidFuture()
                    } catch { return ch.eventLoop.makeFailedFuture(error) }
                }
            do {
                let ch = try SocketRuntime.wait(bootstrap.connect(to: target), deadline: deadline, cancel: cancel,
                                                op: "connect", address: addrText, onAbandon: { $0.close(promise: nil) })
                let conn = StreamConnection(channel: ch, box: box, proto: tls == nil ? "tcp" : "tls", serverSide: false,
                                            transcript: transcript, cancel: cancel)
                transcript?.record(conn.proto, .note, "connected \(conn.localText) → \(conn.peerText)")
                if tls != nil { try conn.waitForHandshake(deadline: deadline, address: addrText) }
                return conn
            } catch let e as SocketError where e.kind == .interrupted || e.kind == .tls {
                throw e
            } catch {
                lastError = error
                if Date() >= deadline { break }
            }
        }
        let failure = SocketError.from(lastError, op: "connect", address: ep.description)
        transcript?.record(tls == nil ? "tcp" : "tls", .note, "connect failed (\(failure.kind.rawValue)): \(failure.message)")
        throw failure
    }

    /// A client TLS context: verification on unless `verify` is false, `caFile` trusted instead
    /// of the system's roots.
    static func makeSSLContext(_ tls: TLSOptions, shown: String, address: String) throws -> NIOSSLContext {
        var cfg = TLSConfiguration.makeClientConfiguration()
        if !tls.verify { cfg.certificateVerification = .none }
        if let ca = tls.caFile {
            guard FileManager.default.isReadableFile(atPath: ca) else {
                throw SocketError(.tls, "\(shown): cannot read the CA file \(ca)", address: address)
            }
            cfg.trustRoots = .file(ca)
        }
        do { return try NIOSSLContext(configuration: cfg) }
        catch { throw SocketError(.tls, "\(shown): TLS set-up failed: \(error)", address: address) }
    }

    /// Upgrades a plain TCP client connection to TLS in place, for STARTTLS (SMTP) and
    /// AUTH TLS (FTP): the socket is handed to SwiftNIO with a TLS handler and this connection
    /// is closed for further use; the returned connection speaks TLS on the same socket.
    /// `host` is the name the user connected to: sent as SNI and verified, unless it is an
    /// address literal (then the certificate must name the address).
    ///
    /// Anything the server sent before the handshake and we have not read is refused: bytes
    /// that arrive in the clear after the "go ahead" reply are the STARTTLS command-injection
    /// attack (CVE-2011-0411), and must never be treated as if they came over TLS.
    public func startTLS(_ tls: TLSOptions, host: String, timeout: TimeInterval = 10) throws -> StreamConnection {
        let shown = "TLS upgrade with \(peerText)"
        guard let d = direct, !isClosed else {
            throw SocketError(.tls, "\(shown): only a plain TCP client connection can be upgraded", address: peerText)
        }
        box.cond.lock()
        var pending = box.count
        box.cond.unlock()
        // Bytes the kernel holds but we have not read yet count too.
        var probe = [UInt8](repeating: 0, count: 4096)
        let waiting = Glibc.recv(d.fd, &probe, probe.count, Int32(MSG_PEEK | MSG_DONTWAIT))
        if waiting > 0 { pending += waiting }
        if pending > 0 {
            abandon()
            throw SocketError(.tls, "\(shown): the server sent \(pending) bytes in the clear before the TLS handshake (a STARTTLS injection?); connection closed", address: peerText)
        }
        let deadline = Date().addingTimeInterval(timeout)
        let ctx = try StreamConnection.makeSSLContext(tls, shown: shown, address: peerText)
        let literal = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let sniName = tls.serverName ?? (literal ? nil : host)
        let newBox = InboundBuffer()
        // From here the socket belongs to NIO: this connection must neither read nor close it.
        isClosed = true
        let flags = fcntl(d.fd, F_GETFL)
        _ = fcntl(d.fd, F_SETFL, flags | O_NONBLOCK)
        let bootstrap = ClientBootstrap(group: SocketRuntime.group)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelInitializer { ch in
                do {
                    try ch.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: ctx, serverHostname: sniName))
                    try ch.pipeline.syncOperations.addHandler(InboundHandler(newBox))
                    return ch.eventLoop.makeSucceededVoidFuture()
                } catch { return ch.eventLoop.makeFailedFuture(error) }
            }
        let ch: Channel
        do {
            ch = try SocketRuntime.wait(bootstrap.withConnectedSocket(d.fd), deadline: deadline, cancel: cancel,
                                        op: "TLS upgrade with", address: peerText, onAbandon: { $0.close(promise: nil) })
        } catch {
            d.close()
            throw SocketError(.tls, "\(shown): \(StreamConnection.tlsReason(error))", address: peerText)
        }
        let conn = StreamConnection(channel: ch, box: newBox, proto: "tls", serverSide: false, transcript: transcript, cancel: cancel)
        transcript?.record("tls", .note, "starting TLS on \(localText) → \(peerText)")
        try conn.waitForHandshake(deadline: deadline, address: peerText)
        return conn
    }

    /// Connects to a Unix stream socket by path.
    public static func connectUnix(_ path: String, timeout: TimeInterval = 10, transcript: Transcript? = nil,
                                   cancel: CancelCheck? = nil) throws -> StreamConnection {
        let deadline = Date().addingTimeInterval(timeout)
        let address: SocketAddress
        do { address = try SocketAddress(unixDomainSocketPath: path) }
        catch { throw SocketError(.value, "connect \(path): not a usable socket path (\(error))", address: path) }
        let d = try DirectSocket.connect(to: address, deadline: deadline, cancel: cancel, shown: path)
        let conn = StreamConnection(channel: nil, direct: d, box: InboundBuffer(), proto: "unix", serverSide: false, transcript: transcript, cancel: cancel)
        transcript?.record("unix", .note, "connected to \(path)")
        return conn
    }

    /// Wraps a channel a listener accepted; its pipeline must end in the returned buffer's handler.
    static func accepted(channel: Channel, box: InboundBuffer, proto: String, transcript: Transcript?) -> StreamConnection {
        StreamConnection(channel: channel, box: box, proto: proto, serverSide: true, transcript: transcript, cancel: nil)
    }

    func waitForHandshake(deadline: Date, address: String) throws {
        box.cond.lock()
        defer { box.cond.unlock() }
        while !box.tlsReady {
            if let e = box.error {
                channel?.close(promise: nil)
                throw SocketError(.tls, "connect \(address): TLS handshake failed: \(StreamConnection.tlsReason(e))", address: address)
            }
            if box.eof {
                throw SocketError(.tls, "connect \(address): the peer closed the connection during the TLS handshake", address: address)
            }
            try checkWait(deadline: deadline, op: "TLS handshake with")
        }
        transcript?.record("tls", .note, "TLS handshake done with \(address)")
    }

    /// A TLS failure in words a learner can act on.
    static func tlsReason(_ e: Error) -> String {
        let s = "\(e)"
        if s.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the server's certificate is not trusted (unknown issuer, self-signed or expired); ca: FILE trusts a private CA, verify: false skips the check"
        }
        if s.contains("failedToValidateHostname") { return "the server's certificate is not for this name (\(s))" }
        if s.contains("WRONG_VERSION_NUMBER") || s.contains("PACKET_LENGTH_TOO_LONG") { return "the server did not answer in TLS" }
        if let io = e as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        return s
    }

    // MARK: waiting

    /// One slice of waiting, with the lock held: throws on cancellation or at the deadline.
    /// A direct socket reads here (into the buffer); a channel's event loop fills it meanwhile.
    private func checkWait(deadline: Date, op: String) throws {
        if cancel?() == true { throw SocketError(.interrupted, "\(op) \(peerText): interrupted", address: peerText) }
        let now = Date()
        if now >= deadline { throw SocketError(.timeout, "\(op) \(peerText): timed out", address: peerText) }
        if let d = direct {
            do {
                if case .eof = try d.read(into: box, deadline: deadline, shown: peerText) { box.eof = true }
            } catch { box.error = error }
            return
        }
        _ = box.cond.wait(until: min(deadline, now.addingTimeInterval(0.1)))
    }

    /// Resumes reading after the caller consumed enough. Called with the lock held.
    private func resumeIfNeeded() {
        guard let channel else { return }
        if box.paused && box.count < box.limit / 2 {
            box.paused = false
            let ch = channel
            ch.eventLoop.execute {
                ch.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                ch.read()
            }
        }
    }

    private func checkOpen(_ op: String) throws {
        if isClosed { throw SocketError(.closed, "\(op) \(peerText): the connection is closed (close was called)", address: peerText) }
    }

    private func failure(_ op: String) -> SocketError? {
        if let e = box.error { return SocketError.from(e, op: op, address: peerText) }
        return nil
    }

    private var sentDirection: TranscriptDirection { isServerSide ? .server : .client }
    private var receivedDirection: TranscriptDirection { isServerSide ? .client : .server }

    private func traceReceived(_ data: [UInt8]) {
        transcript?.recordBytes(proto, receivedDirection, "← ", data)
    }

    // MARK: sending

    /// Sends all the bytes. Returns once they are with the kernel (as Python's `sendall`), so
    /// a program that ends right after a send loses nothing; while more than the channel's
    /// high-water mark is pending, waits until the peer has taken enough.
    public func send(_ data: [UInt8], timeout: TimeInterval = 30) throws {
        if isClosed { throw SocketError(.closed, "send to \(peerText): the connection is closed", address: peerText) }
        if isWriteShut { throw SocketError(.closed, "send to \(peerText): the sending side was shut down", address: peerText) }
        box.cond.lock()
        if let e = failure("send to") { box.cond.unlock(); throw e }
        box.cond.unlock()
        if let d = direct {
            transcript?.recordBytes(proto, sentDirection, "→ ", data)
            try d.writeAll(data, deadline: Date().addingTimeInterval(timeout), cancel: cancel, shown: peerText)
            return
        }
        guard let channel else { return }
        if !channel.isActive { throw SocketError(.closed, "send to \(peerText): the peer closed the connection", address: peerText) }
        transcript?.recordBytes(proto, sentDirection, "→ ", data)
        let deadline = Date().addingTimeInterval(timeout)
        var offset = 0
        let chunk = 1 << 20
        var last: EventLoopFuture<Void>? = nil
        while offset < data.count || (offset == 0 && data.isEmpty) {
            let end = min(data.count, offset + chunk)
            let buf = channel.allocator.buffer(bytes: data[offset..<end])
            last = channel.writeAndFlush(buf)
            offset = end
            if data.isEmpty { break }
            if !channel.isWritable {
                box.cond.lock()
                defer { box.cond.unlock() }
                while !channel.isWritable {
                    if let e = failure("send to") { throw e }
                    if !channel.isActive { throw SocketError(.reset, "send to \(peerText): the connection was closed while sending", address: peerText) }
                    try checkWait(deadline: deadline, op: "send to")
                }
            }
        }
        // Writes complete in order: once the last is written, all of them are with the kernel.
        if let last {
            do {
                _ = try SocketRuntime.wait(last, deadline: deadline, cancel: cancel, op: "send to", address: peerText)
            } catch let e as SocketError where e.kind == .timeout || e.kind == .interrupted {
                throw e
            } catch {
                throw SocketError(.reset, "send to \(peerText): the connection was closed before the data could be written", address: peerText)
            }
        }
    }

    /// Waits until everything sent so far has been handed to the kernel.
    public func flush(timeout: TimeInterval = 30) throws {
        guard let channel, channel.isActive else { return }
        let f = channel.writeAndFlush(channel.allocator.buffer(capacity: 0))
        _ = try SocketRuntime.wait(f, deadline: Date().addingTimeInterval(timeout), cancel: cancel, op: "send to", address: peerText)
    }

    // MARK: receiving

    /// Up to `max` bytes: whatever has arrived, waiting for at least one byte. Nil at end of stream.
    public func recv(max: Int, timeout: TimeInterval = 30) throws -> [UInt8]? {
        try checkOpen("recv from")
        let deadline = Date().addingTimeInterval(timeout)
        box.cond.lock()
        defer { box.cond.unlock() }
        while true {
            if box.count > 0 {
                let data = box.take(Swift.min(max, box.count))
                resumeIfNeeded()
                traceReceived(data)
                return data
            }
            if let e = failure("recv from") { throw e }
            if box.eof { return nil }
            try checkWait(deadline: deadline, op: "recv from")
        }
    }

    /// Bytes up to and including `delimiter`; the rest at end of stream (nil if nothing is
    /// left). At most `max` bytes are buffered while looking: more is an error of kind `value`.
    public func recvUntil(_ delimiter: [UInt8], max: Int = 1 << 20, timeout: TimeInterval = 30, what: String = "recv.until",
                          shownMax: Int? = nil) throws -> [UInt8]? {
        let shown = shownMax ?? max
        precondition(!delimiter.isEmpty)
        try checkOpen("\(what) from")
        let deadline = Date().addingTimeInterval(timeout)
        box.cond.lock()
        defer { box.cond.unlock() }
        let savedLimit = box.limit
        box.limit = Swift.max(savedLimit, max + delimiter.count + 1)
        if box.paused { box.paused = false; resumeIfNeededForce() }
        defer { box.limit = savedLimit }
        var scanned = 0
        while true {
            let n = box.count
            if let end = find(delimiter, from: scanned) {
                if end > max {
                    throw SocketError(.value, "\(what) from \(peerText): no \(what == "recv.line" ? "newline" : "delimiter") within max: \(shown) bytes", address: peerText)
                }
                let data = box.take(end)
                resumeIfNeeded()
                traceReceived(data)
                return data
            }
            scanned = Swift.max(0, n - delimiter.count + 1)
            if n > max {
                throw SocketError(.value, "\(what) from \(peerText): no \(what == "recv.line" ? "newline" : "delimiter") within max: \(shown) bytes (the peer sent more without one)", address: peerText)
            }
            if let e = failure("recv from") { throw e }
            if box.eof {
                if n == 0 { return nil }
                let data = box.take(n)
                traceReceived(data)
                return data
            }
            try checkWait(deadline: deadline, op: "\(what) from")
        }
    }

    private func resumeIfNeededForce() {
        guard let ch = channel else { return }
        ch.eventLoop.execute {
            ch.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            ch.read()
        }
    }

    /// The end offset (exclusive) of the first delimiter at or after `from`. Lock held.
    private func find(_ delim: [UInt8], from: Int) -> Int? {
        let base = box.start
        let total = box.count
        if total < delim.count { return nil }
        let first = delim[0]
        return box.bytes.withUnsafeBufferPointer { p -> Int? in
            var i = from
            let last = total - delim.count
            while i <= last {
                guard let hit = memchr(p.baseAddress! + base + i, Int32(first), last - i + 1) else { return nil }
                let j = p.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self)) - base
                var ok = true
                for k in 1..<delim.count where p[base + j + k] != delim[k] { ok = false; break }
                if ok { return j + delim.count }
                i = j + 1
            }
            return nil
        }
    }

    /// Everything until the peer closes its side, at most `max` bytes (more is an error).
    public func recvAll(max: Int = 64 << 20, timeout: TimeInterval = 30) throws -> [UInt8] {
        try checkOpen("recv.all from")
        let deadline = Date().addingTimeInterval(timeout)
        box.cond.lock()
        defer { box.cond.unlock() }
        let savedLimit = box.limit
        box.limit = Swift.max(savedLimit, max + 1)
        if box.paused { box.paused = false; resumeIfNeededForce() }
        defer { box.limit = savedLimit }
        while true {
            if box.count > max {
                throw SocketError(.value, "recv.all from \(peerText): more than max: \(max) bytes", address: peerText)
            }
            if let e = failure("recv from") { throw e }
            if box.eof {
                let data = box.take(box.count)
                traceReceived(data)
                return data
            }
            try checkWait(deadline: deadline, op: "recv.all from")
        }
    }

    // MARK: closing

    /// Closes the sending side (the peer reads end of stream) and keeps receiving.
    public func shutdownWrite(timeout: TimeInterval = 10) throws {
        if isClosed { throw SocketError(.closed, "shutdown \(peerText): the connection is closed", address: peerText) }
        if isWriteShut { return }
        isWriteShut = true
        try? flush(timeout: timeout)
        transcript?.record(proto, .note, "shutdown (no more sends) \(localText) → \(peerText)")
        if let d = direct { d.shutdownWrite(); return }
        guard let channel else { return }
        let p = channel.eventLoop.makePromise(of: Void.self)
        channel.close(mode: .output, promise: p)
        do {
            try SocketRuntime.wait(p.futureResult, deadline: Date().addingTimeInterval(timeout), cancel: cancel, op: "shutdown", address: peerText)
        } catch let e as SocketError where e.kind == .closed {
            return
        }
    }

    /// Sends what is pending, then closes. Closing twice is harmless.
    public func close(timeout: TimeInterval = 5) {
        if isClosed { return }
        isClosed = true
        try? flush(timeout: timeout)
        transcript?.record(proto, .note, "closed \(localText) → \(peerText)")
        if let d = direct { d.close(); return }
        guard let channel else { return }
        let f = channel.close()
        // TLS waits for the peer's close_notify, which many peers never send: do not block on it.
        if proto != "tls" {
            _ = try? SocketRuntime.wait(f, deadline: Date().addingTimeInterval(timeout), cancel: nil, op: "close", address: peerText)
        }
    }

    /// Whether the peer is gone (closed or reset) or we closed.
    public var peerGone: Bool { isClosed || (channel.map { !$0.isActive } ?? box.eof) }

    /// Closes without flushing or tracing: for a connection the program dropped.
    public func abandon() {
        if isClosed { return }
        isClosed = true
        if let d = direct { d.close() } else { channel?.close(promise: nil) }
    }
}
