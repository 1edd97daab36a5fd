import Foundation
import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One request as the caller describes it. Redirects, cookies and retries are done here (not
/// by AsyncHTTPClient) so that every hop is traced and kept in `history`.
public struct HTTPRequestSpec: Sendable {
    /// The method (`GET`, `POST`…), upper-cased by `init`.
    public var method: String
    /// An absolute `http://` or `https://` URL; raw characters are %-encoded when sent, escapes
    /// already there are kept. CR or LF in it is an `http.value` error.
    public var url: String
    /// In order; names as given (HTTP/1 sends them so).
    public var headers: [(String, String)]
    /// The request body; nil sends none.
    public var body: [UInt8]?
    /// Seconds allowed for connecting and between any two reads or writes.
    public var timeout: Double = 30
    /// Seconds allowed for the whole request: connecting, every redirect and retry, and the
    /// whole body (a server dripping bytes never lets `timeout` fire). nil for no limit.
    public var deadline: Double? = HTTPRequestSpec.defaultDeadline
    /// The deadline a request has unless told otherwise: 5 minutes.
    public static let defaultDeadline: Double = 300
    /// The deadline a download (a body streamed to a file) has unless told otherwise: 1 hour.
    public static let defaultDownloadDeadline: Double = 3600
    /// When the deadline passes, in uptime nanoseconds: set by `perform` from `deadline`.
    var deadlineAt: UInt64? = nil
    /// Whether 3xx responses with a Location are followed, and how many at most.
    public var followRedirects = true
    /// The most redirects followed; one more is an `http.redirects` error.
    public var maxRedirects = 30
    /// Whether an HTTPS server's certificate chain and name are checked; false accepts any certificate.
    public var verify = true
    /// A PEM file of CA certificates to trust instead of the system's; nil for the system's.
    public var caFile: String?
    /// Extra attempts for idempotent methods after a connection failure, a timeout or a 502/503/504.
    public var retries = 0
    /// The largest body kept in memory; more is an error of kind `value`.
    public var maxBody = 1 << 30
    /// The most body bytes written to a sink (a download), nil for no limit: more stops the
    /// transfer with an error of kind `value` (an endless stream otherwise never ends).
    public var maxDownload: Int? = nil
    /// Whether to ask for gzip/deflate (bodies are decompressed either way).
    public var acceptEncoding = true
    /// Cookies for this request only, sent on every hop with the jar's (a same-named jar
    /// cookie gives way); a `Cookie` header in `headers` replaces both.
    public var cookies: [(String, String)] = []

    /// A request with every option at its default: 30 s timeout, 5 min deadline, redirects followed,
    /// certificates verified, no retries, gzip/deflate asked for.
    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method.uppercased(); self.url = url; self.headers = headers; self.body = body
    }

    /// Seconds to wait for the next step: `timeout`, or what is left before the deadline when
    /// that is sooner.
    func waitLimit() -> Double {
        guard let at = deadlineAt else { return timeout }
        let now = DispatchTime.now().uptimeNanoseconds
        return now >= at ? 0.001 : min(timeout, Double(at - now) / 1e9)
    }

    /// Whether the deadline has passed.
    var deadlinePassed: Bool {
        guard let at = deadlineAt else { return false }
        return DispatchTime.now().uptimeNanoseconds >= at
    }

    /// The error for a request that ran out of its deadline; `received` is the body bytes so
    /// far, nil before the response head.
    func deadlineFailure(received: Int?) -> HTTPClientFailure {
        let seconds = HTTPClientSupport.formatSeconds(deadline ?? 0)
        let detail = received.map { "\(HTTPClientSupport.grouped($0)) bytes of the body had arrived" } ?? "no response yet"
        return HTTPClientFailure(.timeout, "\(method) \(url): not finished within deadline: \(seconds) (\(detail))", url: url)
    }
}

/// A response: the head, the body (empty when it was streamed to a file), the final URL and
/// the responses that redirected to it.
public struct HTTPResponseData: Sendable {
    /// The method of the request this answers (GET after a 303 redirect).
    public var method: String
    /// The status code (200, 404…).
    public var status: Int
    /// The reason phrase for the status (`Not Found`): the standard one for a known code.
    public var reason: String
    /// The protocol version as `HTTP/1.1` or `HTTP/2.0`.
    public var version: String
    /// The response headers in order, names as sent; a repeated header (Set-Cookie) appears once per line.
    public var headers: [(String, String)]
    /// The body, decompressed; empty when streamed to a file, for HEAD, or when there was none.
    public var body: [UInt8]
    /// How many body bytes arrived (after decompression), also when they went to a file.
    public var bodySize: Int
    /// The URL this response came from: the last one after redirects.
    public var url: String
    /// Seconds from sending the request to the end of the response.
    public var elapsed: Double
    /// The redirect responses that led here, oldest first; empty when there was no redirect.
    public var history: [HTTPResponseData]
    /// The cookies this response set, name and value.
    public var setCookies: [(String, String)]

    /// The value of the first header called `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.0.lowercased() == n }?.1
    }
    /// True for a status below 400, as requests' `ok` (a 3xx not followed counts as ok).
    public var ok: Bool { status < 400 }
}

/// A blocking HTTP client for the interpreter: plain `http://` requests without a proxy on the
/// calling thread over its pool's kept-alive connections (HTTPFastPath.swift), the rest on
/// AsyncHTTPClient over the shared event loops.
/// Every wait is bounded by `timeout` (connect, and between reads) and polls the cancel check;
/// every exchange is reported to the transcript (heads as C:/S: lines, bodies summarised,
/// Authorization masked).
public final class HTTPAgent: @unchecked Sendable {
    /// Where request and response heads (C:/S: lines) and body summaries go; nil records nothing.
    public let transcript: Transcript?
    /// Polled while waiting; when it returns true the request stops with `http.interrupted`.
    public let cancel: CancelCheck?
    /// A session's cookies; nil for one-off requests (which still keep cookies across their redirects).
    public let cookies: HTTPCookieJar?
    /// Kept-alive connections of the plain-HTTP path (a session's own, or the shared one).
    public let pool: HTTPConnectionPool

    /// An agent; `cookies` makes it a session that keeps cookies between requests, and without
    /// `pool` its plain-HTTP connections go to the process-wide shared pool.
    public init(transcript: Transcript? = nil, cancel: CancelCheck? = nil, cookies: HTTPCookieJar? = nil,
                pool: HTTPConnectionPool? = nil) {
        self.transcript = transcript; self.cancel = cancel; self.cookies = cookies
        self.pool = pool ?? .shared
    }

    // MARK: the shared AsyncHTTPClient instances

    private static let clientsLock = NSLock()
    nonisolated(unsafe) private static var clients: [String: HTTPClient] = [:]

    /// One client per proxy setting (AsyncHTTPClient takes the proxy per client), kept for the
    /// life of the process so connections are pooled and reused across requests. A verified
    /// HTTPS request gets the client for its host and port too: AsyncHTTPClient has no
    /// per-request verification hook, so the RFC 9525 identity check of TLSClientSetup runs in
    /// the client's connection initializers (after the handshake, before the connection carries
    /// a request), which must know the name asked. Its pool keys connections by host and port
    /// anyway, so nothing that could have been reused is lost.
    static func client(proxy: (host: String, port: Int, user: String?, password: String?)?,
                       checking tls: TLSClientSetup? = nil) -> HTTPClient {
        var key = proxy.map { "\($0.host):\($0.port):\($0.user ?? "")" } ?? ""
        let check = tls.flatMap { $0.options.verify ? $0 : nil }
        if let t = check { key += "|tls:\(t.asked)|\(t.shownPeer)" }
        clientsLock.lock(); defer { clientsLock.unlock() }
        if let c = clients[key] { return c }
        var cfg = HTTPClient.Configuration()
        cfg.redirectConfiguration = .disallow
        // Bodies are decoded by the agent (HTTPContentDecoder), as on the plain-HTTP path:
        // NIO's decompressor refuses raw deflate.
        cfg.decompression = .disabled
        // The agent enforces the caller's timeout itself; these only bound what it abandons.
        cfg.timeout = .init(connect: .seconds(120), read: nil)
        cfg.connectionPool.retryConnectionEstablishment = false
        cfg.connectionPool.idleTimeout = .seconds(60)
        if let p = proxy {
            let auth = p.user.map { HTTPClient.Authorization.basic(username: $0, password: p.password ?? "") }
            cfg.proxy = .server(host: p.host, port: p.port, authorization: auth)
        }
        // Larger reads than NIO's default 64 KiB ceiling: fewer trips through the pipeline for big bodies.
        cfg.http1_1ConnectionDebugInitializer = { ch in
            let larger = ch.setOption(ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16384, maximum: 1 << 20))
            guard let t = check else { return larger }
            return larger.flatMap { t.check(channel: ch) }
        }
        if let t = check { cfg.http2ConnectionDebugInitializer = { ch in t.check(channel: ch) } }
        let c = HTTPClient(eventLoopGroupProvider: .shared(SocketRuntime.group), configuration: cfg)
        clients[key] = c
        return c
    }

    // MARK: requests

    /// The one event loop every request runs on, connection and callbacks alike: the interpreter
    /// waits for one request at a time, and hops between loops would cost more than the work.
    static let loop: EventLoop = SocketRuntime.group.next()

    static let idempotent: Set<String> = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]

    /// Performs the request, following redirects as asked. With `sink`, the final body goes to
    /// that file descriptor instead of memory, and `progress` is called (on this thread, at most
    /// every 100 ms) with the bytes so far and the expected total.
    public func perform(_ spec: HTTPRequestSpec, sink: Int32? = nil,
                        progress: ((Int, Int?) -> Void)? = nil) throws -> HTTPResponseData {
        for (k, v) in spec.headers where HTTPClientSupport.hasLineBreak(k) || HTTPClientSupport.hasLineBreak(v) || k.isEmpty || k.utf8.contains(UInt8(ascii: ":")) {
            throw HTTPClientFailure(.value, "\(spec.method) \(spec.url): the header \(k.debugDescription) has a line break, a colon in its name or an empty name; nothing was sent", url: spec.url)
        }
        if HTTPClientSupport.hasLineBreak(spec.method) || spec.method.utf8.contains(UInt8(ascii: " ")) || spec.method.isEmpty {
            throw HTTPClientFailure(.value, "\(spec.method.debugDescription) \(spec.url): not a valid method; nothing was sent", url: spec.url)
        }
        var current = spec
        // A line break is refused as written (encoded, it would pass unnoticed).
        if HTTPClientSupport.hasLineBreak(spec.url) { _ = try HTTPClientSupport.validate(spec.url, method: spec.method) }
        // Raw characters are %-encoded; escapes already there are kept (as requests does).
        current.url = HTTPClientSupport.requoteURL(spec.url)
        if let d = spec.deadline {
            current.deadlineAt = DispatchTime.now().uptimeNanoseconds + UInt64(max(0.001, min(d, 1e9)) * 1e9)
        }
        let jar = cookies ?? HTTPCookieJar()
        var history: [HTTPResponseData] = []
        var visited: [String] = []
        while true {
            let url = try HTTPClientSupport.validate(current.url, method: current.method)
            var r = try performWithRetries(current, url: url, jar: jar, sink: sink, progress: progress)
            r.setCookies = jar.store(setCookie: r.headers.filter { HTTPClientSupport.nameIs($0.0, "set-cookie") }.map { $0.1 }, from: url)
            let isRedirect = [301, 302, 303, 307, 308].contains(r.status)
            guard current.followRedirects, isRedirect, let loc = r.header("location"),
                  let next = HTTPClientSupport.resolve(HTTPClientSupport.requoteURL(loc), against: current.url) else {
                r.history = history
                return r
            }
            visited.append(current.url)
            history.append(r)
            if history.count > current.maxRedirects {
                let chain = (visited + [next]).joined(separator: " → ")
                throw HTTPClientFailure(.redirects, "\(spec.method) \(visited[0]): more than \(current.maxRedirects) redirect\(current.maxRedirects == 1 ? "" : "s") (\(chain))", url: visited[0])
            }
            transcript?.record("http", .note, "redirect \(r.status) → \(next)")
            // As browsers and requests do: 303 becomes GET, and so does a POST answered by 301 or 302.
            if (r.status == 303 && current.method != "HEAD") || ((r.status == 301 || r.status == 302) && current.method == "POST") {
                current.method = "GET"
                current.body = nil
                current.headers.removeAll { ["content-type", "content-length", "transfer-encoding"].contains($0.0.lowercased()) }
            }
            // Credentials go only to the host they were given for.
            if let a = URL(string: current.url), let b = URL(string: next), a.host?.lowercased() != b.host?.lowercased() || a.port != b.port {
                current.headers.removeAll { $0.0.lowercased() == "authorization" }
            }
            current.url = next
            if current.deadlinePassed { throw current.deadlineFailure(received: nil) }
        }
    }

    private func performWithRetries(_ spec: HTTPRequestSpec, url: URL, jar: HTTPCookieJar, sink: Int32?,
                                    progress: ((Int, Int?) -> Void)?) throws -> HTTPResponseData {
        let canRetry = HTTPAgent.idempotent.contains(spec.method)
        var attempt = 0
        while true {
            do {
                if attempt > 0, let fd = sink { ftruncate(fd, 0); lseek(fd, 0, SEEK_SET) }
                let r = try once(spec, url: url, jar: jar, sink: sink, progress: progress)
                if canRetry, attempt < spec.retries, [502, 503, 504].contains(r.status) {
                    attempt += 1
                    transcript?.record("http", .note, "status \(r.status): retry \(attempt) of \(spec.retries)")
                    try backoff(attempt, spec)
                    continue
                }
                return r
            } catch let e as HTTPClientFailure where canRetry && attempt < spec.retries && !spec.deadlinePassed
                        && [.timeout, .refused, .reset, .proto, .unreachable, .io].contains(e.kind) {
                attempt += 1
                transcript?.record("http", .note, "\(e.kind.rawValue): retry \(attempt) of \(spec.retries)")
                try backoff(attempt, spec)
            }
        }
    }

    /// 0.2 s, 0.4 s, 0.8 s, … (at most 10 s), interruptible.
    private func backoff(_ attempt: Int, _ spec: HTTPRequestSpec) throws {
        let until = Date().addingTimeInterval(min(10, 0.2 * pow(2, Double(attempt - 1))))
        while Date() < until {
            if cancel?() == true { throw HTTPClientFailure(.interrupted, "\(spec.method) \(spec.url): interrupted", url: spec.url) }
            if spec.deadlinePassed { throw spec.deadlineFailure(received: nil) }
            Thread.sleep(forTimeInterval: min(0.05, max(0, until.timeIntervalSinceNow)))
        }
    }

    /// Whether plain `http://` requests without a proxy go over the agent's own connections
    /// (HTTPFastPath.swift) rather than AsyncHTTPClient.
    nonisolated(unsafe) public static var plainHTTPFastPath = true

    /// One request and its response, no redirects.
    private func once(_ spec: HTTPRequestSpec, url: URL, jar: HTTPCookieJar, sink: Int32?,
                      progress: ((Int, Int?) -> Void)?) throws -> HTTPResponseData {
        var list: [(String, String)] = []
        list.reserveCapacity(spec.headers.count + 4)
        let given = Set(spec.headers.map { $0.0.lowercased() })
        if !given.contains("user-agent") { list.append(("User-Agent", "netscript/1.0")) }
        if !given.contains("accept") { list.append(("Accept", "*/*")) }
        if spec.acceptEncoding && !given.contains("accept-encoding") { list.append(("Accept-Encoding", "gzip, deflate")) }
        list += spec.headers
        if !given.contains("cookie"), let c = jar.header(for: url, adding: spec.cookies) { list.append(("Cookie", c)) }
        if HTTPAgent.plainHTTPFastPath, let plan = HTTPFastPlan.make(spec, url: url, headers: list) {
            return try fastOnce(spec, plan: plan, sink: sink, progress: progress)
        }
        let headers = HTTPHeaders(list)
        var setup: TLSClientSetup? = nil
        if url.scheme?.lowercased() == "https" {
            // The name asked is the URL's host, as curl checks it.
            let host = url.host ?? ""
            let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            do {
                setup = try TLSClientSetup(TLSOptions(verify: spec.verify, caFile: spec.caFile), host: host,
                                           shownPeer: "\(shownHost):\(url.port ?? 443)")
            } catch {
                throw HTTPClientFailure(.tls, "\(spec.method) \(spec.url): \(TLSClientSetup.reason(error, setup: nil, observer: nil))", url: spec.url)
            }
        }
        let tls = setup?.configuration
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: spec.url, method: HTTPMethod(rawValue: spec.method), headers: headers,
                                             body: spec.body.map { .bytes($0) }, tlsConfiguration: tls)
        } catch {
            throw HTTPClientFailure.from(error, method: spec.method, url: spec.url)
        }
        let proxy = HTTPClientSupport.proxy(for: url)
        let client = HTTPAgent.client(proxy: proxy, checking: setup)
        let exchange = HTTPExchange(spec: spec, sink: sink, transcript: transcript)
        exchange.tls = setup
        let started = DispatchTime.now().uptimeNanoseconds
        // Tracing: AsyncHTTPClient's request log names the pooled connection the request goes on.
        let logger = transcript == nil ? nil : Logger(label: "netscript.http") { _ in
            HTTPConnectionSniffer(client: ObjectIdentifier(client), exchange: exchange)
        }
        let task = client.execute(request: request, delegate: exchange, eventLoop: .delegateAndChannel(on: HTTPAgent.loop),
                                  logger: logger)
        task.futureResult.whenComplete { result in exchange.complete(result) }
        do {
            try exchange.wait(task: task, cancel: cancel, progress: progress)
        } catch let f as HTTPClientFailure where f.tlsChainRefused && proxy == nil {
            // BoringSSL says only "verify failed" and AsyncHTTPClient hides the certificate:
            // a second handshake of our own (no request sent) tells why.
            guard let s = setup, let why = s.explainRefusedChain(at: "\(s.shownPeer)", timeout: min(spec.timeout, 10)) else { throw f }
            throw HTTPClientFailure(.tls, "\(spec.method) \(spec.url): TLS handshake failed: \(why)", url: spec.url)
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return exchange.response(elapsed: elapsed)
    }
}

/// The state of one exchange, shared by the event loop (the delegate callbacks) and the
/// waiting caller.
final class HTTPExchange: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void

    let cond = NSCondition()
    let spec: HTTPRequestSpec
    let transcript: Transcript?
    /// For HTTPS: the set-up whose identity check and wording a TLS failure uses.
    var tls: TLSClientSetup?
    var sink: Int32?
    var head: HTTPResponseHead?
    var body = ByteBuffer()
    var received = 0
    /// Decodes a gzip or deflate body; nil when the body is kept as sent.
    var decoder: HTTPContentDecoder?
    var expected: Int?
    var lastActivity = DispatchTime.now().uptimeNanoseconds
    var failure: Error?
    var done = false
    /// Set when the caller gave up: late callbacks must not touch the sink.
    var abandoned = false

    /// Set (from AsyncHTTPClient's log) when the request went on a connection an earlier
    /// request had opened.
    var reusedConnection = false

    init(spec: HTTPRequestSpec, sink: Int32?, transcript: Transcript?) {
        self.spec = spec; self.sink = sink; self.transcript = transcript
    }

    /// The request was scheduled on AsyncHTTPClient's connection `key`: seen before, it is reused.
    func scheduled(onConnection key: String) {
        let seen = HTTPConnectionSniffer.see(key)
        cond.lock(); reusedConnection = seen; cond.unlock()
    }

    private func touch() { lastActivity = DispatchTime.now().uptimeNanoseconds }

    func didSendRequestHead(task: HTTPClient.Task<Void>, _ head: HTTPRequestHead) {
        cond.lock(); touch(); let reused = reusedConnection; cond.unlock()
        guard let t = transcript else { return }
        if reused, let url = URL(string: spec.url), var host = url.host {
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            let port = url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
            let address = "\(host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host):\(port)"
            t.record("http", .note) { HTTPAgent.reuseNote(address) }
        }
        // Rendered only when shown: a request costs tens of microseconds on loopback.
        t.record("http", .client) {
            HTTPExchange.renderRequestHead("\(head.method.rawValue) \(head.uri) \(head.version)", head.headers.map { ($0.name, $0.value) })
        }
        if let b = spec.body, !b.isEmpty { t.record("http", .client, "… \(HTTPClientSupport.grouped(b.count)) bytes") }
    }

    /// A request head as the transcript shows it, credentials masked.
    static func renderRequestHead(_ requestLine: String, _ headers: [(String, String)]) -> String {
        ([requestLine] + headers.map { name, value in
            let lower = name.lowercased()
            if lower == "authorization" || lower == "proxy-authorization" {
                let scheme = value.split(separator: " ").first.map(String.init) ?? ""
                return "\(name): \(scheme) \(Transcript.mask(value))"
            }
            return "\(name): \(value)"
        }).joined(separator: "\n")
    }

    func didSendRequestPart(task: HTTPClient.Task<Void>, _ part: IOData) {
        cond.lock(); touch(); cond.unlock()
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        cond.lock()
        touch()
        self.head = head
        expected = head.headers.first(name: "content-length").flatMap { Int($0) }
        if head.headers.contains(name: "content-encoding") { expected = nil }
        let bodiless = spec.method == "HEAD" || [204, 304].contains(head.status.code)
        if !bodiless { decoder = HTTPContentDecoder(contentEncoding: head.headers.first(name: "content-encoding")) }
        // A redirect that will be followed, or an error page, is not what a download wants on disk.
        if sink != nil && ((spec.followRedirects && [301, 302, 303, 307, 308].contains(Int(head.status.code)) && head.headers.contains(name: "location"))
                           || head.status.code >= 400) {
            sink = nil
        }
        cond.unlock()
        transcript?.record("http", .server) {
            (["\(head.version) \(head.status.code) \(head.status.reasonPhrase)"] + head.headers.map { "\($0.name): \($0.value)" }).joined(separator: "\n")
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        cond.lock()
        defer { cond.unlock() }
        touch()
        if abandoned { return task.eventLoop.makeFailedFuture(HTTPClientError.cancelled) }
        do {
            try buffer.withUnsafeReadableBytes { p in
                if let d = decoder { try d.feed(p, store) } else { try store(p) }
            }
        } catch {
            return task.eventLoop.makeFailedFuture(error)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    /// Keeps decoded body bytes: in memory up to `maxBody`, or written to the sink up to
    /// `maxDownload`. Called with the lock held.
    private func store(_ p: UnsafeRawBufferPointer) throws {
        received += p.count
        if let fd = sink {
            try HTTPClientSupport.writeBody(fd, p, received: received, spec)
            return
        }
        if received > spec.maxBody {
            throw HTTPClientFailure(.value, "\(spec.method) \(spec.url): the body is larger than max: \(HTTPClientSupport.grouped(spec.maxBody)) bytes", url: spec.url)
        }
        body.writeBytes(p)
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: Error) {
        cond.lock()
        if failure == nil { failure = error }
        cond.unlock()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {}

    func complete(_ result: Result<Void, Error>) {
        cond.lock()
        if case .failure(let e) = result, failure == nil { failure = e }
        if failure == nil, !abandoned, let d = decoder {
            do { try d.finish(store) } catch { failure = error }
        }
        decoder = nil
        done = true
        cond.broadcast()
        cond.unlock()
    }

    /// Waits for the end of the exchange in slices of at most 100 ms: gives up when nothing
    /// moved for `timeout` seconds or the cancel check fires.
    func wait(task: HTTPClient.Task<Void>, cancel: CancelCheck?, progress: ((Int, Int?) -> Void)?) throws {
        let limit = UInt64(max(0.001, spec.timeout) * 1e9)
        cond.lock()
        while !done {
            if cancel?() == true {
                abandoned = true
                cond.unlock()
                task.cancel()
                throw HTTPClientFailure(.interrupted, "\(spec.method) \(spec.url): interrupted", url: spec.url)
            }
            let now = DispatchTime.now().uptimeNanoseconds
            if let at = spec.deadlineAt, now >= at {
                abandoned = true
                let got = head == nil ? nil : received
                cond.unlock()
                task.cancel()
                transcript?.record("http", .note, "deadline of \(HTTPClientSupport.formatSeconds(spec.deadline ?? 0)) passed")
                throw spec.deadlineFailure(received: got)
            }
            if now > lastActivity && now - lastActivity >= limit {
                abandoned = true
                let phase = head == nil ? (received == 0 ? "no response" : "no response head") : "the body stalled after \(HTTPClientSupport.grouped(received)) bytes"
                cond.unlock()
                task.cancel()
                transcript?.record("http", .note, "timed out after \(spec.timeout) s: \(phase)")
                throw HTTPClientFailure(.timeout, "\(spec.method) \(spec.url): timed out after \(HTTPClientSupport.formatSeconds(spec.timeout)) (\(phase))", url: spec.url)
            }
            if let progress {
                let (got, total) = (received, expected)
                cond.unlock()
                progress(got, total)
                cond.lock()
                if done { break }
            }
            var waitNanos = min(100_000_000, limit - min(limit, now - min(now, lastActivity)))
            if let at = spec.deadlineAt { waitNanos = min(waitNanos, at - now) }
            _ = cond.wait(until: Date().addingTimeInterval(Double(max(1_000_000, waitNanos)) / 1e9))
        }
        let failure = self.failure
        let size = received
        cond.unlock()
        if let f = failure { throw HTTPClientFailure.from(f, method: spec.method, url: spec.url, tls: tls) }
        progress?(size, expected)
        if let s = transcript, head != nil, !spec.method.elementsEqual("HEAD"), size > 0 {
            s.record("http", .server, "… \(HTTPClientSupport.grouped(size)) bytes")
        }
    }

    func response(elapsed: Double) -> HTTPResponseData {
        cond.lock(); defer { cond.unlock() }
        let h = head!
        let bytes = body.readableBytes > 0 ? body.getBytes(at: body.readerIndex, length: body.readableBytes) ?? [] : []
        body = ByteBuffer()
        return HTTPResponseData(method: spec.method, status: Int(h.status.code), reason: h.status.reasonPhrase,
                                version: "\(h.version)", headers: h.headers.map { ($0.name, $0.value) }, body: bytes,
                                bodySize: received, url: spec.url, elapsed: elapsed, history: [], setCookies: [])
    }
}

extension HTTPClientSupport {
    /// 30 → "30 s", 0.5 → "0.5 s".
    static func formatSeconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }
}

extension HTTPAgent {
    /// The trace's note for a request sent on a connection kept alive from an earlier one.
    static func reuseNote(_ address: String) -> String {
        "reusing the kept-alive connection to \(address) (opened by an earlier request): no new TCP connect"
    }
}

/// A log handler for one AsyncHTTPClient request: its "scheduled on connection" line carries the
/// pooled connection's id, which tells a new connection from one kept alive.
struct HTTPConnectionSniffer: LogHandler {
    let client: ObjectIdentifier
    let exchange: HTTPExchange
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.message.description == "Request was scheduled on connection",
              let id = event.metadata?["ahc-connection-id"] ?? metadata["ahc-connection-id"] else { return }
        exchange.scheduled(onConnection: "\(client)-\(id)")
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var seen: Set<String> = []

    /// Whether the connection was seen before (and remembers it; at most 4,096 are kept).
    static func see(_ key: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if seen.contains(key) { return true }
        if seen.count >= 4096 { seen.removeAll() }
        seen.insert(key)
        return false
    }
}
