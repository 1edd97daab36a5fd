import Foundation
import NIOCore
import NIOSSL
import NIOPosix
import NIOHTTP1
import NIOHPACK

/// One connection's requests, in order (NIO's pipelining handler holds later requests back until
/// the current response is done): routed requests go to the server's owner, everything else is
/// a static file, a listing, or an error page.
final class HTTPServerConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: HTTPServer
    private var context: ChannelHandlerContext?
    private var head: HTTPRequestHead?
    private var route: (index: Int, params: [(String, String)], path: String)?
    /// The methods of routes whose path matched when none allowed the request's method (for 405).
    private var allowed: [String] = []
    private var body: ByteBuffer?
    private var bodySize = 0
    /// Body bytes this connection holds in the server's count of buffered bodies.
    private var counted = 0
    /// Set once a response that ends the connection has been started (413): the rest is ignored.
    private var refusing = false
    private var awaitingOwner = false
    /// Responses started and not yet fully written.
    private var writing = 0
    /// The client closed its side: close ours once the answers in progress are out.
    private var inputClosed = false
    private var client = "-"
    private var clientPort = 0
    /// The connection's caches (Date, the resolved file, its body and encoded response): an HTTP/2
    /// connection's streams share one, so the second request on a connection finds them warm.
    let caches: HTTPConnectionCaches

    /// Writes 100 Continue below the compressor, when there is one.
    let continueWriter: HTTPContinueWriter?

    /// The HTTP/2 stream this handler serves (nil: an HTTP/1 connection). A stream's responses
    /// go out as parts (never pre-encoded bytes or sendfile regions) for the HTTP/2 codec.
    let http2Stream: Int?
    /// "[stream 3] " before an HTTP/2 stream's trace steps.
    private let traceLabel: String

    init(server: HTTPServer, continueWriter: HTTPContinueWriter? = nil, http2Stream: Int? = nil,
         caches: HTTPConnectionCaches = HTTPConnectionCaches()) {
        self.server = server; self.continueWriter = continueWriter; self.http2Stream = http2Stream; self.caches = caches
        self.traceLabel = http2Stream.map { "[stream \($0)] " } ?? ""
    }

    /// Whether a response of this type and length to this request is to be compressed.
    private func compresses(_ h: HTTPRequestHead, type: String, length: Int) -> Bool {
        server.config.compress && h.method != .HEAD && length >= HTTPServerCompression.minimumLength
            && isCompressible(type) && HTTPServerCompression.accepts(h.headers)
    }

    /// The last type asked about and the answer: a keep-alive connection asks about the same
    /// few types again and again, and the answer costs string work the fast path cannot afford.
    private func isCompressible(_ type: String) -> Bool {
        if caches.compressibleMemo.type == type { return caches.compressibleMemo.yes }
        let yes = HTTPServerCompression.isCompressible(type)
        caches.compressibleMemo = (type, yes)
        return yes
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        client = context.channel.remoteAddress?.ipAddress ?? "-"
        clientPort = context.channel.remoteAddress?.port ?? 0
    }
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        releaseBody()
    }

    private func releaseBody() {
        if counted > 0 { server.bufferedBodies.subtract(counted, ordering: .relaxed); counted = 0 }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let sent):
            let h = continueWriter == nil ? sent : HTTPGzipPreference.restore(sent)
            head = h; body = nil; bodySize = 0; route = nil
            if refusing { return }
            // RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in 1.0; else 400.
            let hosts = h.headers["host"].count
            if hosts > 1 || (hosts == 0 && h.version.major == 1 && h.version.minor >= 1) {
                refusing = true
                return respondError(h, 400, hosts == 0 ? "Bad request: HTTP/1.1 needs a Host header" : "Bad request: more than one Host header",
                                    forceClose: true, linger: true)
            }
            // CONNECT makes a tunnel, which this server does not: the answer is delimited by
            // closing, since what follows a CONNECT head is not HTTP.
            if h.method == .CONNECT {
                refusing = true
                return respondError(h, 501, "Unsupported method ('CONNECT')", extra: [("Allow", "GET, HEAD")], forceClose: true, linger: true)
            }
            if let cl = h.headers.first(name: "content-length"), let n = Int(cl), n > server.config.maxBody {
                return refuseBody(h)
            }
            route = matchRoute(h)
            if h.headers.first(name: "expect")?.lowercased() == "100-continue" {
                if let continueWriter, continueWriter.isInstalled { continueWriter.sendContinue(h.version) }
                else { context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .continue))), promise: nil) }
            }
        case .body(var buf):
            guard !refusing, let h = head else { return }
            bodySize += buf.readableBytes
            if bodySize > server.config.maxBody { return refuseBody(h) }
            if route != nil {
                let n = buf.readableBytes
                counted += n
                if server.bufferedBodies.add(n, ordering: .relaxed).newValue > server.config.maxBufferedBodies {
                    return refuseBody(h, busy: true)
                }
                if body == nil { body = context.channel.allocator.buffer(capacity: n) }
                body!.writeBuffer(&buf)
            }
        case .end:
            guard !refusing, let h = head else { return }
            head = nil
            trace(request: h)
            if let r = route { dispatch(h, r) }
            else if !allowed.isEmpty, server.rootReal == nil || (h.method != .GET && h.method != .HEAD) {
                var seen = Set<String>()
                let methods = allowed.filter { seen.insert($0).inserted }
                respondError(h, 405, "Method not allowed", extra: [("Allow", methods.joined(separator: ", "))])
            } else { serveFile(h) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            // A handler still working in the language is not idleness of the client.
            if !awaitingOwner { context.close(promise: nil) }
            return
        }
        if case ChannelEvent.inputClosed = event as? ChannelEvent ?? .outputClosed {
            inputClosed = true
            if writing == 0 && !awaitingOwner { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }

    // MARK: routing

    private func splitTarget(_ uri: String) -> (path: Substring, query: Substring?) {
        var target = Substring(uri)
        // absolute-form (`GET http://host/path`): keep the path.
        if target.hasPrefix("http://") || target.hasPrefix("https://") {
            let afterScheme = target[target.index(target.firstIndex(of: ":")!, offsetBy: 3)...]
            target = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
        }
        if let hash = target.firstIndex(of: "#") { target = target[..<hash] }
        guard let q = target.firstIndex(of: "?") else { return (target, nil) }
        return (target[..<q], target[target.index(after: q)...])
    }

    private func matchRoute(_ h: HTTPRequestHead) -> (index: Int, params: [(String, String)], path: String)? {
        allowed = []
        guard !server.config.routes.isEmpty else { return nil }
        let (rawPath, _) = splitTarget(h.uri)
        guard case .success(let segs) = HTTPStaticFiles.segments(rawPath) else { return nil }
        let method = h.method.rawValue
        for (i, r) in server.config.routes.enumerated() {
            guard let params = r.match(segs) else { continue }
            if r.allows(method) { return (i, params, "/" + segs.joined(separator: "/")) }
            allowed.append(r.method == "GET" ? "GET, HEAD" : r.method)
        }
        return nil
    }

    /// The certificate the TLS client presented: from the connection's TLS handler — in this
    /// channel's pipeline for HTTP/1.1, in its parent's (the connection) for an HTTP/2 stream.
    /// On the event loop. (An HTTP/1.1 connection's parent is the listening socket, on another
    /// loop: it is never looked at.)
    static func clientCertificate(_ channel: Channel) -> TLSCertificateInfo? {
        var ssl = try? channel.pipeline.syncOperations.handler(type: NIOSSLHandler.self)
        if ssl == nil, let connection = channel.parent, connection.eventLoop.inEventLoop {
            ssl = try? connection.pipeline.syncOperations.handler(type: NIOSSLHandler.self)
        }
        guard let der = try? ssl?.peerCertificate?.toDERBytes() else { return nil }
        return try? TLSCertificateInfo(der: der)
    }

    private func dispatch(_ h: HTTPRequestHead, _ r: (index: Int, params: [(String, String)], path: String)) {
        guard let context else { return }
        let (_, query) = splitTarget(h.uri)
        let bytes = body.map { Array($0.readableBytesView) } ?? []
        body = nil
        // The body stays counted until its answer is given.
        let held = counted
        counted = 0
        let loop = context.eventLoop
        awaitingOwner = true
        server.routedCount.add(1, ordering: .relaxed)
        let req = HTTPRoutedRequest(
            routeIndex: r.index, method: h.method.rawValue, target: h.uri, path: r.path, query: query.map(String.init) ?? "",
            version: "\(h.version)", headers: h.headers.map { ($0.name, $0.value) }, body: bytes,
            clientHost: client, clientPort: clientPort, params: r.params,
            clientCertificate: server.isTLS ? Self.clientCertificate(context.channel) : nil,
            reply: { [self] resp, note in
                self.server.outstanding.add(1, ordering: .relaxed)
                if held > 0 { self.server.bufferedBodies.subtract(held, ordering: .relaxed) }
                loop.execute {
                    self.awaitingOwner = false
                    if let note { self.server.logNote(client: self.client, note) }
                    var headers = resp.headers
                    if !resp.body.isEmpty, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                        headers.append(("Content-Type", "text/plain; charset=utf-8"))
                    }
                    headers.removeAll { $0.0.lowercased() == "content-length" || $0.0.lowercased() == "transfer-encoding" }
                    var buf = self.context?.channel.allocator.buffer(capacity: resp.body.count) ?? ByteBuffer()
                    buf.writeBytes(resp.body)
                    let close = headers.contains { $0.0.lowercased() == "connection" && $0.1.lowercased() == "close" }
                    var compress = false
                    if self.server.config.compress, resp.status == 200,
                       let type = headers.first(where: { $0.0.lowercased() == "content-type" })?.1, HTTPServerCompression.isCompressible(type),
                       !headers.contains(where: { $0.0.lowercased() == "content-encoding" || $0.0.lowercased() == "content-range" }) {
                        if resp.body.count >= HTTPServerCompression.minimumLength, !headers.contains(where: { $0.0.lowercased() == "vary" }) {
                            headers.append(("Vary", "Accept-Encoding"))
                        }
                        compress = self.compresses(h, type: type, length: resp.body.count)
                    }
                    self.respond(h, status: resp.status, headers: headers, length: resp.body.count, body: .bytes(buf), forceClose: close, trusted: false,
                                 compress: compress,
                                 onDone: { [server = self.server] in server.outstanding.subtract(1, ordering: .relaxed) })
                }
            })
        server.enqueue(req)
    }

    // MARK: static files

    private func serveFile(_ h: HTTPRequestHead) {
        guard let root = server.rootReal else {
            return respondError(h, 404, "Not found")
        }
        guard h.method == .GET || h.method == .HEAD else {
            return respondError(h, 501, "Unsupported method ('\(h.method.rawValue)')", extra: [("Allow", "GET, HEAD")])
        }
        let now = Int(time(nil))
        if let c = caches.fileCache, c.second == now, c.uri == h.uri {
            if let b = caches.bodyCache, b.real == c.real, h.headers.first(name: "range") == nil,
               HTTPStaticFiles.stamp(b.real) == b.stamp {
                return serveCachedFile(h, b.body, type: b.type, mtime: b.mtime, stamp: b.stamp, real: b.real, now: now)
            }
            if case .file(let fd, _, let size, let mtime) = HTTPStaticFiles.open(c.real) {
                return serveOpenFile(h, fd: fd, type: c.type, size: size, mtime: mtime, real: c.real)
            }
        }
        let (rawPath, query) = splitTarget(h.uri)
        guard rawPath.hasPrefix("/") else { return respondError(h, 400, "Bad request target") }
        switch HTTPStaticFiles.plan(rawPath: rawPath, query: query, root: root) {
        case .error(let status, let message):
            respondError(h, status, message)
        case .redirect(let location):
            respond(h, status: 301, headers: [("Location", location)], length: 0, body: .none, trusted: false)
        case .listing(let html):
            var buf = context!.channel.allocator.buffer(capacity: html.count)
            buf.writeBytes(html)
            let type = "text/html; charset=utf-8"
            respond(h, status: 200, headers: [("Content-Type", type)] + (server.config.compress && html.count >= HTTPServerCompression.minimumLength ? [("Vary", "Accept-Encoding")] : []),
                    length: html.count, body: .bytes(buf), compress: compresses(h, type: type, length: html.count))
        case .file(let fd, let path, let size, let mtime):
            let type = HTTPStaticFiles.mimeType(path)
            caches.fileCache = (h.uri, now, path, type)
            serveOpenFile(h, fd: fd, type: type, size: size, mtime: mtime, real: path)
        }
    }

    /// A small file sent before on this connection and unchanged since.
    private func serveCachedFile(_ h: HTTPRequestHead, _ body: ByteBuffer, type: String, mtime: Int,
                                 stamp: HTTPStaticFiles.Stamp, real: String, now: Int) {
        let lastModified = lastModifiedText(mtime)
        let vary = server.config.compress && body.readableBytes >= HTTPServerCompression.minimumLength && isCompressible(type)
        if notModified(h, mtime) {
            return respond(h, status: 304, headers: [("Last-Modified", lastModified)] + (vary ? [("Vary", "Accept-Encoding")] : []), length: nil, body: .none)
        }
        if vary {
            let headers = [("Content-Type", type), ("Last-Modified", lastModified), ("Accept-Ranges", "bytes"), ("Vary", "Accept-Encoding")]
            if compresses(h, type: type, length: body.readableBytes) {
                return respond(h, status: 200, headers: headers, length: body.readableBytes, body: .bytes(body), compress: true)
            }
        }
        if h.method == .GET, h.version == .http1_1, h.isKeepAlive, !server.tracing.load(ordering: .relaxed), let context {
            if let e = caches.encodedCache, e.second == now, e.stamp == stamp, e.real == real {
                context.write(wrapOutboundOut(.head(HTTPServerResponseWriter.preEncoded)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(e.bytes))), promise: nil)
                return finish(h, status: 200, keepAlive: true, linger: false, handle: nil, bodyDone: nil, onDone: nil, context: context)
            }
            let bytes = respondEncoded(h, status: 200, headers: [("Content-Type", type), ("Last-Modified", lastModified), ("Accept-Ranges", "bytes")]
                                           + (vary ? [("Vary", "Accept-Encoding")] : []),
                                       length: body.readableBytes, body: .bytes(body), keepAlive: true, linger: false, onDone: nil, context: context)
            // Kept for small files only: it is a second copy of the body, per connection.
            if body.readableBytes <= 16 * 1024 { caches.encodedCache = (caches.dateCache.second, stamp, real, bytes) }
            return
        }
        respond(h, status: 200, headers: [("Content-Type", type), ("Last-Modified", lastModified), ("Accept-Ranges", "bytes")]
                + (vary ? [("Vary", "Accept-Encoding")] : []),
                length: body.readableBytes, body: .bytes(body))
    }

    private func lastModifiedText(_ mtime: Int) -> String {
        if caches.lastModifiedCache.mtime != mtime { caches.lastModifiedCache = (mtime, HTTPStaticFiles.httpDate(mtime)) }
        return caches.lastModifiedCache.text
    }

    /// If-Modified-Since at or after the file's time (and no If-None-Match): 304.
    private func notModified(_ h: HTTPRequestHead, _ mtime: Int) -> Bool {
        guard h.headers.first(name: "if-none-match") == nil, let ims = h.headers.first(name: "if-modified-since"),
              let t = HTTPStaticFiles.parseHTTPDate(ims) else { return false }
        return mtime <= t
    }

    private func serveOpenFile(_ h: HTTPRequestHead, fd: CInt, type: String, size: Int, mtime: Int, real: String) {
        let lastModified = lastModifiedText(mtime)
        var headers: [(String, String)] = [("Content-Type", type), ("Last-Modified", lastModified), ("Accept-Ranges", "bytes")]
        let vary = server.config.compress && size >= HTTPServerCompression.minimumLength && isCompressible(type)
        if notModified(h, mtime) {
            close(fd)
            return respond(h, status: 304, headers: [("Last-Modified", lastModified)] + (vary ? [("Vary", "Accept-Encoding")] : []), length: nil, body: .none)
        }
        var answer = HTTPStaticFiles.RangeAnswer.whole
        if let range = h.headers.first(name: "range") {
            let ifRange = h.headers.first(name: "if-range")
            if ifRange == nil || ifRange == lastModified { answer = HTTPStaticFiles.ranges(range, size: size) }
        }
        switch answer {
        case .whole:
            if vary { headers.append(("Vary", "Accept-Encoding")) }
            let compress = compresses(h, type: type, length: size) && size <= HTTPServerCompression.maximumFileLength
            // The version is read before the bytes, so a change while reading is seen next time.
            let stamp = size <= 64 * 1024 ? HTTPStaticFiles.stamp(fd: fd) : nil
            let body = fileBody(fd, 0, size, whole: compress)
            if let stamp, case .bytes(let b) = body { caches.bodyCache = (real, b, stamp, mtime, type) }
            var compressible = false
            if case .bytes = body { compressible = compress }
            respond(h, status: 200, headers: headers, length: size, body: body, compress: compressible)
        case .unsatisfiable:
            close(fd)
            respondError(h, 416, "Requested range not satisfiable", extra: [("Content-Range", "bytes */\(size)")])
        case .ranges(let rs) where rs.count == 1:
            let r = rs[0]
            headers.append(("Content-Range", "bytes \(r.lowerBound)-\(r.upperBound)/\(size)"))
            respond(h, status: 206, headers: headers, length: r.count, body: fileBody(fd, r.lowerBound, r.count))
        case .ranges(let rs):
            let boundary = String((0..<20).map { _ in "0123456789abcdef".randomElement()! })
            var parts: [(ByteBuffer, ClosedRange<Int>)] = []
            var total = 0
            for r in rs {
                var b = context!.channel.allocator.buffer(capacity: 128)
                total += b.writeString("\r\n--\(boundary)\r\nContent-Type: \(type)\r\nContent-Range: bytes \(r.lowerBound)-\(r.upperBound)/\(size)\r\n\r\n")
                total += r.count
                parts.append((b, r))
            }
            var tail = context!.channel.allocator.buffer(capacity: 32)
            total += tail.writeString("\r\n--\(boundary)--\r\n")
            headers[0] = ("Content-Type", "multipart/byteranges; boundary=\(boundary)")
            respond(h, status: 206, headers: headers, length: total,
                    body: .multipart(NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd), parts, tail))
        }
    }

    /// Small files are read at once (one write with the head); larger ones go out with sendfile,
    /// unless `whole` (a body to compress) asks for them in memory.
    private func fileBody(_ fd: CInt, _ offset: Int, _ count: Int, whole: Bool = false) -> ResponseBody {
        if count <= 64 * 1024 || whole {
            var buf = context!.channel.allocator.buffer(capacity: count)
            var done = 0
            while done < count {
                let n = buf.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { p in
                    max(0, pread(fd, p.baseAddress, count - done, off_t(offset + done)))
                }
                if n == 0 { break }
                done += n
            }
            close(fd)
            return done == count ? .bytes(buf) : .short(buf)
        }
        return .region(NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd), offset, count)
    }

    // MARK: writing

    enum ResponseBody {
        case none
        case bytes(ByteBuffer)
        /// Fewer bytes than announced (the file shrank): sent, then the connection is closed.
        case short(ByteBuffer)
        case region(NIOFileHandle, Int, Int)
        case multipart(NIOFileHandle, [(ByteBuffer, ClosedRange<Int>)], ByteBuffer)
    }

    private func respondError(_ h: HTTPRequestHead, _ status: Int, _ message: String, extra: [(String, String)] = [],
                              forceClose: Bool = false, linger: Bool = false) {
        let page = Self.errorPage(status, message)
        var buf = context?.channel.allocator.buffer(capacity: page.count) ?? ByteBuffer()
        buf.writeBytes(page)
        respond(h, status: status, headers: [("Content-Type", "text/html; charset=utf-8")] + extra, length: page.count, body: .bytes(buf),
                forceClose: forceClose, linger: linger)
    }

    private func httpDate() -> String {
        let now = Int(time(nil))
        if now != caches.dateCache.second { caches.dateCache = (now, HTTPStaticFiles.httpDate(now)) }
        return caches.dateCache.text
    }

    /// `trusted`: the headers are the server's own (not a route's, not echoing the request), so
    /// they need no check for forbidden characters.
    /// `compress`: the body may be compressed (HTTPServerCompression); such a response takes the
    /// general path, its head marked for the compressor.
    func respond(_ h: HTTPRequestHead, status: Int, headers extra: [(String, String)], length: Int?, body: ResponseBody,
                 forceClose: Bool = false, linger: Bool = false, trusted: Bool = true, compress: Bool = false, onDone: (() -> Void)? = nil) {
        guard let context else {
            onDone?()
            if case .region(let fh, _, _) = body { try? fh.close() }
            if case .multipart(let fh, _, _) = body { try? fh.close() }
            return
        }
        var keepAlive = h.isKeepAlive && !forceClose
        if case .short = body { keepAlive = false }
        let tracing = server.tracing.load(ordering: .relaxed)
        if trusted && !tracing && !compress && http2Stream == nil {
            switch body {
            case .none, .bytes, .short:
                respondEncoded(h, status: status, headers: extra, length: length, body: body, keepAlive: keepAlive,
                               linger: linger, onDone: onDone, context: context)
                return
            default: break
            }
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(extra.count + 5)
        headers.add(name: "Server", value: "NetScript")
        headers.add(name: "Date", value: httpDate())
        for (k, v) in extra where k.lowercased() != "connection" { headers.add(name: k, value: v) }
        // 1xx, 204 and 304 have no body, and 1xx and 204 no Content-Length (RFC 9110 §8.6).
        let bodyAllowed = status >= 200 && status != 204 && status != 304
        if let length, bodyAllowed { headers.add(name: "Content-Length", value: String(length)) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        else if h.version == .http1_0 { headers.add(name: "Connection", value: "keep-alive") }
        if compress { headers.add(name: HTTPServerCompression.marker, value: "1") }
        let st = HTTPResponseStatus(statusCode: status)
        let version: HTTPVersion = h.version == .http1_0 ? .http1_0 : .http1_1
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: st, headers: headers))), promise: nil)
        let sendBody = h.method != .HEAD && bodyAllowed
        var handle: NIOFileHandle? = nil
        // Under TLS sendfile cannot be used: file ranges are read and written 64 KiB at a time,
        // each chunk after the previous one is written (constant memory).
        var pieces: [(ByteBuffer?, ClosedRange<Int>?)] = []
        switch body {
        case .none: break
        case .bytes(let b), .short(let b):
            if sendBody { context.write(wrapOutboundOut(.body(.byteBuffer(b))), promise: nil) }
        case .region(let fh, let offset, let count):
            handle = fh
            if sendBody { pieces.append((nil, offset...(offset + count - 1))) }
        case .multipart(let fh, let parts, let tail):
            handle = fh
            if sendBody {
                for (prefix, r) in parts { pieces.append((prefix, r)) }
                pieces.append((tail, nil))
            }
        }
        var bodyDone: EventLoopFuture<Void>? = nil
        if let fh = handle, !pieces.isEmpty {
            if server.isTLS || http2Stream != nil {
                let fd = (try? fh.withUnsafeFileDescriptor { $0 }) ?? -1
                for (prefix, range) in pieces {
                    bodyDone = (bodyDone ?? context.eventLoop.makeSucceededVoidFuture()).flatMap { [self] in
                        if let prefix { context.write(self.wrapOutboundOut(.body(.byteBuffer(prefix))), promise: nil) }
                        guard let range else { return context.eventLoop.makeSucceededVoidFuture() }
                        return self.stream(fd, range.lowerBound, range.count, context)
                    }
                }
            } else {
                for (prefix, range) in pieces {
                    if let prefix { context.write(wrapOutboundOut(.body(.byteBuffer(prefix))), promise: nil) }
                    // In 1 MiB regions: each completes on its own, so a slow but steady reader
                    // is not taken for an idle one (the idle timer counts completed writes).
                    guard let range else { continue }
                    var at = range.lowerBound
                    while at <= range.upperBound {
                        let end = min(range.upperBound + 1, at + (1 << 20))
                        context.write(wrapOutboundOut(.body(.fileRegion(FileRegion(fileHandle: fh, readerIndex: at, endIndex: end)))), promise: nil)
                        at = end
                    }
                }
            }
        }
        if tracing {
            var text = traceLabel + (http2Stream != nil ? "HTTP/2 \(st.code)" : "\(version) \(st.code) \(st.reasonPhrase)")
            for hd in headers where hd.name != HTTPServerCompression.marker { text += "\n\(hd.name): \(hd.value)" }
            if let length, length > 0, sendBody { text += "\n(\(length) bytes of body\(compress ? ", compressed if the client accepts it" : ""))" }
            server.emit(.trace(.server, text))
        }
        finish(h, status: status, keepAlive: keepAlive, linger: linger, handle: handle, bodyDone: bodyDone, onDone: onDone, context: context)
    }

    /// A response whose head is the server's own and whose body is in memory: head and body are
    /// encoded here into one buffer, written as the body part after a marker head, without
    /// building HTTPHeaders or validating and encoding a head. The same bytes as the general
    /// path (same header order); measured with the HTTPServerResponseWriter (see there).
    @discardableResult
    private func respondEncoded(_ h: HTTPRequestHead, status: Int, headers extra: [(String, String)], length: Int?, body: ResponseBody,
                                keepAlive: Bool, linger: Bool, onDone: (() -> Void)?, context: ChannelHandlerContext) -> ByteBuffer {
        let bodyAllowed = status >= 200 && status != 204 && status != 304
        let sendBody = h.method != .HEAD && bodyAllowed
        var bytes: ByteBuffer? = nil
        switch body {
        case .bytes(let b), .short(let b): if sendBody { bytes = b }
        default: break
        }
        var buf = context.channel.allocator.buffer(capacity: 256 + (bytes?.readableBytes ?? 0))
        let version: HTTPVersion = h.version == .http1_0 ? .http1_0 : .http1_1
        HTTPServerResponseWriter.statusLine(version, status, HTTPResponseStatus(statusCode: status).reasonPhrase, into: &buf)
        buf.writeStaticString("Server: NetScript\r\nDate: ")
        buf.writeString(httpDate())
        buf.writeStaticString("\r\n")
        for (k, v) in extra {
            buf.writeString(k); buf.writeStaticString(": "); buf.writeString(v); buf.writeStaticString("\r\n")
        }
        if let length, bodyAllowed {
            buf.writeStaticString("Content-Length: "); buf.writeString(String(length)); buf.writeStaticString("\r\n")
        }
        if !keepAlive { buf.writeStaticString("Connection: close\r\n") }
        else if h.version == .http1_0 { buf.writeStaticString("Connection: keep-alive\r\n") }
        buf.writeStaticString("\r\n")
        if var b = bytes { buf.writeBuffer(&b) }
        context.write(wrapOutboundOut(.head(HTTPServerResponseWriter.preEncoded)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buf))), promise: nil)
        finish(h, status: status, keepAlive: keepAlive, linger: linger, handle: nil, bodyDone: nil, onDone: onDone, context: context)
        return buf
    }

    /// Logs the response, writes its end and, once written, closes what the response ends.
    private func finish(_ h: HTTPRequestHead, status: Int, keepAlive: Bool, linger: Bool, handle: NIOFileHandle?,
                        bodyDone: EventLoopFuture<Void>?, onDone: (() -> Void)?, context: ChannelHandlerContext) {
        if server.config.accessLog {
            server.logAccess(client: client, requestLine: "\(h.method.rawValue) \(Self.printable(h.uri)) \(h.version)", status: status)
        }
        let server = self.server
        let ctx = context
        writing += 1
        let ended = bodyDone.map { done in done.flatMap { [self] in context.writeAndFlush(self.wrapOutboundOut(.end(nil))) } }
            ?? context.writeAndFlush(wrapOutboundOut(.end(nil)))
        ended.whenComplete { [self] result in
            if case .failure = result { ctx.close(promise: nil) }
            writing -= 1
            try? handle?.close()
            server.completed.add(1, ordering: .relaxed)
            onDone?()
            if linger {
                // Unread input at close would reset the connection and could destroy the answer.
                ctx.close(mode: .output, promise: nil)
                ctx.eventLoop.scheduleTask(in: .seconds(2)) { ctx.close(promise: nil) }
            } else if !keepAlive || (inputClosed && writing == 0 && !awaitingOwner) { ctx.close(promise: nil) }
        }
    }

    /// Writes `count` bytes of the file from `offset`, a chunk at a time, each after the last is written.
    private func stream(_ fd: CInt, _ offset: Int, _ count: Int, _ context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        let promise = context.eventLoop.makePromise(of: Void.self)
        func step(_ off: Int, _ left: Int) {
            if left == 0 { return promise.succeed() }
            let n = min(left, 64 * 1024)
            var buf = context.channel.allocator.buffer(capacity: n)
            let got = buf.writeWithUnsafeMutableBytes(minimumWritableBytes: n) { p in max(0, pread(fd, p.baseAddress, n, off_t(off))) }
            guard got > 0 else { return promise.fail(ChannelError.ioOnClosedChannel) }
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buf)))).whenComplete { r in
                switch r {
                case .success: step(off + got, left - got)
                case .failure(let e): promise.fail(e)
                }
            }
        }
        step(offset, count)
        return promise.futureResult
    }

    private func refuseBody(_ h: HTTPRequestHead, busy: Bool = false) {
        refusing = true
        route = nil; body = nil
        releaseBody()
        // The rest of the body is read and dropped until the answer is out, then the connection closes.
        if busy {
            respondError(h, 503, "Too many request bodies at once; try again", extra: [("Retry-After", "1")], forceClose: true, linger: true)
        } else {
            respondError(h, 413, "Request body larger than \(server.config.maxBody) bytes", forceClose: true, linger: true)
        }
    }

    private func trace(request h: HTTPRequestHead) {
        guard server.tracing.load(ordering: .relaxed) else { return }
        var text = traceLabel + "\(h.method.rawValue) \(Self.printable(h.uri)) \(http2Stream != nil ? "HTTP/2" : "\(h.version)")"
        for hd in h.headers { text += "\n\(hd.name): \(Self.printable(hd.value))" }
        if bodySize > 0 { text += "\n(\(bodySize) bytes of body)" }
        server.emit(.trace(.client, text))
    }

    /// Control characters escaped, so a hostile request cannot forge log lines.
    static func printable(_ s: String) -> String {
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C }) { return s }
        return Transcript.escape(Array(s.utf8), limit: 2000)
    }

    /// An error page like Python's.
    static func errorPage(_ status: Int, _ message: String) -> [UInt8] {
        let reason = HTTPResponseStatus(statusCode: status).reasonPhrase
        let m = HTTPStaticFiles.htmlEscape(message)
        return Array("""
        <!DOCTYPE HTML>
        <html lang="en">
            <head>
                <meta charset="utf-8">
                <title>Error response</title>
            </head>
            <body>
                <h1>Error response</h1>
                <p>Error code: \(status)</p>
                <p>Message: \(m).</p>
                <p>Error code explanation: \(status) - \(HTTPStaticFiles.htmlEscape(reason)).</p>
            </body>
        </html>

        """.utf8)
    }
}

/// What a connection remembers between its requests. Owned by the connection: an HTTP/1
/// connection's one handler, or an HTTP/2 connection's set-up, which hands the same object to
/// every stream's handler (the streams run on the parent channel's event loop, one at a time).
final class HTTPConnectionCaches: @unchecked Sendable {
    var dateCache = (second: -1, text: "")
    /// The last file served on this connection, resolved (real path inside the root) within the
    /// current second: a keep-alive client asking again skips the path checks' system calls.
    var fileCache: (uri: String, second: Int, real: String, type: String)?
    /// The last small file this connection sent whole, with what identifies its version: sent
    /// again without opening it while `lstat` shows the same inode, size and modification time
    /// to the nanosecond (one system call instead of open, fstat, pread and close).
    var bodyCache: (real: String, body: ByteBuffer, stamp: HTTPStaticFiles.Stamp, mtime: Int, type: String)?
    var lastModifiedCache = (mtime: -1, text: "")
    /// The whole 200 response (head and body) last sent from `bodyCache` to a keep-alive HTTP/1.1
    /// GET, and the second of its Date: sent again as it is within that second while the file's
    /// stamp is the same (no encoding and no copy of the body).
    var encodedCache: (second: Int, stamp: HTTPStaticFiles.Stamp, real: String, bytes: ByteBuffer)?
    /// The HPACK header list of the 200 answer HTTP2StaticFastPath last sent from `bodyCache`,
    /// and the second of its Date: the same list for every stream within that second.
    var http2Head: (second: Int, stamp: HTTPStaticFiles.Stamp, real: String, vary: Bool, headers: HPACKHeaders)?

    /// The last type asked about and whether it is compressible: a connection asks about the same
    /// few types again and again, and the answer costs string work the fast path cannot afford.
    var compressibleMemo: (type: String, yes: Bool) = ("", false)
}
