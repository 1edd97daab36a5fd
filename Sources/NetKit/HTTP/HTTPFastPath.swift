import Foundation
import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#endif

// The plain-HTTP path: an `http://` request with no proxy is sent on the calling thread over a
// StreamConnection (direct system calls), with its response read and parsed here, and the
// connection kept for the next request to the same host and port. The interpreter waits for one
// request at a time, so going through AsyncHTTPClient's event loop costs two thread hops and
// its per-request machinery for nothing. The request head, the transcript lines, the errors and
// the body decoding are those of the AsyncHTTPClient path (HTTPClient.swift), which still takes
// HTTPS, proxies and requests it would refuse.

/// Idle keep-alive connections of the plain-HTTP path, by host and port: a session has its
/// own; one-off requests share `HTTPConnectionPool.shared` (as they share AsyncHTTPClient's).
/// A connection is taken out while in use, so a pool may be used from several threads.
public final class HTTPConnectionPool: @unchecked Sendable {
    /// The pool of requests made without a session.
    public static let shared = HTTPConnectionPool()
    /// Connections idle longer than this are closed rather than reused (AsyncHTTPClient's setting).
    static let idleTimeout: UInt64 = 60_000_000_000
    let perHost = 8
    let total = 32
    private let lock = NSLock()
    /// Oldest first.
    private var idle: [HTTPWire] = []

    /// An empty pool, for a session of its own; idle connections are closed when it is released.
    public init() {}
    deinit { for w in idle { w.close() } }

    /// How many idle connections the pool holds.
    public var idleCount: Int { lock.lock(); defer { lock.unlock() }; return idle.count }

    /// Closes every idle connection.
    public func closeAll() {
        lock.lock(); let all = idle; idle.removeAll(); lock.unlock()
        for w in all { w.close() }
    }

    /// The most recently used idle connection to `key` that the server has not closed, or nil.
    func take(_ key: String) -> HTTPWire? {
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            var found: HTTPWire?
            var expired: [HTTPWire] = []
            lock.lock()
            var i = idle.count - 1
            while i >= 0 {
                let w = idle[i]
                if now &- w.idleSince > HTTPConnectionPool.idleTimeout {
                    expired.append(w); idle.remove(at: i)
                } else if found == nil && w.key == key {
                    found = w; idle.remove(at: i)
                }
                i -= 1
            }
            lock.unlock()
            for w in expired { w.close() }
            guard let w = found else { return nil }
            if w.isQuiet { return w }
            // The server closed it (or sent something unasked) while it was idle: not usable.
            w.close()
        }
    }

    /// Keeps a connection whose last response ended cleanly.
    func put(_ w: HTTPWire) {
        w.idleSince = DispatchTime.now().uptimeNanoseconds
        var evicted: [HTTPWire] = []
        lock.lock()
        idle.append(w)
        if idle.lazy.filter({ $0.key == w.key }).count > perHost, let i = idle.firstIndex(where: { $0.key == w.key }) {
            evicted.append(idle.remove(at: i))
        }
        if idle.count > total { evicted.append(idle.removeFirst()) }
        lock.unlock()
        for e in evicted { e.close() }
    }
}

/// Why a read on a wire stopped.
enum HTTPWireFailure: Error {
    case timeout
    case interrupted
    case system(Int32)
}

/// One plain TCP connection of the HTTP path and the bytes read from it but not yet parsed.
/// Reads go from the connection's byte stream (a direct socket: `recv` calls) straight into
/// this buffer, in slices of at most 100 ms so the cancel check and the timeout are honoured.
final class HTTPWire {
    let conn: StreamConnection
    let stream: any ByteStream
    let key: String
    var idleSince: UInt64 = 0
    private(set) var buf: UnsafeMutableRawPointer
    private(set) var cap: Int
    private(set) var start = 0
    private(set) var end = 0
    private var closed = false

    init(conn: StreamConnection, key: String) {
        self.conn = conn; self.stream = conn.stream; self.key = key
        cap = 65536
        buf = UnsafeMutableRawPointer.allocate(byteCount: cap, alignment: 16)
    }
    deinit {
        buf.deallocate()
        if !closed { conn.abandon() }
    }

    var count: Int { end - start }
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: buf + start, count: end - start) }

    func consume(_ n: Int) {
        start += n
        if start >= end { start = 0; end = 0 }
    }

    /// Makes room for at least `want` more bytes after what is buffered.
    private func reserve(_ want: Int) {
        if cap - end >= want { return }
        if start > 0 {
            memmove(buf, buf + start, end - start)
            end -= start; start = 0
            if cap - end >= want { return }
        }
        let newCap = max(cap * 2, end + want)
        let nb = UnsafeMutableRawPointer.allocate(byteCount: newCap, alignment: 16)
        nb.copyMemory(from: buf, byteCount: end)
        buf.deallocate()
        buf = nb; cap = newCap
    }

    /// Whether nothing is waiting to be read and the peer has not closed: a pooled connection
    /// is only reused when quiet.
    var isQuiet: Bool {
        if count > 0 || closed { return false }
        return !stream.hasInput
    }

    /// Reads once, at most `upTo` bytes (less when the buffer has less room and holds data).
    /// Returns how many arrived; 0 at end of stream. Waits at most `timeout` seconds.
    func fill(timeout: Double, cancel: CancelCheck?, upTo: Int = 65536) throws -> Int {
        reserve(min(upTo, 16384))
        if count == 0 && cap - end < upTo && cap < upTo { reserve(upTo) }
        let room = UnsafeMutableRawBufferPointer(start: buf + end, count: cap - end)
        let deadline = Date(timeIntervalSinceNow: max(0.001, timeout))
        while true {
            if cancel?() == true { throw HTTPWireFailure.interrupted }
            if Date() >= deadline { throw HTTPWireFailure.timeout }
            let got: ByteStreamRead
            do { got = try stream.readSome(into: room, deadline: deadline) }
            catch let e as SocketError { if let c = e.code { throw HTTPWireFailure.system(c) }; throw e }
            switch got {
            case .data(let n):
                // --record: what the response brought, as the connection's own reads record it.
                if let id = conn.wireID { WireRecorder.shared?.event(id, "recv", Array(UnsafeRawBufferPointer(start: buf + end, count: n))) }
                end += n
                return n
            case .end: return 0
            case .nothing: continue
            }
        }
    }

    func close() {
        if closed { return }
        closed = true
        conn.abandon()
    }
}

/// What the plain-HTTP path sends for one request.
struct HTTPFastPlan {
    /// `HOST:PORT` to connect to, and the pool key.
    var address: String
    var target: String
    var headers: [(String, String)]
    var closeAfter: Bool

    /// The request as AsyncHTTPClient would send it, or nil when it is not a plain-HTTP
    /// request this path takes (HTTPS, a proxy, or something AsyncHTTPClient refuses or
    /// treats specially: invalid header names or values, TRACE with a body, an Upgrade).
    static func make(_ spec: HTTPRequestSpec, url: URL, headers given: [(String, String)]) -> HTTPFastPlan? {
        guard url.scheme?.lowercased() == "http", var host = url.host, !host.isEmpty,
              !HTTPClientSupport.proxyConfigured || HTTPClientSupport.proxy(for: url) == nil else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = url.port ?? 80
        guard port > 0 && port < 65536 else { return nil }
        // AsyncHTTPClient's connection target: an IPv6 literal is written in brackets.
        let serialized = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        let bodyLength = spec.body?.count ?? 0
        if spec.method == "TRACE" && bodyLength > 0 { return nil }
        var headers: [(String, String)] = []
        headers.reserveCapacity(given.count + 2)
        var hasHost = false, closeAfter = false
        for (k, v) in given {
            guard validName(k), validValue(v) else { return nil }
            if HTTPClientSupport.nameIs(k, "upgrade") { return nil }
            if HTTPClientSupport.nameIs(k, "content-length") || HTTPClientSupport.nameIs(k, "transfer-encoding") { continue }
            if HTTPClientSupport.nameIs(k, "host") { hasHost = true }
            if HTTPClientSupport.nameIs(k, "connection") {
                if HTTPClientSupport.headerTokens(v).contains("close") { closeAfter = true }
            }
            headers.append((k, v))
        }
        if !hasHost { headers.append(("host", port == 80 ? serialized : "\(serialized):\(port)")) }
        if bodyLength > 0 {
            headers.append(("Content-Length", String(bodyLength)))
        } else if !["GET", "HEAD", "DELETE", "CONNECT", "TRACE"].contains(spec.method) {
            headers.append(("Content-Length", "0"))
        }
        // The path and query as written (the URL was %-encoded by `requoteURL` already).
        let path = url.path(percentEncoded: true)
        var target = path.isEmpty ? "/" : path
        if let q = url.query(percentEncoded: true) { target += "?" + q }
        return HTTPFastPlan(address: "\(serialized):\(port)", target: target, headers: headers, closeAfter: closeAfter)
    }

    /// A token, as AsyncHTTPClient checks header names.
    static func validName(_ s: String) -> Bool {
        if s.isEmpty { return false }
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
                 UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
                 UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
                continue
            default: return false
            }
        }
        return true
    }

    /// No control characters but tab, as AsyncHTTPClient checks header values.
    static func validValue(_ s: String) -> Bool {
        s.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }

    /// The request head on the wire.
    func headBytes(method: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out += method.utf8; out.append(0x20); out += target.utf8; out += " HTTP/1.1\r\n".utf8
        for (k, v) in headers { out += k.utf8; out += ": ".utf8; out += v.utf8; out += "\r\n".utf8 }
        out += "\r\n".utf8
        return out
    }
}

/// A response head as parsed from the wire.
struct HTTPParsedHead {
    var major: Int
    var minor: Int
    var status: Int
    var headers: [(String, String)]
}

/// Where the search for the end of a response head got to.
struct HTTPHeadScan {
    var from = -1
    var lineStart = 0
    var next = 0
    var lines: [(Int, Int)] = []
}

/// The request was not taken by the server: its kept-alive connection had been closed. Sent
/// again once, on a new connection.
private struct HTTPStaleConnection: Error {}

extension HTTPAgent {
    static let maxHeadBytes = 80 * 1024

    /// One request and its response on the plain-HTTP path.
    func fastOnce(_ spec: HTTPRequestSpec, plan: HTTPFastPlan, sink: Int32?,
                  progress: ((Int, Int?) -> Void)?) throws -> HTTPResponseData {
        let started = DispatchTime.now().uptimeNanoseconds
        var fresh = false
        while true {
            var wire: HTTPWire? = fresh ? nil : pool.take(plan.address)
            let reused = wire != nil
            if wire == nil {
                do {
                    let c = try StreamConnection.connect(plan.address, timeout: spec.waitLimit(), tls: nil, transcript: nil, cancel: cancel)
                    wire = HTTPWire(conn: c, key: plan.address)
                } catch {
                    throw fastFailure(error, spec, phase: "no response", received: nil)
                }
            }
            if reused, let t = transcript { let address = plan.address; t.record("http", .note) { HTTPAgent.reuseNote(address) } }
            do {
                var r = try exchange(spec, plan: plan, wire: wire!, reused: reused, sink: sink, progress: progress)
                r.elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                return r
            } catch is HTTPStaleConnection {
                wire!.close()
                fresh = true
                transcript?.record("http", .note, "the kept-alive connection to \(plan.address) had been closed by the server; sending again on a new connection")
            }
        }
    }

    /// Sends the request on `wire` and reads the response. The wire goes back to the pool when
    /// the response ended cleanly and both sides keep the connection; otherwise it is closed.
    private func exchange(_ spec: HTTPRequestSpec, plan: HTTPFastPlan, wire: HTTPWire, reused: Bool, sink given: Int32?,
                          progress: ((Int, Int?) -> Void)?) throws -> HTTPResponseData {
        let idempotent = HTTPAgent.idempotent.contains(spec.method)
        wire.conn.cancel = cancel
        var head: HTTPParsedHead? = nil
        var received = 0
        var keep = false
        defer { if keep { pool.put(wire) } else { wire.close() } }
        func phase() -> String {
            head == nil ? "no response" : "the body stalled after \(HTTPClientSupport.grouped(received)) bytes"
        }
        func failed(_ error: Error) -> HTTPClientFailure {
            fastFailure(error, spec, phase: phase(), received: head == nil ? nil : received)
        }

        // The request: head and a small body in one send.
        if let t = transcript {
            let line = "\(spec.method) \(plan.target) HTTP/1.1", headers = plan.headers
            t.record("http", .client) { HTTPExchange.renderRequestHead(line, headers) }
            if let b = spec.body, !b.isEmpty { t.record("http", .client, "… \(HTTPClientSupport.grouped(b.count)) bytes") }
        }
        var first = plan.headBytes(method: spec.method)
        let body = spec.body ?? []
        let inline = body.count <= 65536
        if inline { first += body }
        var written = false
        do {
            try wire.conn.send(first, timeout: spec.waitLimit())
            written = true
            if !inline {
                var off = 0
                while off < body.count {
                    let n = min(1 << 20, body.count - off)
                    try wire.conn.send(Array(body[off..<(off + n)]), timeout: spec.waitLimit())
                    off += n
                }
            }
        } catch let e as SocketError where reused && !written && [.reset, .closed].contains(e.kind) {
            throw HTTPStaleConnection()
        } catch {
            throw failed(error)
        }

        // The head, skipping 1xx interim responses.
        var gotAny = false
        var scan = HTTPHeadScan()
        while head == nil {
            let parsed: HTTPParsedHead?
            do { parsed = try parseHead(wire, &scan) } catch { throw failed(error) }
            if let h = parsed {
                if h.status >= 100 && h.status < 200 && h.status != 101 { continue }
                head = h
                break
            }
            let n: Int
            do {
                n = try wire.fill(timeout: spec.waitLimit(), cancel: cancel)
            } catch HTTPWireFailure.system(let code) where reused && !gotAny && idempotent && (code == ECONNRESET || code == EPIPE) {
                throw HTTPStaleConnection()
            } catch {
                throw failed(error)
            }
            if n == 0 {
                if reused && !gotAny && (idempotent || !written) { throw HTTPStaleConnection() }
                throw failed(HTTPParserError.invalidEOFState)
            }
            gotAny = true
        }
        let h = head!
        let version = HTTPVersion(major: h.major, minor: h.minor)
        let status = HTTPResponseStatus(statusCode: h.status)
        if let t = transcript {
            let first = "\(version) \(status.code) \(status.reasonPhrase)"
            let hs = h.headers
            t.record("http", .server) { ([first] + hs.map { "\($0.0): \($0.1)" }).joined(separator: "\n") }
        }

        // How the body is delimited.
        var contentLength: Int? = nil
        var chunked = false
        var hasEncoding = false
        var contentEncoding: String? = nil
        var connectionTokens: [String] = []
        var hasLocation = false
        do {
            var transferEncoding: String? = nil
            for (k, v) in h.headers {
                switch k.lowercased() {
                case "content-length":
                    guard !v.isEmpty, v.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(v) else { throw HTTPParserError.invalidContentLength }
                    if let c = contentLength, c != n { throw HTTPParserError.unexpectedContentLength }
                    contentLength = n
                case "transfer-encoding": transferEncoding = transferEncoding.map { $0 + ", " + v } ?? v
                case "content-encoding": hasEncoding = true; contentEncoding = v
                case "connection": connectionTokens += HTTPClientSupport.headerTokens(v)
                case "location": hasLocation = true
                default: break
                }
            }
            if let te = transferEncoding {
                if contentLength != nil { throw HTTPParserError.unexpectedContentLength }
                chunked = HTTPClientSupport.headerTokens(te).last == "chunked"
            }
        } catch {
            throw failed(error)
        }
        let bodiless = spec.method == "HEAD" || h.status == 204 || h.status == 304 || h.status == 101
        let expected = hasEncoding ? nil : contentLength
        // A redirect that will be followed, or an error page, is not what a download wants on disk.
        var sink = given
        if sink != nil && ((spec.followRedirects && [301, 302, 303, 307, 308].contains(h.status) && hasLocation) || h.status >= 400) {
            sink = nil
        }

        // The body, decoded as AsyncHTTPClient decodes it.
        var bodyBytes: [UInt8] = []
        if sink == nil, !bodiless, !hasEncoding, let n = contentLength { bodyBytes.reserveCapacity(min(n, spec.maxBody + 1, 16 << 20)) }
        var decoder: HTTPContentDecoder? = nil
        var lastProgress = DispatchTime.now().uptimeNanoseconds
        func store(_ p: UnsafeRawBufferPointer) throws {
            received += p.count
            if let fd = sink {
                try HTTPClientSupport.writeBody(fd, p, received: received, spec)
                return
            }
            if received > spec.maxBody {
                throw HTTPClientFailure(.value, "\(spec.method) \(spec.url): the body is larger than max: \(HTTPClientSupport.grouped(spec.maxBody)) bytes", url: spec.url)
            }
            bodyBytes.append(contentsOf: p)
        }
        func deliver(_ n: Int) throws {
            guard n > 0 else { return }
            let p = UnsafeRawBufferPointer(rebasing: wire.bytes[0..<n])
            if let d = decoder { try d.feed(p, store) } else { try store(p) }
            wire.consume(n)
        }
        /// Reads more; false at end of stream.
        func more(_ upTo: Int) throws -> Bool {
            if let progress {
                let now = DispatchTime.now().uptimeNanoseconds
                if now - lastProgress >= 100_000_000 { lastProgress = now; progress(received, expected) }
            }
            return try wire.fill(timeout: spec.waitLimit(), cancel: cancel, upTo: upTo) > 0
        }
        let big = sink != nil || (contentLength ?? 0) > 1 << 20 ? 1 << 20 : 65536
        var delimited = true
        do {
            if !bodiless {
                decoder = HTTPContentDecoder(contentEncoding: contentEncoding)
                if chunked {
                    try readChunked(wire, deliver: deliver, more: more)
                } else if let n = contentLength {
                    var left = n
                    while left > 0 {
                        if wire.count == 0, try !more(min(left, big)) { throw HTTPParserError.invalidEOFState }
                        let k = min(left, wire.count)
                        try deliver(k)
                        left -= k
                    }
                } else {
                    delimited = false
                    while true {
                        if wire.count > 0 { try deliver(wire.count) }
                        if !(try more(big)) { break }
                    }
                }
                try decoder?.finish(store)
            }
        } catch {
            throw failed(error)
        }
        decoder = nil
        progress?(received, expected)
        if let t = transcript, spec.method != "HEAD", received > 0 {
            let n = received
            t.record("http", .server) { "… \(HTTPClientSupport.grouped(n)) bytes" }
        }
        let keepAlive = h.major == 1 && (h.minor >= 1 ? !connectionTokens.contains("close") : connectionTokens.contains("keep-alive"))
        keep = delimited && keepAlive && !plan.closeAfter && h.status != 101 && wire.count == 0
        return HTTPResponseData(method: spec.method, status: h.status, reason: status.reasonPhrase, version: "\(version)",
                                headers: h.headers, body: bodyBytes, bodySize: received, url: spec.url, elapsed: 0,
                                history: [], setCookies: [])
    }

    /// A chunked body: each chunk's data is delivered; extensions and trailers are read and dropped.
    private func readChunked(_ wire: HTTPWire, deliver: (Int) throws -> Void, more: (Int) throws -> Bool) throws {
        /// One line (without CR LF), consumed; at most `limit` bytes.
        func line(_ limit: Int, _ tooLong: HTTPParserError) throws -> [UInt8] {
            var scanned = 0
            while true {
                let b = wire.bytes
                if let i = b[scanned...].firstIndex(of: 0x0A) {
                    var e = i
                    if e > 0 && b[e - 1] == 0x0D { e -= 1 }
                    let out = Array(b[0..<e])
                    wire.consume(i + 1)
                    return out
                }
                scanned = b.count
                if scanned > limit { throw tooLong }
                if !(try more(65536)) { throw HTTPParserError.invalidEOFState }
            }
        }
        while true {
            let sizeLine = try line(4096, .invalidChunkSize)
            var size = 0, digits = 0
            for c in sizeLine {
                let v: Int
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): v = Int(c) - 48
                case UInt8(ascii: "a")...UInt8(ascii: "f"): v = Int(c) - 87
                case UInt8(ascii: "A")...UInt8(ascii: "F"): v = Int(c) - 55
                case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"): v = -1
                default: throw HTTPParserError.invalidChunkSize
                }
                if v < 0 { break }
                guard digits < 15 else { throw HTTPParserError.invalidChunkSize }
                size = size * 16 + v; digits += 1
            }
            if digits == 0 { throw HTTPParserError.invalidChunkSize }
            if size == 0 {
                // Trailers, up to an empty line; bounded like a head.
                var total = 0
                while true {
                    let t = try line(HTTPAgent.maxHeadBytes, .headerOverflow)
                    if t.isEmpty { return }
                    total += t.count
                    if total > HTTPAgent.maxHeadBytes { throw HTTPParserError.headerOverflow }
                }
            }
            var left = size
            while left > 0 {
                if wire.count == 0, try !more(min(left, 1 << 20)) { throw HTTPParserError.invalidEOFState }
                let k = min(left, wire.count)
                try deliver(k)
                left -= k
            }
            if !(try line(2, .invalidChunkSize)).isEmpty { throw HTTPParserError.invalidChunkSize }
        }
    }

    /// A complete response head from the wire's buffer (consumed), or nil when more bytes are
    /// needed. `scan` carries the lines found so far from one call to the next (offsets from
    /// the start of the unread bytes), so a head that arrives a byte at a time is not rescanned.
    /// Errors are NIO's parser errors, so they read as on the AsyncHTTPClient path.
    private func parseHead(_ wire: HTTPWire, _ scan: inout HTTPHeadScan) throws -> HTTPParsedHead? {
        let b = wire.bytes
        if scan.from < 0 {
            // Blank lines before the status line are skipped.
            var from = 0
            while from < b.count && (b[from] == 0x0D || b[from] == 0x0A) { from += 1 }
            if from == b.count { wire.consume(from); return nil }
            scan.from = from; scan.lineStart = from; scan.next = from
        }
        let from = scan.from
        // Find the empty line that ends the head.
        var endOfHead = -1
        while scan.next < b.count {
            guard let hit = memchr(b.baseAddress! + scan.next, 0x0A, b.count - scan.next) else { scan.next = b.count; break }
            let nl = b.baseAddress!.distance(to: UnsafeRawPointer(hit))
            var e = nl
            if e > scan.lineStart && b[e - 1] == 0x0D { e -= 1 }
            scan.next = nl + 1
            if e == scan.lineStart { endOfHead = nl + 1; break }
            scan.lines.append((scan.lineStart, e))
            scan.lineStart = nl + 1
        }
        if endOfHead < 0 {
            if b.count - from > HTTPAgent.maxHeadBytes + 8192 { throw HTTPParserError.headerOverflow }
            return nil
        }
        let lines = scan.lines
        scan = HTTPHeadScan()
        guard let statusLine = lines.first else { throw HTTPParserError.invalidConstant }
        // HTTP/x.y NNN [reason]
        let s = statusLine.0, e = statusLine.1
        func at(_ k: Int) -> UInt8 { s + k < e ? b[s + k] : 0 }
        guard e - s >= 12, at(0) == 0x48, at(1) == 0x54, at(2) == 0x54, at(3) == 0x50, at(4) == 0x2F else { throw HTTPParserError.invalidConstant }
        func digit(_ c: UInt8) -> Int? { c >= 0x30 && c <= 0x39 ? Int(c) - 48 : nil }
        guard let major = digit(at(5)), at(6) == 0x2E, let minor = digit(at(7)), at(8) == 0x20 else { throw HTTPParserError.invalidVersion }
        guard let d1 = digit(at(9)), let d2 = digit(at(10)), let d3 = digit(at(11)), e - s == 12 || at(12) == 0x20 else { throw HTTPParserError.invalidStatus }
        let code = d1 * 100 + d2 * 10 + d3
        guard code >= 100 else { throw HTTPParserError.invalidStatus }
        var headers: [(String, String)] = []
        headers.reserveCapacity(lines.count - 1)
        var total = 0
        for (ls, le) in lines.dropFirst() {
            guard let colon = b[ls..<le].firstIndex(of: 0x3A), colon > ls else { throw HTTPParserError.invalidHeaderToken }
            for k in ls..<colon where !HTTPAgent.tokenByte(b[k]) { throw HTTPParserError.invalidHeaderToken }
            var vs = colon + 1, ve = le
            while vs < ve && (b[vs] == 0x20 || b[vs] == 0x09) { vs += 1 }
            while ve > vs && (b[ve - 1] == 0x20 || b[ve - 1] == 0x09) { ve -= 1 }
            total += (colon - ls) + (ve - vs)
            if total > HTTPAgent.maxHeadBytes { throw HTTPParserError.headerOverflow }
            headers.append((String(decoding: UnsafeRawBufferPointer(rebasing: b[ls..<colon]), as: UTF8.self),
                            String(decoding: UnsafeRawBufferPointer(rebasing: b[vs..<ve]), as: UTF8.self)))
        }
        wire.consume(endOfHead)
        return HTTPParsedHead(major: major, minor: minor, status: code, headers: headers)
    }

    static func tokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }

    /// A failure of the plain-HTTP path as the AsyncHTTPClient path names it.
    private func fastFailure(_ error: Error, _ spec: HTTPRequestSpec, phase: String, received: Int?) -> HTTPClientFailure {
        let what = "\(spec.method) \(spec.url)"
        func timedOut() -> HTTPClientFailure {
            if spec.deadlinePassed {
                transcript?.record("http", .note, "deadline of \(HTTPClientSupport.formatSeconds(spec.deadline ?? 0)) passed")
                return spec.deadlineFailure(received: received)
            }
            transcript?.record("http", .note, "timed out after \(spec.timeout) s: \(phase)")
            return HTTPClientFailure(.timeout, "\(what): timed out after \(HTTPClientSupport.formatSeconds(spec.timeout)) (\(phase))", url: spec.url)
        }
        switch error {
        case let e as HTTPClientFailure: return e
        case HTTPWireFailure.timeout: return timedOut()
        case HTTPWireFailure.interrupted: return HTTPClientFailure(.interrupted, "\(what): interrupted", url: spec.url)
        case HTTPWireFailure.system(let code):
            return HTTPClientFailure.from(IOError(errnoCode: code, reason: "recv"), method: spec.method, url: spec.url)
        case let s as SocketError:
            switch s.kind {
            case .timeout: return timedOut()
            case .interrupted: return HTTPClientFailure(.interrupted, "\(what): interrupted", url: spec.url)
            case .resolve:
                let host = URL(string: spec.url)?.host ?? s.address
                return HTTPClientFailure(.resolve, "\(what): cannot resolve the host name (\(host))", url: spec.url)
            default:
                // "connect 127.0.0.1:1: connection refused" → "GET URL: connection refused"
                var detail = s.message
                if !s.address.isEmpty, let r = s.message.range(of: s.address + ": ") { detail = String(s.message[r.upperBound...]) }
                return HTTPClientFailure.from(SocketError(s.kind, detail, address: s.address), method: spec.method, url: spec.url)
            }
        default:
            return HTTPClientFailure.from(error, method: spec.method, url: spec.url)
        }
    }
}
