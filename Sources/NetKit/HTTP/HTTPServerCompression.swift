import NIOCore
import NIOHTTP1
import NIOHTTPCompression

/// Response compression for `serve http`, done by NIOHTTPCompression's HTTPResponseCompressor
/// (gzip, or deflate when the client prefers it; no brotli: nothing in the dependency graph
/// provides it). The connection handler decides which responses may be compressed — a 200 to
/// a GET whose body is in memory, of a compressible type, at least `minimumLength` bytes, when
/// the request's Accept-Encoding allows gzip or deflate; never a range, a 304 or an
/// already-compressed type — and marks their heads; the compressor's predicate compresses only
/// marked heads and removes the mark. Every response of a compressible type says
/// `Vary: Accept-Encoding`, compressed or not, so a cache keeps the two apart.
enum HTTPServerCompression {
    /// A header no response leaves with: set by the connection handler, removed by the predicate.
    static let marker = "x-netscript-compress"
    /// Smaller bodies gain nothing (the gzip header and trailer alone are 18 bytes).
    static let minimumLength = 256
    /// Files larger than this are sent as they are (a compressed body is made in memory whole).
    static let maximumFileLength = 8 << 20

    /// Text and the structured formats that compress well; images, archives, audio, video and
    /// fonts other than SVG are compressed already.
    static func isCompressible(_ contentType: String) -> Bool {
        let t = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if t.hasPrefix("text/") { return true }
        switch t {
        case "application/json", "application/javascript", "application/xml", "application/xhtml+xml", "application/rss+xml",
             "application/atom+xml", "application/ld+json", "application/manifest+json", "application/x-javascript",
             "application/wasm", "image/svg+xml", "application/x-sh", "application/x-tex", "application/rtf",
             "application/x-yaml", "application/yaml", "application/toml", "application/sql", "application/x-ndjson",
             "application/geo+json", "image/x-icon", "image/vnd.microsoft.icon", "application/vnd.ms-fontobject", "font/ttf", "font/otf":
            return true
        default:
            return false
        }
    }

    /// Whether Accept-Encoding allows gzip or deflate (a `q=0` refuses), as the compressor reads it.
    static func accepts(_ headers: HTTPHeaders) -> Bool {
        let q = qValues(headers)
        return q.gzip > 0 || q.deflate > 0 || (q.gzip < 0 && q.deflate < 0 && q.any > 0)
    }

    /// The q-values of gzip, deflate and `*` in Accept-Encoding (-1: not named).
    static func qValues(_ headers: HTTPHeaders) -> (gzip: Double, deflate: Double, any: Double) {
        var out: (gzip: Double, deflate: Double, any: Double) = (-1, -1, -1)
        for value in headers[canonicalForm: "accept-encoding"] {
            let parts = value.split(separator: ";")
            let coding = parts.first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            var q: Double = 1
            for p in parts.dropFirst() {
                let kv = p.trimmingCharacters(in: .whitespaces)
                if kv.hasPrefix("q=") { q = Double(kv.dropFirst(2)) ?? 0 }
            }
            switch coding {
            case "gzip", "x-gzip": out.gzip = q
            case "deflate": out.deflate = q
            case "*": out.any = q
            default: break
            }
        }
        return out
    }

    /// The compressor for one connection (or one HTTP/2 stream).
    static func makeCompressor() -> HTTPResponseCompressor {
        HTTPResponseCompressor(initialByteBufferCapacity: 0) { head, _ in
            guard head.headers.contains(name: marker) else { return .doNotCompress }
            head.headers.remove(name: marker)
            return .compressIfPossible
        }
    }
}

/// Makes the compressor choose gzip, as nginx and every browser-facing server does, whenever the
/// client takes gzip at least as gladly as deflate (NIO's compressor picks deflate on a tie, and
/// curl, browsers and most clients offer both at q=1). The compressor reads the request's
/// Accept-Encoding, so this rewrites it to `gzip` before the compressor and keeps the original
/// in a stash header that the connection handler puts back: routes see the header as sent.
final class HTTPGzipPreference: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    static let stash = "x-netscript-accept-encoding"

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data), head.headers.contains(name: "accept-encoding") else {
            context.fireChannelRead(data)
            return
        }
        let q = HTTPServerCompression.qValues(head.headers)
        if q.gzip > 0 && q.gzip >= q.deflate {
            let original = head.headers[canonicalForm: "accept-encoding"].joined(separator: ", ")
            head.headers.remove(name: Self.stash)
            head.headers.replaceOrAdd(name: "accept-encoding", value: "gzip")
            head.headers.add(name: Self.stash, value: original)
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// The request head as the client sent it (the stash put back).
    static func restore(_ head: HTTPRequestHead) -> HTTPRequestHead {
        guard let original = head.headers.first(name: stash) else { return head }
        var h = head
        h.headers.remove(name: stash)
        h.headers.replaceOrAdd(name: "accept-encoding", value: original)
        return h
    }
}

/// Adds the compression handlers to an HTTP/1 connection when the first request that names an
/// Accept-Encoding arrives, then steps aside: a client that never asks for compression (wrk,
/// most API clients) keeps the pipeline `serve http` had without it, at no cost per request.
/// HTTPServerPipelineHandler delivers a request only once the answer before it has ended, so
/// the compressor never sees a response whose request it did not see.
final class HTTPCompressionInstaller: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    let continueWriter: HTTPContinueWriter
    init(continueWriter: HTTPContinueWriter) { self.continueWriter = continueWriter }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data), head.headers.contains(name: "accept-encoding") {
            do {
                try context.pipeline.syncOperations.addHandlers([continueWriter, HTTPGzipPreference(), HTTPServerCompression.makeCompressor()],
                                                                position: .after(self))
            } catch {
                context.fireErrorCaught(error)
                return
            }
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}

/// Sends `100 Continue` below the compressor: the compressor pairs each response head with a
/// request's Accept-Encoding, one for one, so an interim head must not pass through it.
final class HTTPContinueWriter: ChannelOutboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart
    private var context: ChannelHandlerContext?
    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }
    /// Whether it is in the pipeline (the compressor is then above it).
    var isInstalled: Bool { context != nil }
    func sendContinue(_ version: HTTPVersion) {
        context?.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .continue))), promise: nil)
    }
}
