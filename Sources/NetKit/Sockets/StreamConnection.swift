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
    /// After the handshake: the protocol ALPN chose and the peer's certificate (DER), if any.
    var alpn: String? = nil
    var peerCertificate: [UInt8]? = nil
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
        if case TLSUserEvent.handshakeCompleted(let proto) = event as? TLSUserEvent ?? .shutdownCompleted {
            box.tlsReady = true
            box.alpn = proto
            if let ssl = try? context.pipeline.syncOperations.handler(type: NIOSSLHandler.self) {
                box.peerCertificate = try? ssl.peerCertificate?.toDERBytes()
            }
        }
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

/// A connected byte stream (TCP, TLS over TCP, or a Unix stream socket) used with blocking
/// calls over one `ByteStream`: a `DirectSocket` for plain clients, a `ChannelByteStream` for
/// TLS and accepted connections, or any other stream (`init(over:)`, e.g. a `ScriptedStream`
/// in tests). Each call waits in slices of at most 100 ms, so a deadline or a cancellation
/// check (Ctrl-C) ends it promptly. Every step is reported to the transcript.
public final class StreamConnection: @unchecked Sendable {
    /// The byte stream under this connection.
    public let stream: any ByteStream
    /// What has been received from `stream` and not yet taken.
    let inbox = InboundBuffer()
    /// Where each read lands before it is appended to `inbox`.
    private var scratch: UnsafeMutableRawPointer? = nil
    private static let scratchSize = 65536
    /// The NIO channel (TLS, accepted connections), or nil for a direct client socket.
    public var channel: Channel? { (stream as? ChannelByteStream)?.channel }
    /// The direct socket (a plain TCP or Unix client), or nil.
    var direct: DirectSocket? { stream as? DirectSocket }
    /// The buffer the channel's event loop fills (for a channel), else the connection's own.
    var box: InboundBuffer { (stream as? ChannelByteStream)?.box ?? inbox }
    /// "tcp", "tls" or "unix": the transcript's protocol name.
    public let proto: String
    /// True for a connection a listener accepted: then our sends are the server's lines (S:).
    public let isServerSide: Bool
    /// Where this connection's sends, receives and notes are recorded; nil records nothing.
    public let transcript: Transcript?
    /// This end's address as text (`127.0.0.1:50312`, or a socket path), `(unnamed)` when the
    /// stream has none.
    public let localText: String
    /// The other end's address as text (`127.0.0.1:25`), `(unnamed)` when the stream has none.
    public let peerText: String
    /// True once `close()` or `abandon()` was called (or the connection was handed to TLS by an
    /// upgrade); sends then fail with `SocketError` (`.closed`).
    public private(set) var isClosed = false
    /// True once `shutdownWrite` was called: the peer has been sent end of stream; receiving
    /// still works.
    public private(set) var isWriteShut = false
    /// Polled while a send or receive waits (at least every 100 ms); returning true stops the wait
    /// with an interrupted `SocketError`. nil never interrupts.
    public var cancel: CancelCheck?
    /// The connection's number in a `--record` recording, if one is being made.
    var wireID: Int?
    /// The handshake in one line (version, certificate subject, issuer, validity, the name
    /// checked), once a TLS handshake is done.
    public private(set) var tlsSummary: String?
    /// True when `--replay` answers this connection from a recording (a socket pair, no TLS).
    public private(set) var isReplayed = false
    /// Whether this connection's bytes must pass through `recv`/`send` (recorded or replayed),
    /// so the zero-copy paths that use the socket directly must not be taken.
    public var isWireObserved: Bool { wireID != nil || isReplayed }
    /// What chain verification saw (TLS clients with verification on): the peer's chain.
    var tlsObserver: TLSVerifyObserver?

    /// A connection over `stream`. `proto` names it in the transcript ("tcp", "tls", "unix");
    /// `names` replaces the stream's own (a replayed connection shows the recorded ones).
    public init(over stream: any ByteStream, proto: String = "tcp", serverSide: Bool = false, transcript: Transcript? = nil,
                cancel: CancelCheck? = nil, names given: (local: String, peer: String)? = nil) {
        self.stream = stream; self.proto = proto; self.isServerSide = serverSide
        self.transcript = transcript; self.cancel = cancel
        let local = given?.local ?? stream.localName, peer = given?.peer ?? stream.peerName
        self.localText = local.isEmpty ? "(unnamed)" : local
        self.peerText = peer.isEmpty ? "(unnamed)" : peer
    }

    /// A connection over a direct socket, or over `channel` whose pipeline ends in `box`'s handler.
    convenience init(channel: Channel?, direct: DirectSocket? = nil, box: InboundBuffer, proto: String, serverSide: Bool,
                     transcript: Transcript?, cancel: CancelCheck?, names: (local: String, peer: String)? = nil) {
        let s: any ByteStream = direct ?? ChannelByteStream(channel: channel!, box: box, tls: proto == "tls")
        self.init(over: s, proto: proto, serverSide: serverSide, transcript: transcript, cancel: cancel, names: names)
    }

    deinit { scratch?.deallocate() }

    /// The application protocol ALPN chose in the TLS handshake ("h2", "http/1.1"), if any.
    public var negotiatedProtocol: String? { box.cond.lock(); defer { box.cond.unlock() }; return box.alpn }

    /// The certificate the peer presented in the TLS handshake, as the handshake saw it
    /// (on an accepted connection: the client's, with mutual TLS). `peerCertificates()` gives
    /// a client the server's verified chain.
    public var peerCertificate: TLSCertificateInfo? {
        box.cond.lock(); let der = box.peerCertificate; box.cond.unlock()
        return der.flatMap { try? TLSCertificateInfo(der: $0) }
    }

    /// Whether the peer has closed its side and everything it sent has been read.
    public var atEOF: Bool {
        inbox.cond.lock(); defer { inbox.cond.unlock() }
        return inbox.count == 0 && (inbox.eof || stream.endReached)
    }

    // MARK: connecting

    /// Connects to `HOST:PORT` (names resolved, each address tried in turn within the timeout),
    /// optionally wrapping the stream in TLS.
    public static func connect(_ address: String, timeout: TimeInterval = 10, tls: TLSOptions? = nil,
                               transcript: Transcript? = nil, cancel: CancelCheck? = nil) throws -> StreamConnection {
        let ep = try Endpoint(parsing: address)
        if let replay = WireReplay.shared {
            // No network: the recording answers (plain bytes; TLS was recorded above TLS).
            let d = try replay.open(address: ep.description, tls: tls != nil)
            let conn = StreamConnection(channel: nil, direct: d, box: InboundBuffer(), proto: tls == nil ? "tcp" : "tls", serverSide: false,
                                        transcript: transcript, cancel: cancel, names: ("(replay)", ep.description))
            conn.isReplayed = true
            transcript?.record(conn.proto, .note, "connected \(conn.localText) → \(conn.peerText) (replayed from the recording)")
            return conn
        }
        let deadline = Date().addingTimeInterval(timeout)
        let targets = try HostLookup.resolve(ep, deadline: deadline, cancel: cancel)
        let setup = try tls.map { try tlsSetup($0, host: ep.host, shownPeer: ep.description, failing: "connect \(ep): TLS", address: ep.description) }
        let sslContext = try setup.map { try tlsContext($0, failing: "connect \(ep): TLS", address: ep.description) }
        var lastError: Error = SocketError(.resolve, "connect \(ep): no addresses", address: ep.description)
        for target in targets {
            let addrText = ep.isLiteral ? ep.description : "\(ep) (\(target.text))"
            if tls == nil {
                do {
                    let d = try DirectSocket.connect(to: target, deadline: deadline, cancel: cancel, shown: addrText)
                    let conn = StreamConnection(over: d, proto: "tcp", transcript: transcript, cancel: cancel)
                    transcript?.record("tcp", .note, "connected \(conn.localText) → \(conn.peerText)")
                    conn.wireID = WireRecorder.shared?.open(address: ep.description, tls: false)
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
            let tlsHandlers = try setup.flatMap { s in try sslContext.map { try s.makeHandlers(context: $0) } }
            let remaining = max(0.001, deadline.timeIntervalSinceNow)
            let bootstrap = ClientBootstrap(group: SocketRuntime.group)
                .connectTimeout(.milliseconds(Int64(remaining * 1000)))
                .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { ch in
                    do {
                        if let made = tlsHandlers { try ch.pipeline.syncOperations.addHandlers(made.handlers) }
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
                conn.wireID = WireRecorder.shared?.open(address: ep.description, tls: tls != nil)
                if tls != nil {
                    conn.tlsObserver = tlsHandlers?.observer
                    try conn.waitForHandshake(deadline: deadline, address: addrText, failing: "connect \(addrText): TLS handshake failed",
                                              setup: setup, observer: tlsHandlers?.observer)
                }
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

    /// The client TLS set-up (TLSClientSetup.swift, the one builder), its failures as this
    /// connection's errors.
    static func tlsSetup(_ tls: TLSOptions, host: String, shownPeer: String, failing: String, address: String) throws -> TLSClientSetup {
        do { return try TLSClientSetup(tls, host: host, shownPeer: shownPeer) }
        catch { throw SocketError(.tls, "\(failing): \(TLSClientSetup.reason(error, setup: nil, observer: nil))", address: address) }
    }

    static func tlsContext(_ setup: TLSClientSetup, failing: String, address: String) throws -> NIOSSLContext {
        do { return try TLSContextCache.context(for: setup) }
        catch { throw SocketError(.tls, "\(failing): \(TLSClientSetup.reason(error, setup: setup, observer: nil))", address: address) }
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
    /// `command` names the upgrade in messages ("STARTTLS", "AUTH TLS"); `shownPeer` is the
    /// address as the user gave it (default: the connected address).
    public func startTLS(_ tls: TLSOptions, host: String, timeout: TimeInterval = 10, command: String = "TLS upgrade",
                         shownPeer: String? = nil) throws -> StreamConnection {
        let shownAddress = shownPeer ?? peerText
        let shown = "\(command) with \(shownAddress) failed"
        if isReplayed, let d = direct, !isClosed {
            // The recording holds the bytes above TLS: the same socket pair goes on as "tls".
            isClosed = true
            let conn = StreamConnection(channel: nil, direct: d, box: box, proto: "tls", serverSide: false, transcript: transcript,
                                        cancel: cancel, names: (localText, peerText))
            conn.isReplayed = true
            transcript?.record("tls", .note, "TLS handshake done with \(shownAddress) (replayed: no real handshake)")
            return conn
        }
        guard let d = direct, !isClosed else {
            throw SocketError(.tls, "\(shown): only a plain TCP client connection can be upgraded", address: shownAddress)
        }
        inbox.cond.lock()
        var pending = inbox.count
        inbox.cond.unlock()
        // Bytes the kernel holds but we have not read yet count too.
        var probe = [UInt8](repeating: 0, count: 4096)
        let waiting = Glibc.recv(d.fd, &probe, probe.count, Int32(MSG_PEEK | MSG_DONTWAIT))
        if waiting > 0 { pending += waiting }
        if pending > 0 {
            abandon()
            throw SocketError(.tls, "\(shown): the server sent \(pending) bytes in the clear before the TLS handshake (a STARTTLS injection?); connection closed", address: shownAddress)
        }
        let deadline = Date().addingTimeInterval(timeout)
        let setup = try StreamConnection.tlsSetup(tls, host: host, shownPeer: shownAddress, failing: shown, address: shownAddress)
        let ctx = try StreamConnection.tlsContext(setup, failing: shown, address: shownAddress)
        let made: (handlers: [ChannelHandler], observer: TLSVerifyObserver?)
        do { made = try setup.makeHandlers(context: ctx) }
        catch { throw SocketError(.tls, "\(shown): \(TLSClientSetup.reason(error, setup: setup, observer: nil))", address: shownAddress) }
        let newBox = InboundBuffer()
        // From here the socket belongs to NIO: this connection must neither read nor close it.
        isClosed = true
        let flags = fcntl(d.fd, F_GETFL)
        _ = fcntl(d.fd, F_SETFL, flags | O_NONBLOCK)
        let bootstrap = ClientBootstrap(group: SocketRuntime.group)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelInitializer { ch in
                do {
                    try ch.pipeline.syncOperations.addHandlers(made.handlers)
                    try ch.pipeline.syncOperations.addHandler(InboundHandler(newBox))
                    return ch.eventLoop.makeSucceededVoidFuture()
                } catch { return ch.eventLoop.makeFailedFuture(error) }
            }
        let ch: Channel
        do {
            ch = try SocketRuntime.wait(bootstrap.withConnectedSocket(d.fd), deadline: deadline, cancel: cancel,
                                        op: "TLS upgrade with", address: peerText, onAbandon: { $0.close(promise: nil) })
        } catch {
            d.abandon()
            throw SocketError(.tls, "\(shown): \(TLSClientSetup.reason(error, setup: setup, observer: made.observer))", address: shownAddress)
        }
        let conn = StreamConnection(channel: ch, box: newBox, proto: "tls", serverSide: false, transcript: transcript, cancel: cancel)
        if let id = wireID { conn.wireID = id; WireRecorder.shared?.event(id, "tls") }
        transcript?.record("tls", .note, "starting TLS on \(localText) → \(peerText)")
        conn.tlsObserver = made.observer
        try conn.waitForHandshake(deadline: deadline, address: shownAddress, failing: shown, setup: setup, observer: made.observer)
        return conn
    }

    /// Upgrades a connection a listener accepted to TLS as the server, for a STARTTLS step
    /// (SMTP `STARTTLS`, FTP `AUTH TLS`) written in a script: call it right after sending the
    /// "go ahead" reply. Bytes the client already sent are handed to TLS as the start of its
    /// handshake, never read as plain text: plain commands pipelined after STARTTLS fail the
    /// handshake instead of being taken as if they came over TLS (CVE-2011-0411). This
    /// connection is closed for further use; the returned one speaks TLS on the same socket.
    public func startTLSServer(_ setup: TLSServerSetup, timeout: TimeInterval = 10) throws -> StreamConnection {
        let shown = "TLS upgrade (server) with \(peerText) failed"
        guard let channel, isServerSide, !isClosed, proto != "tls" else {
            let why = isClosed ? "the connection is closed" : proto == "tls" ? "the connection already speaks TLS"
                : "only a connection a listener accepted can be upgraded as the server (a client uses its own starttls)"
            throw SocketError(.tls, "\(shown): \(why)", address: peerText)
        }
        let box = self.box
        let deadline = Date().addingTimeInterval(timeout)
        // What the client sent in the clear after STARTTLS: read into this connection already,
        // or still in the channel's buffer. All of it goes to TLS.
        inbox.cond.lock()
        let early = inbox.count > 0 ? inbox.take(inbox.count) : []
        inbox.cond.unlock()
        let added = channel.eventLoop.submit {
            box.cond.lock()
            let pending = early + (box.count > 0 ? box.take(box.count) : [])
            box.cond.unlock()
            try channel.pipeline.syncOperations.addHandler(setup.makeHandler(), position: .first)
            if !pending.isEmpty {
                channel.pipeline.syncOperations.fireChannelRead(NIOAny(channel.allocator.buffer(bytes: pending)))
            }
            channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
        do { try SocketRuntime.wait(added, deadline: deadline, cancel: cancel, op: "TLS upgrade with", address: peerText) }
        catch { throw SocketError(.tls, "\(shown): \(TLSServerSetup.reason(error))", address: peerText) }
        isClosed = true
        let conn = StreamConnection(channel: channel, box: box, proto: "tls", serverSide: true, transcript: transcript, cancel: cancel)
        transcript?.record("tls", .note, "starting TLS (as the server) on \(localText) ← \(peerText)")
        // The channel's buffer is not locked while waiting: a wait reads through the stream,
        // which takes that lock itself.
        while true {
            box.cond.lock()
            let (ready, error, eof) = (box.tlsReady, box.error, box.eof)
            box.cond.unlock()
            if ready { break }
            if let e = error {
                channel.close(promise: nil)
                throw SocketError(.tls, "\(shown): \(TLSServerSetup.reason(e))", address: peerText)
            }
            if eof {
                channel.close(promise: nil)
                throw SocketError(.tls, "\(shown): the client closed the connection during the TLS handshake", address: peerText)
            }
            conn.inbox.cond.lock()
            defer { conn.inbox.cond.unlock() }
            do { try conn.checkWait(deadline: deadline, op: "TLS handshake with") }
            catch let e as SocketError where e.kind == .timeout {
                channel.close(promise: nil)
                throw SocketError(.tls, "\(shown): no TLS handshake within \(Transcript.seconds(timeout)) (the client stalled)", address: peerText)
            }
        }
        transcript?.record("tls", .note, "TLS handshake done with \(peerText)\(box.alpn.map { ", ALPN \($0)" } ?? "")")
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
        let conn = StreamConnection(over: d, proto: "unix", transcript: transcript, cancel: cancel)
        transcript?.record("unix", .note, "connected to \(path)")
        return conn
    }

    /// Wraps a channel a listener accepted; its pipeline must end in the returned buffer's handler.
    static func accepted(channel: Channel, box: InboundBuffer, proto: String, transcript: Transcript?) -> StreamConnection {
        StreamConnection(channel: channel, box: box, proto: proto, serverSide: true, transcript: transcript, cancel: nil)
    }

    /// Waits for the TLS handshake (and the identity check after it); a failure reads
    /// "`failing`: reason in plain words".
    func waitForTLSReady(deadline: Date, address: String, failing: String, setup: TLSClientSetup?,
                          observer: TLSVerifyObserver?) throws {
        guard let tls = stream as? ChannelByteStream else {
            throw SocketError(.tls, "\(failing): not a TLS connection", address: address)
        }
        try tls.waitForHandshake(deadline: deadline, cancel: cancel, address: address, failing: failing, setup: setup, observer: observer)
        transcript?.record("tls", .note, "TLS handshake done with \(address)\(box.alpn.map { ", ALPN \($0)" } ?? "")")
    }

    /// Waits for the handshake, then notes its summary (asked of the event loop, so not
    /// with the buffer's lock held: the loop takes it to deliver bytes).
    func waitForHandshake(deadline: Date, address: String, failing: String, setup: TLSClientSetup?,
                          observer: TLSVerifyObserver?) throws {
        try waitForTLSReady(deadline: deadline, address: address, failing: failing, setup: setup, observer: observer)
        if let channel, let s = TLSSummary.describe(channel, setup: setup) {
            tlsSummary = s
            transcript?.record("tls", .note, s)
        }
    }

    /// A TLS failure in words a learner can act on.
    static func tlsReason(_ e: Error) -> String { TLSClientSetup.reason(e, setup: nil, observer: nil) }

    // MARK: waiting

    /// One slice of waiting, with the lock held: throws on cancellation or at the deadline,
    /// else reads what the stream has (waiting at most one slice) into the buffer. A read
    /// failure is kept in the buffer and reported by the caller's next check.
    fileprivate func checkWait(deadline: Date, op: String) throws {
        if cancel?() == true { throw SocketError(.interrupted, "\(op) \(peerText): interrupted", address: peerText) }
        if Date() >= deadline { throw SocketError(.timeout, "\(op) \(peerText): timed out", address: peerText) }
        let p = scratch ?? {
            let p = UnsafeMutableRawPointer.allocate(byteCount: StreamConnection.scratchSize, alignment: 16)
            scratch = p
            return p
        }()
        do {
            switch try stream.readSome(into: UnsafeMutableRawBufferPointer(start: p, count: StreamConnection.scratchSize), deadline: deadline) {
            case .data(let n): inbox.bytes.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
            case .end: inbox.eof = true
            case .nothing: break
            }
        } catch { inbox.error = error }
    }

    private func checkOpen(_ op: String) throws {
        if isClosed { throw SocketError(.closed, "\(op) \(peerText): the connection is closed (close was called)", address: peerText) }
    }

    private func failure(_ op: String) -> SocketError? {
        if let e = inbox.error { return SocketError.from(e, op: op, address: peerText) }
        return nil
    }

    /// The server end of the connection (the peer, or for an accepted connection this end):
    /// the lane a diagram draws its steps to, whichever end recorded them.
    private var serverText: String { isServerSide ? localText : peerText }

    private var sentDirection: TranscriptDirection { isServerSide ? .server : .client }
    private var receivedDirection: TranscriptDirection { isServerSide ? .client : .server }

    private func traceReceived(_ data: [UInt8]) {
        transcript?.recordBytes(proto, receivedDirection, "← ", data, peer: serverText)
        if let id = wireID { WireRecorder.shared?.event(id, "recv", data) }
    }

    // MARK: sending

    /// Checked after a send is recorded and before its first byte goes: step mode's `q`
    /// abandons a step this way (its gate runs when the step is recorded).
    func checkCancelBeforeSending() throws {
        if cancel?() == true { throw SocketError(.interrupted, "send to \(peerText): interrupted", address: peerText) }
    }

    /// Sends all the bytes. Returns once they are with the kernel (as Python's `sendall`), so
    /// a program that ends right after a send loses nothing; while more than the channel's
    /// high-water mark is pending, waits until the peer has taken enough.
    public func send(_ data: [UInt8], timeout: TimeInterval = 30) throws {
        if isClosed { throw SocketError(.closed, "send to \(peerText): the connection is closed", address: peerText) }
        if isWriteShut { throw SocketError(.closed, "send to \(peerText): the sending side was shut down", address: peerText) }
        inbox.cond.lock()
        if let e = failure("send to") { inbox.cond.unlock(); throw e }
        inbox.cond.unlock()
        transcript?.recordBytes(proto, sentDirection, "→ ", data, peer: serverText)
        try checkCancelBeforeSending()
        if let id = wireID { WireRecorder.shared?.event(id, "send", data) }
        try data.withUnsafeBytes { try stream.writeAll($0, deadline: Date().addingTimeInterval(timeout), cancel: cancel) }
    }

    /// Waits until everything sent so far has been handed to the kernel.
    public func flush(timeout: TimeInterval = 30) throws {
        try stream.flush(deadline: Date().addingTimeInterval(timeout), cancel: cancel)
    }

    // MARK: receiving

    /// Up to `max` bytes: whatever has arrived, waiting for at least one byte. Nil at end of stream.
    public func recv(max: Int, timeout: TimeInterval = 30) throws -> [UInt8]? {
        try checkOpen("recv from")
        let deadline = Date().addingTimeInterval(timeout)
        inbox.cond.lock()
        defer { inbox.cond.unlock() }
        while true {
            if inbox.count > 0 {
                let data = inbox.take(Swift.min(max, inbox.count))
                traceReceived(data)
                return data
            }
            if let e = failure("recv from") { throw e }
            if inbox.eof { return nil }
            // A small read with nothing buffered (a request/response loop): straight into the
            // array returned, without the copy into the buffer and out again.
            if max <= StreamConnection.directReadMax { return try recvDirect(max: max, deadline: deadline) }
            try checkWait(deadline: deadline, op: "recv from")
        }
    }

    /// Reads of at most this many bytes go straight into the array returned when nothing is buffered.
    static let directReadMax = 4096

    /// `recv` with nothing buffered: one read into an array of `max` bytes, as `checkWait`
    /// waits (cancel, deadline, the stream's slices). Called with the inbox lock held.
    private func recvDirect(max: Int, deadline: Date) throws -> [UInt8]? {
        while true {
            if cancel?() == true { throw SocketError(.interrupted, "recv from \(peerText): interrupted", address: peerText) }
            if Date() >= deadline { throw SocketError(.timeout, "recv from \(peerText): timed out", address: peerText) }
            var got = ByteStreamRead.nothing
            var failed: Error? = nil
            var data = [UInt8](repeating: 0, count: max)
            data.withUnsafeMutableBytes { buf in
                do { got = try stream.readSome(into: buf, deadline: deadline) } catch { failed = error }
            }
            if case .data(let n) = got, n < max { data.removeLast(max - n) }
            if let failed {
                inbox.error = failed
                throw failure("recv from") ?? SocketError.from(failed, op: "recv from", address: peerText)
            }
            switch got {
            case .data:
                traceReceived(data)
                return data
            case .end:
                inbox.eof = true
                return nil
            case .nothing:
                continue
            }
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
        inbox.cond.lock()
        defer { inbox.cond.unlock() }
        var scanned = 0
        while true {
            let n = inbox.count
            if let end = find(delimiter, from: scanned) {
                if end > max {
                    throw SocketError(.value, "\(what) from \(peerText): no \(what == "recv.line" ? "newline" : "delimiter") within max: \(shown) bytes", address: peerText)
                }
                let data = inbox.take(end)
                traceReceived(data)
                return data
            }
            scanned = Swift.max(0, n - delimiter.count + 1)
            if n > max {
                throw SocketError(.value, "\(what) from \(peerText): no \(what == "recv.line" ? "newline" : "delimiter") within max: \(shown) bytes (the peer sent more without one)", address: peerText)
            }
            if let e = failure("recv from") { throw e }
            if inbox.eof {
                if n == 0 { return nil }
                let data = inbox.take(n)
                traceReceived(data)
                return data
            }
            try checkWait(deadline: deadline, op: "\(what) from")
        }
    }

    /// The end offset (exclusive) of the first delimiter at or after `from`. Lock held.
    private func find(_ delim: [UInt8], from: Int) -> Int? {
        let base = inbox.start
        let total = inbox.count
        if total < delim.count { return nil }
        let first = delim[0]
        return inbox.bytes.withUnsafeBufferPointer { p -> Int? in
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
        inbox.cond.lock()
        defer { inbox.cond.unlock() }
        while true {
            if inbox.count > max {
                throw SocketError(.value, "recv.all from \(peerText): more than max: \(max) bytes", address: peerText)
            }
            if let e = failure("recv from") { throw e }
            if inbox.eof {
                let data = inbox.take(inbox.count)
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
        try stream.shutdownWrite(deadline: Date().addingTimeInterval(timeout), cancel: cancel)
    }

    /// Sends what is pending, then closes. Closing twice is harmless.
    public func close(timeout: TimeInterval = 5) {
        if isClosed { return }
        isClosed = true
        if let id = wireID { WireRecorder.shared?.event(id, "close") }
        try? flush(timeout: timeout)
        transcript?.record(proto, .note, "closed \(localText) → \(peerText)")
        stream.close(deadline: Date().addingTimeInterval(timeout))
    }

    /// Whether the peer is gone (closed or reset) or we closed.
    public var peerGone: Bool { isClosed || stream.isPeerGone }

    /// Closes without flushing or tracing: for a connection the program dropped.
    public func abandon() {
        if isClosed { return }
        isClosed = true
        stream.abandon()
    }
}
