import Foundation
import NIOCore
import NIOPosix
import NIOHTTP1
import NIOSSL
import NIOTLS
import NIOHTTP2
import Synchronization

/// What an HTTP server serves and the bounds it keeps.
public struct HTTPServerConfig: Sendable {
    /// The directory of static files (GET and HEAD), or nil for routes only.
    public var root: String?
    /// Routes answered by the owner of the server (`HTTPServer.next`), tried before the files.
    public var routes: [HTTPRoute] = []
    /// The largest request body accepted (413 beyond it).
    public var maxBody = 16 << 20
    /// Route request bodies buffered at once, over all connections (503 beyond it).
    public var maxBufferedBodies = 256 << 20
    /// The largest request head (431 beyond it).
    public var maxHeaderBytes = 64 * 1024
    /// Seconds a connection may sit with nothing read or written before it is closed.
    public var idleTimeout: Double = 60
    /// Open connections at most; one more is answered 503 and closed.
    public var maxConnections = 10_000
    /// Writes the access log (Python's format) into the event queue.
    public var accessLog = true
    /// The kernel's queue of connections not yet accepted (the `listen(2)` backlog).
    public var backlog = 1024
    /// PEM files of the certificate chain and private key: serve HTTPS.
    public var tlsCertificate: String?
    /// PEM file of the private key for `tlsCertificate`; both are needed for HTTPS.
    public var tlsKey: String?
    /// A PEM file of CAs: with TLS, every client must present a certificate one of them signed
    /// (mutual TLS); a client without one fails the handshake and never reaches a handler.
    public var tlsClientCA: String?
    /// Seconds a client may take over the TLS handshake; one that stalls is dropped (and logged).
    public var tlsHandshakeTimeout: TimeInterval = 10
    /// The TLS set-up (TLSServerSetup, the one server builder); made from the files above
    /// when not given.
    public var tls: TLSServerSetup?
    /// gzip/deflate for compressible responses the client accepts compressed (HTTPServerCompression).
    public var compress = true
    /// Over TLS, HTTP/2 when the client offers it by ALPN (swift-nio-http2, each stream turned
    /// into HTTP/1 parts for the same connection handler).
    public var http2 = true
    /// The defaults above, serving the files under `root` (nil: routes only, other paths 404).
    public init(root: String? = nil) { self.root = root }
}

/// A route: a method (`*` for any; `GET` also answers HEAD) and a path pattern whose
/// `:name` segments capture parameters and whose final `*` captures the rest.
public struct HTTPRoute: Sendable {
    /// The method it answers, upper-cased (`GET`, `POST`, or `*` for any).
    public let method: String
    /// The path pattern as given (`/users/:id`, `/files/*`).
    public let pattern: String
    let parts: [Substring]

    /// A route for `method` (any case; upper-cased) and `pattern`: `/`-separated segments, each
    /// literal, `:name` (captures that segment), or a final `*`/`*name` (captures the rest, `rest`
    /// when unnamed). Empty segments are ignored.
    public init(method: String, pattern: String) {
        self.method = method.uppercased()
        self.pattern = pattern
        self.parts = pattern.split(separator: "/", omittingEmptySubsequences: true)
    }

    /// The captured parameters when `segments` (decoded) match the pattern, else nil.
    func match(_ segments: [String]) -> [(String, String)]? {
        var params: [(String, String)] = []
        for (i, p) in parts.enumerated() {
            if p == "*" || (p.hasPrefix("*") && i == parts.count - 1) {
                params.append((p == "*" ? "rest" : String(p.dropFirst()), segments[min(i, segments.count)...].joined(separator: "/")))
                return params
            }
            guard i < segments.count else { return nil }
            if p.hasPrefix(":") { params.append((String(p.dropFirst()), segments[i])) }
            else if p != segments[i] { return nil }
        }
        return segments.count == parts.count ? params : nil
    }

    func allows(_ method: String) -> Bool { self.method == "*" || self.method == method || (self.method == "GET" && method == "HEAD") }
}

/// A response the route's owner gives back: status, headers and the whole body.
public struct HTTPServerResponse: Sendable {
    /// The status code sent (200 unless given).
    public var status: Int
    /// Header fields sent, in order. Content-Length and Transfer-Encoding are set by the server
    /// (given ones are dropped); Content-Type defaults to `text/plain; charset=utf-8` for a
    /// non-empty body; `Connection: close` closes the connection after the response.
    public var headers: [(String, String)]
    /// The whole body (not sent for HEAD, 1xx, 204 or 304).
    public var body: [UInt8]
    /// A response; by default an empty 200.
    public init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status; self.headers = headers; self.body = body
    }
}

/// A request that matched a route, with its whole body, waiting for `respond`.
public final class HTTPRoutedRequest: @unchecked Sendable {
    /// The position in `HTTPServerConfig.routes` of the route that matched (0-based).
    public let routeIndex: Int
    /// The request method as sent (`GET`, `POST`, …).
    public let method: String
    /// The request target as sent (`/users/7?x=1`).
    public let target: String
    /// The decoded path and the raw query (without `?`).
    public let path: String
    /// The raw query string after `?` (not decoded); empty when there is none.
    public let query: String
    /// The request's protocol version (`HTTP/1.1`, `HTTP/1.0`; an HTTP/2 stream shows as HTTP/2.0).
    public let version: String
    /// The request's header fields in the order and spelling received.
    public let headers: [(String, String)]
    /// The whole request body (at most `maxBody` bytes; a larger body was answered 413 and never
    /// routed); empty when there was none.
    public let body: [UInt8]
    /// The client's IP address as text, `-` when unknown.
    public let clientHost: String
    /// The client's port, 0 when unknown.
    public let clientPort: Int
    /// The pattern's captures by name, in pattern order: `:id` → (`id`, segment), the final `*` →
    /// (`rest`, the remaining path).
    public let params: [(String, String)]
    /// Over TLS, the certificate the client presented in the handshake (with `tlsClientCA`, one
    /// those CAs signed); nil over plain HTTP or when the client sent none.
    public let clientCertificate: TLSCertificateInfo?
    let reply: @Sendable (HTTPServerResponse, String?) -> Void
    private let answered = Atomic<Bool>(false)

    init(routeIndex: Int, method: String, target: String, path: String, query: String, version: String,
         headers: [(String, String)], body: [UInt8], clientHost: String, clientPort: Int, params: [(String, String)],
         clientCertificate: TLSCertificateInfo? = nil, reply: @escaping @Sendable (HTTPServerResponse, String?) -> Void) {
        self.routeIndex = routeIndex; self.method = method; self.target = target; self.path = path; self.query = query
        self.version = version; self.headers = headers; self.body = body; self.clientHost = clientHost
        self.clientPort = clientPort; self.params = params; self.clientCertificate = clientCertificate; self.reply = reply
    }

    /// Sends the response (once; later calls are ignored). `logNote` adds a line to the log before the access line.
    public func respond(_ r: HTTPServerResponse, logNote: String? = nil) {
        guard !answered.exchange(true, ordering: .relaxed) else { return }
        reply(r, logNote)
    }
}

/// What the server tells its owner, in order: access-log lines and trace steps.
public enum HTTPServerEvent: Sendable {
    case log(String)
    case trace(TranscriptDirection, String)
}

/// An HTTP/1.1 server on the shared event loops: static files straight from NIO (streamed with
/// sendfile), routed requests handed to the owner's thread through `next(timeout:)`.
public final class HTTPServer: @unchecked Sendable {
    /// The NIO server channel bound to the listening socket.
    public let channel: Channel
    /// The configuration the server was started with.
    public let config: HTTPServerConfig
    /// The root's real path (symlinks resolved), against which every file is checked.
    let rootReal: String?
    /// The bound local address as text (`127.0.0.1:8080`, with the real port when 0 was asked
    /// for), `?` when unknown.
    public let localText: String

    let connections = Atomic<Int>(0)
    let totalConnections = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
    let routedCount = Atomic<Int>(0)
    /// Bytes of route request bodies held now (being received, or waiting for their answer).
    let bufferedBodies = Atomic<Int>(0)
    /// Answers from the owner not yet written out; `stop` waits a little for them.
    let outstanding = Atomic<Int>(0)
    /// Whether request and response heads go into the event queue (the owner sets it from `trace on`).
    public let tracing = Atomic<Bool>(false)

    private let cond = NSCondition()
    private var inbox: [HTTPRoutedRequest] = []
    private var events: [HTTPServerEvent] = []
    private var droppedEvents = 0
    private var stopped = false
    private let childLock = NSLock()
    private var children: [ObjectIdentifier: Channel] = [:]

    /// The bound port (the real one when port 0 was asked for); nil when the channel has none.
    public var port: Int? { channel.localAddress?.port }
    /// Requests answered so far (files, errors and routed answers), over all connections.
    public var requestsCompleted: Int { completed.load(ordering: .relaxed) }
    /// Connections accepted since the server started (including ones already closed).
    public var connectionsAccepted: Int { totalConnections.load(ordering: .relaxed) }
    /// Requests that matched a route and were handed to the owner through `next(timeout:)`.
    public var requestsRouted: Int { routedCount.load(ordering: .relaxed) }

    init(channel: Channel, config: HTTPServerConfig, rootReal: String?) {
        self.channel = channel; self.config = config; self.rootReal = rootReal
        self.localText = channel.localAddress?.text ?? "?"
    }

    /// Binds and starts serving. `address` is "HOST:PORT" (port 0 picks one).
    public static func start(_ address: String, config: HTTPServerConfig, cancel: CancelCheck? = nil) throws -> HTTPServer {
        var rootReal: String? = nil
        if let root = config.root {
            guard let p = realpath(root, nil) else {
                throw SocketError(.io, "serve http: directory \(root) does not exist", address: address)
            }
            rootReal = String(cString: p); free(p)
            var st = stat()
            guard stat(rootReal!, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                throw SocketError(.io, "serve http: \(root) is not a directory", address: address)
            }
        }
        var tlsSetup = config.tls
        if tlsSetup == nil, let certFile = config.tlsCertificate {
            guard let keyFile = config.tlsKey else { throw SocketError(.tls, "serve http: a certificate needs its key: too", address: address) }
            let options = TLSServerOptions(certFile: certFile, keyFile: keyFile, clientCAFile: config.tlsClientCA,
                                           alpn: config.http2 ? ["h2", "http/1.1"] : ["http/1.1"], handshakeTimeout: config.tlsHandshakeTimeout)
            do { tlsSetup = try TLSServerSetup(options) }
            catch { throw SocketError(.tls, "serve http: \(TLSServerSetup.reason(error))", address: address) }
        }
        let tlsReady = tlsSetup
        let deadline = Date().addingTimeInterval(10)
        let box = ServerBox()
        let limits: NIOHTTPDecoderLimitConfiguration = {
            var l = NIOHTTPDecoderLimitConfiguration()
            l.maxHeaderFieldSize = config.maxHeaderBytes
            l.maxHeaderListSize = config.maxHeaderBytes
            l.maxHeaderFieldCount = 200
            return l
        }()
        let bootstrap = ServerBootstrap(group: SocketRuntime.group)
            .serverChannelOption(ChannelOptions.backlog, value: Int32(config.backlog))
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { ch in
                guard let server = box.server else { return ch.close() }
                return ch.eventLoop.makeCompletedFuture { try server.setUp(ch, limits: limits, tls: tlsReady) }
            }
        let addr = try HostLookup.resolve(try Endpoint(parsing: address), deadline: deadline, cancel: cancel)[0]
        let ch = try SocketRuntime.wait(bootstrap.bind(to: addr), deadline: deadline, cancel: cancel, op: "serve http on",
                                        address: address, onAbandon: { $0.close(promise: nil) })
        let server = HTTPServer(channel: ch, config: config, rootReal: rootReal)
        server.isTLS = tlsReady != nil
        box.server = server
        return server
    }

    /// Whether connections are TLS (file bodies are then read and written in chunks, not sendfile).
    public private(set) var isTLS = false

    func setUp(_ ch: Channel, limits: NIOHTTPDecoderLimitConfiguration, tls: TLSServerSetup?) throws {
        totalConnections.add(1, ordering: .relaxed)
        let n = connections.add(1, ordering: .relaxed).newValue
        ch.closeFuture.whenComplete { _ in self.connections.subtract(1, ordering: .relaxed) }
        let ops = ch.pipeline.syncOperations
        if n > config.maxConnections {
            try ops.addHandler(HTTPOverloadHandler())
            return
        }
        track(ch)
        if let tls {
            try ops.addHandler(tls.makeHandler())
            // The handshake is bounded (a client that stalls in it is dropped) and a failed one is
            // logged with its reason; the HTTP pipeline's own idle timer starts after it.
            let client = ch.remoteAddress?.ipAddress ?? "-"
            try ops.addHandler(TLSServerGate(timeout: tls.options.handshakeTimeout, onReady: { _ in }) { [weak self] _, why in
                self?.logNote(client: client, "TLS handshake failed: \(why)")
            })
            if config.http2 {
                // ALPN decides, once the handshake is done: h2, or HTTP/1.1 (also when the client offers nothing).
                try ops.addHandler(ApplicationProtocolNegotiationHandler { [self] result, channel in
                    channel.eventLoop.makeCompletedFuture {
                        if case .negotiated("h2") = result { try self.setUpHTTP2(channel) }
                        else { try self.setUpHTTP1(channel, limits: limits) }
                    }
                })
                return
            }
        }
        try setUpHTTP1(ch, limits: limits)
    }

    /// The HTTP/1.1 pipeline after TLS (if any): idle timer, request-line guard, our encoder,
    /// NIO's decoder and pipelining handler, error pages, compression, the connection handler.
    func setUpHTTP1(_ ch: Channel, limits: NIOHTTPDecoderLimitConfiguration) throws {
        let ops = ch.pipeline.syncOperations
        try ops.addHandler(IdleStateHandler(allTimeout: .milliseconds(Int64(config.idleTimeout * 1000))))
        try ops.addHandler(HTTPRequestLineGuard(server: self))
        // NIO's configureHTTPServerPipeline, with our encoder in place of HTTPResponseEncoder.
        try ops.addHandler(HTTPServerResponseWriter())
        try ops.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: limits)))
        try ops.addHandler(HTTPServerPipelineHandler())
        try ops.addHandler(NIOHTTPResponseHeadersValidator())
        try ops.addHandler(HTTPServerErrorHandler(server: self))
        let continueWriter = HTTPContinueWriter()
        // The compressor and its helpers join when a request first names an Accept-Encoding.
        if config.compress { try ops.addHandler(HTTPCompressionInstaller(continueWriter: continueWriter)) }
        try ops.addHandler(HTTPServerConnectionHandler(server: self, continueWriter: config.compress ? continueWriter : nil))
    }

    /// HTTP/2 (negotiated by ALPN): the connection's frames go to NIOHTTP2Handler; a GET or HEAD
    /// of the small file the connection served last is answered there in frames
    /// (HTTP2StaticFastPath); every other stream is a child channel of the multiplexer whose
    /// frames HTTP2FramePayloadToHTTP1ServerCodec turns into the HTTP/1 request parts the
    /// connection handler serves (files, ranges, 304s, routes alike). The multiplexer is
    /// swift-nio-http2's pipeline handler (not NIOHTTP2Handler's inline one) so that the fast
    /// path can sit between them and see each stream's first frame.
    func setUpHTTP2(_ ch: Channel) throws {
        let ops = ch.pipeline.syncOperations
        try ops.addHandler(IdleStateHandler(allTimeout: .milliseconds(Int64(config.idleTimeout * 1000))))
        try ops.addHandler(HTTP2IdleCloser())
        // One set of caches for all the connection's streams (they run on its event loop).
        let caches = HTTPConnectionCaches()
        try ops.addHandler(NIOHTTP2Handler(mode: .server))
        try ops.addHandler(HTTP2StaticFastPath(server: self, caches: caches))
        try ops.addHandler(HTTP2StreamMultiplexer(mode: .server, channel: ch, inboundStreamInitializer: { [self] stream in
            stream.eventLoop.makeCompletedFuture {
                let sops = stream.pipeline.syncOperations
                let id = (try? stream.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID)).map { Int($0) } ?? 0
                try sops.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                let continueWriter = HTTPContinueWriter()
                // As on HTTP/1: the compressor joins only a stream whose request names an Accept-Encoding.
                if self.config.compress { try sops.addHandler(HTTPCompressionInstaller(continueWriter: continueWriter)) }
                try sops.addHandler(HTTPServerConnectionHandler(server: self, continueWriter: self.config.compress ? continueWriter : nil,
                                                                http2Stream: id, caches: caches))
            }
        }))
    }

    private func track(_ ch: Channel) {
        let id = ObjectIdentifier(ch)
        childLock.lock(); children[id] = ch; childLock.unlock()
        ch.closeFuture.whenComplete { _ in self.childLock.lock(); self.children[id] = nil; self.childLock.unlock() }
    }

    // MARK: the owner's side

    /// The next routed request, waiting at most `timeout` seconds; nil when none came.
    public func next(timeout: Double) -> HTTPRoutedRequest? {
        cond.lock(); defer { cond.unlock() }
        if inbox.isEmpty { _ = cond.wait(until: Date().addingTimeInterval(timeout)) }
        return inbox.isEmpty ? nil : inbox.removeFirst()
    }

    /// The log lines and trace steps since the last call, in order.
    public func drainEvents() -> [HTTPServerEvent] {
        cond.lock(); defer { cond.unlock() }
        var out = events
        if droppedEvents > 0 { out.append(.log("serve http: \(droppedEvents) log lines dropped (the log was not read fast enough)")); droppedEvents = 0 }
        events.removeAll(keepingCapacity: true)
        return out
    }

    /// Stops listening, answers queued routed requests 503 and closes every connection.
    public func stop() {
        try? channel.close().wait()
        let grace = Date().addingTimeInterval(2)
        while outstanding.load(ordering: .relaxed) > 0, Date() < grace { usleep(2_000) }
        cond.lock(); stopped = true; let left = inbox; inbox.removeAll(); cond.unlock()
        for r in left { r.respond(HTTPServerResponse(status: 503, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array("server stopping\n".utf8))) }
        childLock.lock(); let all = Array(children.values); children.removeAll(); childLock.unlock()
        for ch in all { ch.close(promise: nil) }
    }

    // MARK: the event loops' side

    func enqueue(_ r: HTTPRoutedRequest) {
        cond.lock()
        if stopped {
            cond.unlock()
            r.respond(HTTPServerResponse(status: 503, body: Array("server stopping\n".utf8)))
            return
        }
        inbox.append(r); cond.signal(); cond.unlock()
    }

    func emit(_ e: HTTPServerEvent) {
        cond.lock()
        if events.count < 100_000 { events.append(e) } else { droppedEvents += 1 }
        cond.unlock()
    }

    /// Python's access line: `127.0.0.1 - - [25/Nov/2026 12:00:00] "GET / HTTP/1.1" 200 -`.
    func logAccess(client: String, requestLine: String, status: Int) {
        guard config.accessLog else { return }
        emit(.log("\(client) - - [\(logDate())] \"\(requestLine)\" \(status) -"))
    }

    func logNote(client: String, _ text: String) {
        guard config.accessLog else { return }
        emit(.log("\(client) - - [\(logDate())] \(text)"))
    }

    private let logDateLock = NSLock()
    private var logDateCache = (second: -1, text: "")
    /// The log's local time, formatted once a second.
    private func logDate() -> String {
        let now = Int(time(nil))
        logDateLock.lock(); defer { logDateLock.unlock() }
        if now != logDateCache.second { logDateCache = (now, HTTPStaticFiles.logDate(now)) }
        return logDateCache.text
    }
}

/// Closes an HTTP/2 connection on which nothing was read or written for the idle time.
final class HTTP2IdleCloser: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil); return }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Lets the child initializer reach the server made after the bind.
final class ServerBox: @unchecked Sendable { var server: HTTPServer? }

/// Answers a connection over the limit with 503 and closes it.
final class HTTPOverloadHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelActive(context: ChannelHandlerContext) {
        var b = context.channel.allocator.buffer(capacity: 96)
        b.writeString("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\nRetry-After: 1\r\n\r\n")
        let ctx = context
        context.writeAndFlush(wrapOutboundOut(b)).whenComplete { _ in ctx.close(promise: nil) }
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

/// Reads a connection's first request line before the HTTP decoder sees it, and answers what
/// the decoder would leave hanging or misname: an HTTP/0.9 request line (`GET /path`, no
/// version) gets 400 at once, as nginx answers, and a request line longer than the head limit
/// gets 414 URI Too Long (RFC 9112 §3) rather than 431. Then it steps aside. (A later request on
/// a kept-alive connection whose head is too long is answered 431.)
final class HTTPRequestLineGuard: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let server: HTTPServer
    private var held: ByteBuffer?
    private var done = false
    init(server: HTTPServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { context.fireChannelRead(data); return }
        var incoming = unwrapInboundIn(data)
        if held == nil { held = incoming } else { held!.writeBuffer(&incoming) }
        let view = held!.readableBytesView
        // Blank lines before a request line are allowed (RFC 9112 §2.2).
        var start = view.startIndex
        while start < view.endIndex, view[start] == 0x0D || view[start] == 0x0A { start += 1 }
        guard let nl = view[start...].firstIndex(of: 0x0A) else {
            if view.endIndex - start > server.config.maxHeaderBytes { refuse(context, 414, "URI Too Long", "request line longer than \(server.config.maxHeaderBytes) bytes") }
            return
        }
        if nl - start > server.config.maxHeaderBytes { return refuse(context, 414, "URI Too Long", "request line longer than \(server.config.maxHeaderBytes) bytes") }
        var end = nl
        if end > start, view[end - 1] == 0x0D { end -= 1 }
        let line = view[start..<end]
        let words = line.split(separator: 0x20, omittingEmptySubsequences: true)
        if words.count == 2 {
            return refuse(context, 400, "Bad Request", "HTTP/0.9 request line (no version): \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        done = true
        let all = held!
        held = nil
        context.fireChannelRead(wrapInboundOut(all))
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let h = held, h.readableBytes > 0, !done { held = nil; context.fireChannelRead(wrapInboundOut(h)) }
    }

    private func refuse(_ context: ChannelHandlerContext, _ status: Int, _ reason: String, _ why: String) {
        done = true
        held = nil
        let client = context.channel.remoteAddress?.ipAddress ?? "-"
        server.logNote(client: client, "code \(status), message \(reason) (\(why))")
        let body = HTTPServerConnectionHandler.errorPage(status, reason)
        var buf = context.channel.allocator.buffer(capacity: body.count + 160)
        buf.writeString("HTTP/1.1 \(status) \(reason)\r\nServer: NetScript\r\nConnection: close\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(body.count)\r\n\r\n")
        buf.writeBytes(body)
        server.completed.add(1, ordering: .relaxed)
        let ctx = context
        // Close our side once the answer is out; input still arriving is dropped, so the kernel
        // does not reset the connection before the client has read the answer.
        context.writeAndFlush(wrapOutboundOut(buf)).whenComplete { _ in
            ctx.close(mode: .output, promise: nil)
            ctx.eventLoop.scheduleTask(in: .seconds(2)) { ctx.close(promise: nil) }
        }
    }
}

/// Turns a parse error (garbage, an oversized head) into 400 or 431 and a log line; the decoder
/// then closes the connection. Modelled on NIO's HTTPServerProtocolErrorHandler.
final class HTTPServerErrorHandler: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart
    let server: HTTPServer
    private var responding = false
    init(server: HTTPServer) { self.server = server }

    private var lingering = false

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // After a refusal the rest of what the client sends is read and dropped (see below).
        if lingering, error is ByteToMessageDecoderError { return }
        guard let e = error as? HTTPParserError else { context.fireErrorCaught(error); return }
        let status: HTTPResponseStatus = e == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
        let client = context.channel.remoteAddress?.ipAddress ?? "-"
        server.logNote(client: client, "code \(status.code), message \(status.reasonPhrase) (\(e))")
        if !responding {
            let body = HTTPServerConnectionHandler.errorPage(Int(status.code), status.reasonPhrase)
            var buf = context.channel.allocator.buffer(capacity: body.count)
            buf.writeBytes(body)
            let headers = HTTPHeaders([("Connection", "close"), ("Content-Type", "text/html; charset=utf-8"),
                                       ("Content-Length", "\(body.count)")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(buf))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            server.completed.add(1, ordering: .relaxed)
        }
        // Closing with unread input would make the kernel send a reset, which can destroy the
        // answer before the client reads it: close our side, drop what still comes for a
        // moment, then close.
        lingering = true
        context.close(mode: .output, promise: nil)
        let ctx = context
        context.eventLoop.scheduleTask(in: .seconds(2)) { ctx.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if lingering, case ChannelEvent.inputClosed = event as? ChannelEvent ?? .outputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let h) where h.status.code >= 200: responding = true
        case .body: responding = true
        case .end: responding = false
        default: break
        }
        context.write(data, promise: promise)
    }
}
