import Foundation
import NIOCore
import NIOHPACK
import NIOHTTP2

/// Answers the commonest HTTP/2 request in frames on the connection itself: a GET or HEAD whose
/// HEADERS frame ends the stream (no body), for the small file this connection served last and
/// still the same on disk. Such a stream gets a HEADERS frame (its HPACK header list kept per
/// file and second) and one DATA frame, written to NIOHTTP2Handler, which keeps the stream state,
/// HPACK-encodes the head and holds DATA back against the flow-control windows (and splits it to
/// the peer's frame size). No child channel, HTTP/1 codec or HTTPHeaders is made for it.
///
/// Every other stream goes on to HTTP2StreamMultiplexer, whose child channel serves it with the
/// connection handler as before: the first request for a file in each second (which resolves the
/// path and fills the connection's caches), routes, ranges, conditional requests, a request that
/// may be compressed, one with a body, a Host field or `Expect`, and everything while `trace on`
/// watches (its `[stream N]` steps come from the connection handler).
///
/// The checks are those of the HTTP/1 path's cached answer (`serveCachedFile`): the file was
/// resolved for this exact target within the current second, and `lstat` shows the inode, size
/// and modification time (to the nanosecond) the cached body was read with. The response has the
/// same fields in the same order as the slow path's (HPACKHeaders made from its HTTPHeaders).
final class HTTP2StaticFastPath: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    let server: HTTPServer
    let caches: HTTPConnectionCaches
    /// The highest stream id the client opened: a HEADERS frame above it opens a stream; one at
    /// or below it is a trailer or an error, and goes on to the multiplexer.
    private var lastStreamID = HTTP2StreamID.rootStream
    /// Streams answered here and not yet closed (a few: at most the concurrent streams allowed):
    /// their later frames (RST_STREAM, WINDOW_UPDATE) and events are not passed to the
    /// multiplexer, which knows nothing of them.
    private var answered: [HTTP2StreamID] = []
    /// Frames written during this read, flushed when it completes (as the multiplexer does).
    private var pendingFlush = false
    /// The cached body's stamp, checked by `lstat` once in this read: the requests that came in
    /// the same read were all received at once, before the check, so one check serves them all.
    private var checkedThisRead: HTTPStaticFiles.Stamp?
    private var client = "-"

    init(server: HTTPServer, caches: HTTPConnectionCaches) {
        self.server = server; self.caches = caches
    }

    func handlerAdded(context: ChannelHandlerContext) {
        client = context.channel.remoteAddress?.ipAddress ?? "-"
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let id = frame.streamID
        if case .headers(let h) = frame.payload, id > lastStreamID {
            lastStreamID = id
            if h.endStream, answer(context, id, h.headers) { return }
        } else if !answered.isEmpty, answered.contains(id) {
            return
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        checkedThisRead = nil
        context.fireChannelReadComplete()
        if pendingFlush { pendingFlush = false; context.flush() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !answered.isEmpty {
            if let e = event as? StreamClosedEvent, let i = answered.firstIndex(of: e.streamID) {
                answered.remove(at: i)
                return
            }
            if let e = event as? NIOHTTP2StreamCreatedEvent, answered.contains(e.streamID) { return }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Writes the answer when the request is one this path takes (see the type's comment).
    private func answer(_ context: ChannelHandlerContext, _ id: HTTP2StreamID, _ headers: HPACKHeaders) -> Bool {
        guard server.rootReal != nil, !server.tracing.load(ordering: .relaxed),
              let c = caches.fileCache, let b = caches.bodyCache, b.real == c.real else { return false }
        var method: String? = nil, path: String? = nil, authority = false, scheme = false, acceptEncoding = false
        for (name, value, _) in headers {
            switch name {
            case ":method": method = value
            case ":path": path = value
            case ":authority": authority = true
            case ":scheme": scheme = true
            // The slow path decides these (Host with :authority, ranges, 304s, bodies, 100-continue).
            case "host", "range", "if-range", "if-modified-since", "if-none-match", "content-length", "transfer-encoding",
                 "expect": return false
            case "accept-encoding": acceptEncoding = true
            default: if name.utf8.first == UInt8(ascii: ":") { return false }
            }
        }
        guard let method, method == "GET" || method == "HEAD", let path, authority, scheme else { return false }
        let now = Int(time(nil))
        guard c.second == now, c.uri == path else { return false }
        if !server.config.routes.isEmpty, matchesRoute(path) { return false }
        let length = b.body.readableBytes
        let vary = server.config.compress && length >= HTTPServerCompression.minimumLength && isCompressible(b.type)
        // A body that may be compressed for this request goes through the compressor.
        if vary && acceptEncoding { return false }
        if checkedThisRead != b.stamp {
            guard HTTPStaticFiles.stamp(b.real) == b.stamp else { return false }
            checkedThisRead = b.stamp
        }
        let head: HPACKHeaders
        if let k = caches.http2Head, k.second == now, k.stamp == b.stamp, k.real == b.real, k.vary == vary {
            head = k.headers
        } else {
            if now != caches.dateCache.second { caches.dateCache = (now, HTTPStaticFiles.httpDate(now)) }
            if caches.lastModifiedCache.mtime != b.mtime { caches.lastModifiedCache = (b.mtime, HTTPStaticFiles.httpDate(b.mtime)) }
            var fields: [(String, String)] = [
                (":status", "200"), ("server", "NetScript"), ("date", caches.dateCache.text), ("content-type", b.type),
                ("last-modified", caches.lastModifiedCache.text), ("accept-ranges", "bytes"),
            ]
            if vary { fields.append(("vary", "Accept-Encoding")) }
            fields.append(("content-length", String(length)))
            head = HPACKHeaders(fields)
            caches.http2Head = (now, b.stamp, b.real, vary, head)
        }
        let isHead = method == "HEAD"
        context.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: .headers(.init(headers: head, endStream: isHead)))), promise: nil)
        if !isHead {
            context.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(b.body), endStream: true)))), promise: nil)
        }
        answered.append(id)
        pendingFlush = true
        server.completed.add(1, ordering: .relaxed)
        if server.config.accessLog {
            server.logAccess(client: client, requestLine: "\(method) \(HTTPServerConnectionHandler.printable(path)) HTTP/2.0", status: 200)
        }
        return true
    }

    /// Whether any route's pattern matches the target's path (whatever its method: the slow path
    /// answers 405 or the file as it decides).
    private func matchesRoute(_ target: String) -> Bool {
        let raw = target.firstIndex(of: "?").map { target[..<$0] } ?? Substring(target)
        guard case .success(let segs) = HTTPStaticFiles.segments(raw) else { return true }
        return server.config.routes.contains { $0.match(segs) != nil }
    }

    private func isCompressible(_ type: String) -> Bool {
        if caches.compressibleMemo.type == type { return caches.compressibleMemo.yes }
        let yes = HTTPServerCompression.isCompressible(type)
        caches.compressibleMemo = (type, yes)
        return yes
    }
}
