import Foundation
import NetKit
import OrderedCollections

/// `http.get`, `http.post`, … `http.session`, `http.download`, `http.check`: an HTTP client in
/// the manner of Python's requests, on NetKit's HTTPAgent (plain http:// over its own kept-alive
/// connections, HTTPS and proxies over AsyncHTTPClient); a session has its own connection pool.
enum HTTPBuiltins {
    static let requestOptions = ["params", "headers", "data", "json", "files", "auth", "timeout", "deadline", "redirects",
                                 "verify", "ca", "retries", "max", "cookies", "session"]
    static let sessionOptions = ["headers", "auth", "timeout", "deadline", "redirects", "verify", "ca", "retries", "max", "cookies", "params"]

    // MARK: errors

    static func diagnostic(_ e: HTTPClientFailure) -> Diagnostic {
        if e.kind == .interrupted { return Interpreter.interrupted() }
        var fields: [(String, Value)] = [("url", .string(e.url))]
        if let s = e.status { fields.append(("status_code", .int(s))) }
        return Diagnostic(e.kind.rawValue, e.message, fields: fields)
    }

    /// Runs a request without the interpreter lock (handlers of a concurrent `serve tcp` go
    /// on meanwhile), turning NetKit's errors into diagnostics.
    static func run<T>(_ body: () throws -> T) throws -> T {
        do { return try blockingCall(body) } catch let e as HTTPClientFailure { throw diagnostic(e) }
    }

    // MARK: reading options

    /// A scalar as text for a header, a query or a form: strings, numbers, bools.
    static func text(_ v: Value, _ what: String) throws -> String {
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .float(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        case .native(let n) where n is IPValue: return n.description
        default: throw Diagnostic.type("\(what): values must be strings or numbers, not \(v.typeName.withArticle)")
        }
    }

    /// Pairs from a map (a list value repeats the key) or a list of [key, value] pairs.
    static func pairs(_ v: Value, _ what: String, _ interp: Interpreter) throws -> [(String, String)] {
        var out: [(String, String)] = []
        switch v {
        case .map(let m):
            for (k, val) in m.dict {
                let key = try text(k, what)
                if case .list(let l) = val { for item in l.items { out.append((key, try text(item, what))) } }
                else if case .nil = val { continue }
                else { out.append((key, try text(val, what))) }
            }
        case .list(let l):
            for item in l.items {
                guard case .list(let p) = item, p.items.count == 2 else { throw Diagnostic.type("\(what): a list must hold [name, value] pairs") }
                out.append((try text(p.items[0], what), try text(p.items[1], what)))
            }
        default: throw Diagnostic.type("\(what): must be a map, not \(v.typeName.withArticle)")
        }
        return out
    }

    /// `auth: ["user", "pass"]` (Basic) or `auth: "TOKEN"` (Bearer) as an Authorization value.
    static func authorization(_ v: Value, _ callee: String) throws -> String {
        switch v {
        case .list(let l) where l.items.count == 2:
            let u = try text(l.items[0], "\(callee): auth:"), p = try text(l.items[1], "\(callee): auth:")
            return "Basic " + Data("\(u):\(p)".utf8).base64EncodedString()
        case .string(let token): return "Bearer " + token
        case .map(let m):
            if let t = m["bearer"] { return "Bearer " + (try text(t, "\(callee): auth:")) }
            if let u = m["user"], let p = m["password"] ?? m["pass"] {
                return "Basic " + Data("\(try text(u, "auth")):\(try text(p, "auth"))".utf8).base64EncodedString()
            }
            throw Diagnostic.value("\(callee): auth: a map needs bearer: or user: and password:")
        default:
            throw Diagnostic.type("\(callee): auth: must be [\"user\", \"password\"] (Basic) or a token string (Bearer)")
        }
    }

    /// Looks an option up in the call, then in the session's defaults.
    static func option(_ a: Args, _ name: String, _ session: HTTPSessionValue?) -> Value? {
        a.option(name) ?? session?.defaults.first { $0.0 == name }?.1
    }

    /// The request the options describe.
    static func spec(_ a: Args, method: String, url rawURL: String, session: HTTPSessionValue?, headCommand: Bool = false) throws -> HTTPRequestSpec {
        let callee = a.callee
        var url = rawURL
        var params: [(String, String)] = []
        if let p = session?.defaults.first(where: { $0.0 == "params" })?.1 { params += try pairs(p, "\(callee): params:", a.interp) }
        if let p = a.option("params") { params += try pairs(p, "\(callee): params:", a.interp) }
        if HTTPClientSupport.hasLineBreak(url) {
            throw Diagnostic("value", "\(callee) \(rawURL.debugDescription): the URL contains a line break (CR/LF); nothing was sent", fields: [("url", .string(rawURL))])
        }
        url = HTTPClientSupport.addQuery(url, params)
        var headers: [(String, String)] = []
        if let s = session { headers += try pairs(.map(s.headers), "\(callee): session headers", a.interp) }
        if let h = a.option("headers") {
            let given = try pairs(h, "\(callee): headers:", a.interp)
            let names = Set(given.map { $0.0.lowercased() })
            headers.removeAll { names.contains($0.0.lowercased()) }
            headers += given
        }
        func has(_ name: String) -> Bool { headers.contains { $0.0.lowercased() == name } }
        if let auth = option(a, "auth", session), !has("authorization") {
            if case .nil = auth {} else { headers.append(("Authorization", try authorization(auth, callee))) }
        }
        let cookies = try a.option("cookies").map { try pairs($0, "\(callee): cookies:", a.interp) } ?? []
        var body: [UInt8]? = nil
        let bodyOptions = ["data", "json", "files"].filter { a.option($0) != nil }
        if bodyOptions.contains("json") && bodyOptions.count > 1 {
            throw Diagnostic.value("\(callee): give json: or data:/files:, not both")
        }
        if let j = a.option("json") {
            body = Array(try JSON.encode(j).utf8)
            if !has("content-type") { headers.append(("Content-Type", "application/json")) }
        } else if let f = a.option("files") {
            var form: [(String, String)] = []
            if let d = a.option("data") { form = try pairs(d, "\(callee): data:", a.interp) }
            let parts = try fileParts(f, a)
            let mp = try run { try HTTPClientSupport.multipart(fields: form, files: parts, url: url) }
            body = mp.body
            headers.removeAll { $0.0.lowercased() == "content-type" }
            headers.append(("Content-Type", mp.contentType))
        } else if let d = a.option("data") {
            switch d {
            case .string(let s): body = Array(s.utf8)
            case .bytes(let b): body = b
            default:
                body = Array(HTTPClientSupport.formEncode(try pairs(d, "\(callee): data:", a.interp)).utf8)
                if !has("content-type") { headers.append(("Content-Type", "application/x-www-form-urlencoded")) }
            }
        }
        var s = HTTPRequestSpec(method: method, url: url, headers: headers, body: body)
        s.cookies = cookies
        if let t = option(a, "timeout", session) {
            let n = t == .nil ? Args.noTimeLimit : try number(t, "\(callee): timeout:")
            guard n > 0, n <= 86400 || n == Args.noTimeLimit else { throw Diagnostic.value("\(callee): timeout: must be between 0 and 86400 seconds, or nil for no limit") }
            s.timeout = n
        }
        if let d = option(a, "deadline", session) {
            if case .nil = d { s.deadline = nil } else {
                let n = try number(d, "\(callee): deadline:")
                guard n > 0, n <= 7 * 86400 else { throw Diagnostic.value("\(callee): deadline: must be between 0 and 604800 seconds, or nil for no limit") }
                s.deadline = n
            }
        }
        // As requests' head(): a HEAD from http.head or s.head reports a redirect rather than
        // following it, unless redirects: says to.
        if headCommand { s.followRedirects = false }
        if let r = option(a, "redirects", session) {
            switch r {
            case .bool(let b): s.followRedirects = b
            case .int(let n):
                guard n >= 0 && n <= 1000 else { throw Diagnostic.value("\(callee): redirects: must be true, false or a limit from 0 to 1000") }
                s.maxRedirects = n
                s.followRedirects = true
            default: throw Diagnostic.type("\(callee): redirects: must be true, false or a limit (an int)")
            }
        }
        if let v = option(a, "verify", session) { s.verify = v.isTruthy }
        if let c = option(a, "ca", session) {
            guard case .string(let path) = c else { throw Diagnostic.type("\(callee): ca: must be a file path") }
            s.caFile = path
        }
        if let r = option(a, "retries", session) {
            let n = try number(r, "\(callee): retries:")
            guard n >= 0 && n <= 20 else { throw Diagnostic.value("\(callee): retries: must be between 0 and 20") }
            s.retries = Int(n)
        }
        if let m = option(a, "max", session) {
            let n = try number(m, "\(callee): max:")
            guard n >= 1 && n < 1e15 else { throw Diagnostic.value("\(callee): max: must be at least 1 byte") }
            s.maxBody = Int(n)
        }
        return s
    }

    static func number(_ v: Value, _ what: String) throws -> Double {
        switch v {
        case .int(let i): return Double(i)
        case .float(let d) where d.isFinite: return d
        default: throw Diagnostic.type("\(what) must be a number, not \(v.typeName.withArticle)")
        }
    }

    /// `files: {field: "path"}`, `{field: {filename: "a.txt", content: "…", type: "text/plain"}}`
    /// or `{field: ["a.txt", CONTENT]}`.
    static func fileParts(_ v: Value, _ a: Args) throws -> [HTTPClientSupport.FilePart] {
        guard case .map(let m) = v else { throw Diagnostic.type("\(a.callee): files: must be a map of field name to a path or {filename:, content:}") }
        var parts: [HTTPClientSupport.FilePart] = []
        for (k, spec) in m.dict {
            let field = try text(k, "\(a.callee): files:")
            func content(_ c: Value) throws -> [UInt8] {
                switch c {
                case .string(let s): return Array(s.utf8)
                case .bytes(let b): return b
                default: throw Diagnostic.type("\(a.callee): files: content must be a string or bytes")
                }
            }
            switch spec {
            case .string(let path):
                guard let d = FileManager.default.contents(atPath: path) else { throw Diagnostic.io("\(a.callee): files: cannot read \(path)") }
                let name = (path as NSString).lastPathComponent
                parts.append(.init(field: field, filename: name, contentType: MediaTypes.forFileName(name), content: [UInt8](d)))
            case .list(let l) where l.items.count >= 2:
                let name = try text(l.items[0], "files")
                let type = l.items.count > 2 ? try text(l.items[2], "files") : MediaTypes.forFileName(name)
                parts.append(.init(field: field, filename: name, contentType: type, content: try content(l.items[1])))
            case .map(let fm):
                let name = try fm["filename"].map { try text($0, "files") } ?? field
                let type = try fm["type"].map { try text($0, "files") } ?? MediaTypes.forFileName(name)
                guard let c = fm["content"] else { throw Diagnostic.value("\(a.callee): files: \(field): needs content:") }
                parts.append(.init(field: field, filename: name, contentType: type, content: try content(c)))
            default:
                throw Diagnostic.type("\(a.callee): files: \(field): must be a path, [filename, content] or {filename:, content:}")
            }
        }
        return parts
    }

    static func session(_ a: Args) throws -> HTTPSessionValue? {
        guard let v = a.option("session") else { return nil }
        guard case .native(let s as HTTPSessionValue) = v else { throw Diagnostic.type("\(a.callee): session: must be a session (from http.session)") }
        return s
    }

    static func agent(_ a: Args, _ session: HTTPSessionValue?) -> HTTPAgent {
        HTTPAgent(transcript: a.interp.transcript, cancel: socketCancel, cookies: session?.jar, pool: session?.pool)
    }

    // MARK: commands

    /// `headCommand`: http.head or s.head, which (as requests' head()) do not follow redirects
    /// unless `redirects:` says to; `http.request "HEAD"` does.
    static func request(_ a: Args, method: String, urlIndex: Int, session given: HTTPSessionValue? = nil, headCommand: Bool = false) throws -> Value {
        let s = try given ?? session(a)
        let url = try a.string(urlIndex)
        let sp = try spec(a, method: method, url: url, session: s, headCommand: headCommand)
        a.interp.output.flush()
        let r = try run { try agent(a, s).perform(sp) }
        s?.requests += 1
        return .native(HTTPResponseValue(r))
    }

    static func download(_ a: Args, session given: HTTPSessionValue? = nil) throws -> Value {
        let s = try given ?? session(a)
        let url = try a.string(0)
        let path = try a.string(1)
        var sp = try spec(a, method: "GET", url: url, session: s)
        // max: bounds what is written (a stream that never ends is stopped there); a download
        // may take longer than a request before its deadline.
        sp.maxDownload = option(a, "max", s) == nil ? nil : sp.maxBody
        if option(a, "deadline", s) == nil { sp.deadline = HTTPRequestSpec.defaultDownloadDeadline }
        let bar = ProgressBar.make((path as NSString).lastPathComponent, enabled: a.optionBool("progress"))
        a.interp.output.flush()
        defer { bar?.finish() }
        let r: HTTPResponseData
        do {
            r = try run { try agent(a, s).download(sp, to: path, progress: bar.map { b in { b.update($0, $1) } }) }
        } catch let d as Diagnostic where d.kind == "http.status" {
            s?.requests += 1   // the request was made; only its answer was refused
            throw d
        }
        s?.requests += 1
        return .native(HTTPResponseValue(r, file: path))
    }

    /// A session's method as a function value (`s.get URL …`).
    /// What a session method is, apart from its session: built once (a loop of `s.get` looks
    /// the method up on every call, and these strings cost more than a loopback request's parsing).
    private struct SessionMethodInfo {
        let name: String, min: Int, options: [String], usage: String, summary: String, example: String
    }
    private static let sessionMethodInfo: [String: SessionMethodInfo] = {
        let options = requestOptions.filter { $0 != "session" }
        var t: [String: SessionMethodInfo] = [:]
        for m in HTTPSessionValue.methods {
            t[m] = SessionMethodInfo(name: "session.\(m)", min: 1, options: options, usage: "s.\(m) URL [options as http.\(m)]",
                                     summary: "http.\(m) with the session's cookies, headers and settings.",
                                     example: "s.\(m) \"http://127.0.0.1:8080/\"")
        }
        t["request"] = SessionMethodInfo(name: "session.request", min: 2, options: options, usage: "s.request METHOD URL [options]",
                                         summary: "http.request with the session's settings.",
                                         example: "s.request \"PROPFIND\" \"http://127.0.0.1:8080/\"")
        t["download"] = SessionMethodInfo(name: "session.download", min: 2, options: options + ["progress"], usage: "s.download URL FILE [options]",
                                          summary: "http.download with the session's settings.",
                                          example: "s.download \"http://127.0.0.1:8080/big.bin\" \"big.bin\"")
        return t
    }()

    static func sessionMethod(_ name: String, _ s: HTTPSessionValue) -> BuiltinFunction? {
        guard let info = sessionMethodInfo[name] else { return nil }
        let body: (Args) throws -> Value
        switch name {
        case "request": body = { [s] a in try request(a, method: try a.string(0).uppercased(), urlIndex: 1, session: s) }
        case "download": body = { [s] a in try download(a, session: s) }
        default:
            let method = name.uppercased(), head = name == "head"
            body = { [s] a in try request(a, method: method, urlIndex: 0, session: s, headCommand: head) }
        }
        return BuiltinFunction(name: info.name, min: info.min, max: info.min, options: info.options,
                               usage: info.usage, summary: info.summary, example: info.example, impl: body)
    }

    static let commonUsage = "[params: {k: v}] [headers: {k: v}] [data: {k: v}|TEXT|BYTES] [json: VALUE] [files: {field: PATH}] [auth: [\"user\", \"pass\"]|TOKEN] [timeout: 30] [deadline: 300|nil] [redirects: true|false|N] [verify: true] [ca: \"ca.pem\"] [retries: 0] [max: 1073741824] [cookies: {k: v}] [session: S]"

    static func register(in r: Interpreter) {
        r.namespace("http", summary: "An HTTP client in the manner of Python's requests: http.get/post/put/patch/delete/head/options, sessions with cookies, downloads to disk, TLS, redirects, retries; responses with status_code, headers, text, json.")
        let descriptions: [String: String] = [
            "get": "Fetches URL and returns a response: status_code reason ok text content json headers (case-insensitive: r.headers[\"content-type\"]) url (final) history (the redirects) elapsed encoding version cookies size. Redirects are followed (redirects: false or a limit); bodies are decompressed (gzip, deflate with or without its zlib header); a 4xx/5xx is a response, not an error (see http.check). The URL is sent %-encoded: raw characters are encoded, escapes already in it (%20) are kept. timeout: bounds connecting and each wait for data; deadline: bounds the whole request, redirects and body included (300 s unless given; nil for none); max: bounds the body kept in memory. Errors: http.timeout http.redirects http.tls http.protocol refused resolve value.",
            "post": "Sends a POST with a body from json: (encoded, Content-Type application/json), data: (a map as a form, or raw text/bytes) or files: (multipart/form-data, with data: as its fields); returns a response as http.get does.",
            "put": "Sends a PUT (body options as http.post); retried on failure when retries: is given, being idempotent.",
            "patch": "Sends a PATCH (body options as http.post).",
            "delete": "Sends a DELETE; returns a response as http.get does.",
            "head": "Sends a HEAD: the response has headers and no body. As requests' head, a redirect is returned, not followed, unless redirects: true (or a limit) says to follow it.",
            "options": "Sends an OPTIONS request; the Allow header says what the server accepts.",
        ]
        let examples: [String: String] = [
            "get": "r = http.get \"http://127.0.0.1:8080/hello.txt\"; print r.status_code r.headers[\"content-type\"] r.text",
            "post": "r = http.post \"http://127.0.0.1:8080/echo\" json: {a: 1}; print r.json.a",
            "put": "http.put \"http://127.0.0.1:8080/items/1\" json: {name: \"x\"}",
            "patch": "http.patch \"http://127.0.0.1:8080/items/1\" data: {name: \"y\"}",
            "delete": "print (http.delete \"http://127.0.0.1:8080/items/1\").status_code",
            "head": "print (http.head \"http://127.0.0.1:8080/big.bin\").headers[\"content-length\"]",
            "options": "print (http.options \"http://127.0.0.1:8080/\").headers[\"allow\"]",
        ]
        for m in HTTPSessionValue.methods {
            r.register("http.\(m)", min: 1, max: 1, options: requestOptions,
                       usage: "http.\(m) URL \(commonUsage)", summary: descriptions[m]!, example: examples[m]!) { a in
                try request(a, method: m.uppercased(), urlIndex: 0, headCommand: m == "head")
            }
        }
        r.register("http.request", min: 2, max: 2, options: requestOptions,
                   usage: "http.request METHOD URL \(commonUsage)",
                   summary: "Any method (PROPFIND, PURGE, …) with the options of http.get and http.post.",
                   example: "print (http.request \"PURGE\" \"http://127.0.0.1:8080/cache/x\").status_code") { a in
            try request(a, method: try a.string(0).uppercased(), urlIndex: 1)
        }
        r.register("http.session", min: 0, max: 0, options: sessionOptions,
                   usage: "http.session [headers: {k: v}] [auth: …] [timeout: 30] [deadline: 300|nil] [redirects: …] [verify: true] [ca: \"ca.pem\"] [retries: 0] [max: N] [cookies: {k: v}] [params: {k: v}]",
                   summary: "A session: cookies the server sets are kept and sent back, its headers and settings apply to every request, and connections are reused. Use its methods: s.get s.post s.put s.patch s.delete s.head s.options s.request s.download (or http.get URL session: s); fields headers (a map you may change), cookies, requests; s.clear_cookies.",
                   example: "s = http.session headers: {\"X-Client\": \"tour\"}; s.get \"http://127.0.0.1:8080/login\"; print s.cookies") { a in
            var hdrs = MapRef()
            if let h = a.option("headers") {
                guard case .map(let m) = h else { throw Diagnostic.type("http.session: headers: must be a map") }
                hdrs = MapRef(m.dict)
            }
            let defaults = a.options.filter { $0.0 != "headers" && $0.0 != "cookies" }
            let s = HTTPSessionValue(headers: hdrs, defaults: defaults)
            if let c = a.option("cookies") {
                for (k, v) in try pairs(c, "http.session: cookies:", a.interp) { s.jar.set(name: k, value: v) }
            }
            // Checked now, so a bad option fails here rather than at the first request.
            _ = try spec(Args([], options: [], interp: a.interp, callee: "http.session"), method: "GET", url: "http://localhost/", session: s)
            return .native(s)
        }
        r.register("http.download", min: 2, max: 2, options: requestOptions + ["progress"],
                   usage: "http.download URL FILE [progress: true] [max: BYTES] [timeout: 30] [deadline: 3600|nil] [headers: …] [auth: …] [session: S] …",
                   summary: "Streams URL's body to FILE in constant memory (written to FILE.part, renamed when complete; /dev/null works), with a progress bar when stderr is a terminal. Returns the response with fields file and size (content is empty). A 4xx/5xx status is an error http.status and saves nothing. max: stops a body longer than that many bytes with an error of kind value (no limit unless given: an endless stream needs it); deadline: bounds the whole download (3600 s unless given; nil for none). On any error the partial FILE.part is removed and an existing FILE is left as it was.",
                   example: "r = http.download \"http://127.0.0.1:8080/big.bin\" \"big.bin\"; print r.size") { a in
            try download(a)
        }
        r.register("http.check", min: 1, max: 1,
                   usage: "http.check RESPONSE",
                   summary: "Returns the response when its status is below 400; otherwise raises an error of kind http.status naming the URL and the status (e.status_code, e.url), as requests' raise_for_status.",
                   example: "r = http.check (http.get \"http://127.0.0.1:8080/hello.txt\")") { a in
            guard case .native(let resp as HTTPResponseValue) = a[0] else {
                throw Diagnostic.type("http.check: argument 1 must be a response, not \(a[0].typeName.withArticle)")
            }
            if resp.r.status >= 400 {
                let kind = resp.r.status >= 500 ? "server error" : "client error"
                let snippet = String(resp.text.prefix(200)).replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
                throw Diagnostic("http.status", "\(resp.r.method) \(resp.r.url): \(resp.r.status) \(resp.r.reason) (\(kind))",
                                 cause: snippet.isEmpty ? nil : snippet,
                                 fields: [("url", .string(resp.r.url)), ("status_code", .int(resp.r.status))])
            }
            return a[0]
        }
    }
}
