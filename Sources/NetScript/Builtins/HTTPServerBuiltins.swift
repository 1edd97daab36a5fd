import Foundation
import NetKit
import OrderedCollections

/// `serve http`, `route` and `http.response`: an HTTP server whose static files and I/O live on
/// NIO's event loops, and whose routes run in the language on the thread that called `serve http`.
enum HTTPServerBuiltins {
    /// Routes declared with `route METHOD PATH HANDLER`, used by every later `serve http`.
    nonisolated(unsafe) static var declared: [(method: String, pattern: String, handler: Value)] = []

    static func register(in r: Interpreter) {
        r.register("serve.http", min: 0, max: 0,
                   options: ["dir", "port", "host", "bind", "routes", "quiet", "requests", "timeout", "max_body",
                             "max_connections", "idle", "tls", "cert", "key", "client_ca", "handshake_timeout", "compress"],
                   usage: "serve http [dir: \".\"] [port: 8000] [host: \"127.0.0.1\"] [routes: {\"GET /users/:id\": fn(req) {…}}] [quiet: true] [requests: N] [timeout: SECONDS] [max_body: 16777216] [max_connections: 10000] [idle: 60] [tls: {cert: \"cert.pem\", key: \"key.pem\"}] [client_ca: \"ca.pem\"] [handshake_timeout: 10] [compress: false]",
                   summary: "An HTTP/1.1 server like python3 -m http.server and more: static files from dir: (GET/HEAD, index.html, listings, MIME types, Last-Modified/304, Range 206/416, keep-alive, pipelining, many clients at once), and routes written in the language (tried before the files; see `help route`). Listens on 127.0.0.1 unless host: says otherwise (\"0.0.0.0\" for every interface). An access line per request goes to stderr (quiet: true stops it and the \"Serving HTTP\" line). Runs until Ctrl-C, `stop` in a handler, requests: responses or timeout: seconds; returns a record of requests, routed and connections. tls: {cert:, key:} (PEM files, or what tls.mkcert returns; cert: and key: as options also work) serves HTTPS (HTTP/2 to clients that offer h2); client_ca: \"ca.pem\" asks every client for a certificate signed by those CAs (mutual TLS: a client without one is refused in the handshake, and a handler sees the client's as req.certificate); a client that stalls in the handshake is dropped after handshake_timeout: seconds (10), and a failed handshake is logged with its reason. Responses of compressible types (text, JSON, JS, XML, SVG, …) of 256 bytes or more are gzip-compressed (NIOHTTPCompression) when the request's Accept-Encoding allows it — never ranges, 304s or already-compressed types, files up to 8 MiB — and say Vary: Accept-Encoding; compress: false turns it off.",
                   example: "serve http dir: \"site\" port: 8080 routes: {\"POST /echo\": fn(req) { req.json }}") { a in
            try serveHTTP(a)
        }
        r.register("route", min: 2, max: 3, usage: "route [METHOD] PATH HANDLER",
                   summary: "Declares a route for every later `serve http` (after its routes: option): METHOD (GET also answers HEAD; \"*\" or none: any method), PATH with :name parameters (req.params.name) and a final * for the rest. HANDLER is fn(req) returning a string (text/plain, or text/html when it starts with <), a map or list (JSON), bytes, nil (204) or http.response; or a fixed value. req has method path query headers body json params client_address client_port target version certificate (over TLS: the client's certificate, or nil).",
                   example: "route \"GET\" \"/users/:id\" fn(req) { {id: int req.params.id} }") { a in
            let method = a.count == 3 ? try a.string(0) : "*"
            let pattern = try a.string(a.count - 2)
            try checkRoute(method, pattern, callee: "route")
            declared.append((method.uppercased(), pattern, a[a.count - 1]))
            return .nil
        }
        r.register("http.response", min: 0, max: 1, options: ["status", "body", "headers", "json", "type"],
                   usage: "http.response [BODY] [status: 200] [body: B] [json: V] [headers: {…}] [type: \"text/plain\"]",
                   summary: "A response for a serve http handler to return: a status, headers, and a body (a string, bytes, or a map/list sent as JSON; json: always sends JSON). type: sets Content-Type.",
                   example: "route \"POST\" \"/items\" fn(req) { http.response status: 201 json: req.json headers: {Location: \"/items/1\"} }") { a in
            var resp: HTTPServerResponse
            if let j = a.option("json") { resp = try jsonResponse(j) }
            else { resp = try response(a.option("body") ?? a[0]) }
            if a.option("body") == nil, a.count == 0, a.option("json") == nil { resp = HTTPServerResponse(status: 200) }
            if let s = try a.optionNumber("status") {
                guard s >= 100, s <= 999, s == s.rounded() else { throw Diagnostic.value("http.response: status: must be an int from 100 to 999, not \(s)") }
                resp.status = Int(s)
            }
            if let t = try a.optionString("type") { setHeader(&resp, "Content-Type", t) }
            if let h = a.option("headers") {
                guard case .map(let m) = h else { throw Diagnostic.type("http.response: headers: must be a map, not \(h.typeName.withArticle)") }
                for (k, v) in m.dict {
                    let name = k.displayString, value = v.displayString
                    guard isToken(name), !value.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }) else {
                        throw Diagnostic.value("http.response: header \(Value.repr(k)) is not a valid header name and value")
                    }
                    setHeader(&resp, name, value)
                }
            }
            return .native(HTTPServerResponseValue(resp))
        }
    }

    // MARK: serve http

    static func serveHTTP(_ a: Args) throws -> Value {
        let interp = a.interp
        let host = try a.optionString("host") ?? a.optionString("bind") ?? "127.0.0.1"
        let port = try a.optionInt("port") ?? 8000
        guard (0...65535).contains(port) else { throw Diagnostic.value("serve http: port: must be from 0 to 65535, not \(port)") }
        var config = HTTPServerConfig(root: try a.optionString("dir"))
        var handlers: [Value] = []
        if let rv = a.option("routes") {
            guard case .map(let m) = rv else { throw Diagnostic.type("serve http: routes: must be a map like {\"GET /path\": fn(req) {…}}, not \(rv.typeName.withArticle)") }
            for (k, v) in m.dict {
                guard case .string(let key) = k else { throw Diagnostic.type("serve http: a route key must be a string like \"GET /path\", not \(k.typeName.withArticle)") }
                let words = key.split(separator: " ", omittingEmptySubsequences: true)
                let (method, pattern) = words.count == 2 ? (String(words[0]), String(words[1])) : ("*", key)
                try checkRoute(method, pattern, callee: "serve http")
                config.routes.append(HTTPRoute(method: method, pattern: pattern))
                handlers.append(v)
            }
        }
        for d in declared {
            config.routes.append(HTTPRoute(method: d.method, pattern: d.pattern))
            handlers.append(d.handler)
        }
        if config.root == nil && config.routes.isEmpty { config.root = "." }
        if let n = try a.optionInt("max_body") { config.maxBody = max(0, n) }
        if let n = try a.optionInt("max_connections") {
            guard n >= 1 else { throw Diagnostic.value("serve http: max_connections: must be at least 1") }
            config.maxConnections = n
        }
        if let n = try a.optionNumber("idle") {
            guard n > 0 else { throw Diagnostic.value("serve http: idle: must be a positive number of seconds") }
            config.idleTimeout = n
        }
        if let c = a.option("compress") { config.compress = c.isTruthy }
        if let t = a.option("tls"), t != .bool(true), t != .bool(false), t != .nil {
            switch t {
            case .map, .native: break
            default: throw Diagnostic.type("serve http: tls: must be a map {cert: FILE, key: FILE} (or what tls.mkcert returns), not \(t.typeName.withArticle)")
            }
            let o = try TLSBuiltins.serverOptions(a, t)
            if !o.alpn.isEmpty {
                throw Diagnostic.value("serve http: alpn: is chosen by the server itself (h2, then http/1.1)")
            }
            config.tlsCertificate = o.certFile
            config.tlsKey = o.keyFile
            config.tlsClientCA = o.clientCAFile
            config.tlsHandshakeTimeout = o.handshakeTimeout
        } else {
            config.tlsCertificate = try a.optionString("cert")
            config.tlsKey = try a.optionString("key")
            if config.tlsCertificate == nil {
                for o in ["client_ca", "handshake_timeout"] where a.option(o) != nil {
                    throw Diagnostic.value("serve http: \(o): needs tls: {cert: \"server.pem\", key: \"server.key\"}")
                }
            } else if a.option("client_ca") != nil || a.option("handshake_timeout") != nil {
                // cert: and key: as options: the TLS options read as inside tls: {…}.
                let o = try TLSBuiltins.serverOptions(a, .map(MapRef([.string("cert"): .string(config.tlsCertificate!),
                                                                      .string("key"): .string(config.tlsKey ?? "")])))
                config.tlsClientCA = o.clientCAFile
                config.tlsHandshakeTimeout = o.handshakeTimeout
            }
        }
        if a.optionBool("tls") == true, config.tlsCertificate == nil || config.tlsKey == nil {
            throw Diagnostic.value("serve http: tls: true needs cert: and key: (PEM files)")
        }
        if (config.tlsCertificate == nil) != (config.tlsKey == nil) {
            throw Diagnostic.value("serve http: cert: and key: go together")
        }
        let scheme = config.tlsCertificate == nil ? "HTTP" : "HTTPS"
        let quiet = a.optionBool("quiet") == true
        config.accessLog = !quiet
        let maxRequests = try a.optionInt("requests")
        let end = a.option("timeout") == nil ? Date.distantFuture : Date().addingTimeInterval(try a.timeout(0))
        let address = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"

        let server = try sock { try HTTPServer.start(address, config: config, cancel: socketCancel) }
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let p = server.port ?? port
        interp.transcript.record("http", .note, "\(scheme) server listening on \(server.localText)\(config.root.map { ", serving \($0)" } ?? "")")
        if !quiet {
            interp.output.write("Serving \(scheme) on \(host) port \(p) (\(scheme.lowercased())://\(shownHost):\(p)/) ...", newline: true)
        }
        interp.output.flush()

        SocketBuiltins.stopRequested = false
        defer { SocketBuiltins.stopRequested = false }
        var interrupted = false
        let flushEvents = {
            server.tracing.store(interp.transcript.isLive, ordering: .relaxed)
            let events = server.drainEvents()
            guard !events.isEmpty else { return }
            interp.output.flush()
            var log = ""
            for e in events {
                switch e {
                case .log(let line): log += line + "\n"
                case .trace(let dir, let text):
                    if !log.isEmpty { FileHandle.standardError.write(log.data(using: .utf8)!); log = "" }
                    interp.transcript.record("http", dir, text)
                }
            }
            if !log.isEmpty { FileHandle.standardError.write(log.data(using: .utf8)!) }
        }
        while true {
            flushEvents()
            if interruptFlag.load(ordering: .relaxed) { interrupted = true; break }
            if SocketBuiltins.stopRequested { break }
            if let n = maxRequests, server.requestsCompleted >= n { break }
            if Date() >= end { break }
            guard let req = server.next(timeout: 0.02) else { continue }
            do { try handle(req, handlers[req.routeIndex], interp) }
            catch let d as Diagnostic where d.kind == "interrupted" { interrupted = true; break }
            catch {
                // `exit` in a handler: the server stops before the script ends.
                server.stop()
                flushEvents()
                throw error
            }
        }
        server.stop()
        flushEvents()
        interp.transcript.record("http", .note, "HTTP server on \(server.localText) stopped: \(server.requestsCompleted) requests, \(server.connectionsAccepted) connections")
        if interrupted { throw Interpreter.interrupted() }
        return .native(RecordObject("http_stats", ["requests": .int(server.requestsCompleted), "routed": .int(server.requestsRouted),
                                                   "connections": .int(server.connectionsAccepted)]))
    }

    /// Runs one route's handler on this (the interpreter's) thread and sends its answer.
    static func handle(_ req: HTTPRoutedRequest, _ handler: Value, _ interp: Interpreter) throws {
        let value = HTTPServerRequestValue(req)
        do {
            let result: Value
            if case .function(let f) = handler {
                let takesNone = (f as? UserFunction).map { $0.code.paramCount == 0 } ?? false
                result = try interp.call(handler, takesNone ? [] : [.native(value)])
            } else {
                result = handler
            }
            interp.output.flush()
            req.respond(try response(result))
        } catch let e where !(e is Diagnostic) {
            req.respond(HTTPServerResponse(status: 503, body: Array("server stopping\n".utf8)))
            throw e
        } catch let d as Diagnostic {
            interp.output.flush()
            if d.kind == "interrupted" {
                req.respond(HTTPServerResponse(status: 503, body: Array("server interrupted\n".utf8)))
                throw d
            }
            if value.badJSON {
                req.respond(HTTPServerResponse(status: 400, body: Array("bad request: \(d.message)\n".utf8)),
                            logNote: "code 400, message \(d.message)")
                return
            }
            let at = d.location.map { " at \($0.file):\($0.line):\($0.column)" } ?? ""
            req.respond(HTTPServerResponse(status: 500, body: Array("internal server error\n".utf8)),
                        logNote: "code 500, message handler for \(req.method) \(req.path) failed\(at): error[\(d.kind)]: \(d.message)")
        }
    }

    // MARK: values to responses

    static func response(_ v: Value) throws -> HTTPServerResponse {
        switch v {
        case .native(let r as HTTPServerResponseValue): return r.response
        case .nil: return HTTPServerResponse(status: 204)
        case .string(let s):
            let html = s.drop(while: { $0.isWhitespace }).hasPrefix("<")
            return HTTPServerResponse(status: 200, headers: [("Content-Type", html ? "text/html; charset=utf-8" : "text/plain; charset=utf-8")], body: Array(s.utf8))
        case .bytes(let b):
            return HTTPServerResponse(status: 200, headers: [("Content-Type", "application/octet-stream")], body: b)
        case .map, .list: return try jsonResponse(v)
        case .native(let n) where n.jsonValue != nil: return try jsonResponse(v)
        default:
            return HTTPServerResponse(status: 200, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(v.displayString.utf8))
        }
    }

    static func jsonResponse(_ v: Value) throws -> HTTPServerResponse {
        HTTPServerResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array((try JSON.encode(v) + "\n").utf8))
    }

    static func setHeader(_ r: inout HTTPServerResponse, _ name: String, _ value: String) {
        r.headers.removeAll { $0.0.lowercased() == name.lowercased() }
        r.headers.append((name, value))
    }

    static func isToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { b in
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }

    static func checkRoute(_ method: String, _ pattern: String, callee: String) throws {
        guard method == "*" || isToken(method) else { throw Diagnostic.value("\(callee): \(Value.repr(.string(method))) is not an HTTP method") }
        guard pattern.hasPrefix("/") else { throw Diagnostic.value("\(callee): the route path \(Value.repr(.string(pattern))) must start with /") }
    }
}

/// A request as the handler sees it.
final class HTTPServerRequestValue: NativeObject {
    let req: HTTPRoutedRequest
    /// Set when `req.json` failed: the handler's error is then the client's fault (400).
    var badJSON = false
    private var parsed: Value?
    init(_ req: HTTPRoutedRequest) { self.req = req }
    override var typeName: String { "request" }
    override var description: String { "<request \(req.method) \(req.target) from \(req.clientHost)>" }
    override var fieldNames: [String] {
        ["method", "path", "query", "raw_query", "headers", "body", "json", "params", "client_address", "client_port", "target", "version", "certificate"]
    }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "method": return .string(req.method)
        case "path": return .string(req.path)
        case "target": return .string(req.target)
        case "version": return .string(req.version)
        case "raw_query": return .string(req.query)
        case "query":
            let m = MapRef()
            for pair in req.query.split(separator: "&") where !pair.isEmpty {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                m.dict[.string(formDecode(kv[0]))] = .string(kv.count > 1 ? formDecode(kv[1]) : "")
            }
            return .map(m)
        case "headers":
            let m = MapRef()
            for (k, v) in req.headers {
                let key = Value.string(k.lowercased())
                if case .string(let old)? = m.dict[key] { m.dict[key] = .string(old + ", " + v) } else { m.dict[key] = .string(v) }
            }
            return .map(m)
        case "body":
            return String(validating: req.body, as: UTF8.self).map { .string($0) } ?? .bytes(req.body)
        case "json":
            if let parsed { return parsed }
            guard !req.body.isEmpty else { return .nil }
            do {
                guard let text = String(validating: req.body, as: UTF8.self) else { throw Diagnostic.value("the body is not UTF-8") }
                parsed = try JSON.parse(text)
                return parsed
            } catch let d as Diagnostic {
                badJSON = true
                throw Diagnostic.value("\(req.method) \(req.path): the request body is not JSON (\(d.message))")
            }
        case "params":
            let m = MapRef()
            for (k, v) in req.params { m.dict[.string(k)] = .string(v) }
            return .map(m)
        case "client_address": return .string(req.clientHost)
        case "client_port": return .int(req.clientPort)
        case "certificate": return req.clientCertificate.map { .native(CertificateValue($0)) } ?? .nil
        default: return nil
        }
    }

    /// `json` reads as nil in `items`/`values` when the body is not JSON (and the answer is
    /// not turned into a 400 for it: only reading `req.json` itself does that).
    override func entry(_ name: String) throws -> Value? {
        guard name == "json" else { return try field(name) }
        let saved = badJSON
        defer { badJSON = saved }
        return (try? field(name)) ?? .nil
    }

    /// `+` as space and percent-escapes decoded (form and query encoding).
    func formDecode(_ s: Substring) -> String {
        let plus = s.replacingOccurrences(of: "+", with: " ")
        return plus.removingPercentEncoding ?? plus
    }
}

/// What `http.response` makes.
final class HTTPServerResponseValue: NativeObject {
    let response: HTTPServerResponse
    init(_ r: HTTPServerResponse) { response = r }
    override var typeName: String { "http_response" }
    override var description: String { "<http_response \(response.status), \(response.body.count) bytes>" }
    override var fieldNames: [String] { ["status", "headers", "body"] }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "status": return .int(response.status)
        case "headers":
            let m = MapRef()
            for (k, v) in response.headers { m.dict[.string(k)] = .string(v) }
            return .map(m)
        case "body": return String(validating: response.body, as: UTF8.self).map { .string($0) } ?? .bytes(response.body)
        default: return nil
        }
    }
}
