import Foundation
import NetKit
import OrderedCollections

/// HTTP client values: a `response` (status, headers, body, history) with case-insensitive
/// `headers`, and a `session` that keeps cookies, default headers and pooled connections.

/// Response headers: `h["content-type"]` and `h["Content-Type"]` are the same; a missing one
/// is nil. Repeated headers are joined with ", " (Set-Cookie with "\n"). Iterates its names.
final class HTTPHeadersValue: NativeObject {
    let pairs: [(String, String)]
    init(_ pairs: [(String, String)]) { self.pairs = pairs }
    override var typeName: String { "headers" }
    override var count: Int? { names.count }

    /// Each name once, as the server spelled it first.
    var names: [String] {
        var seen = Set<String>(), out: [String] = []
        for (k, _) in pairs where seen.insert(k.lowercased()).inserted { out.append(k) }
        return out
    }

    func get(_ name: String) -> String? {
        let n = name.lowercased()
        let vals = pairs.filter { $0.0.lowercased() == n }.map { $0.1 }
        if vals.isEmpty { return nil }
        return vals.joined(separator: n == "set-cookie" ? "\n" : ", ")
    }

    override func index(_ key: Value) throws -> Value? {
        guard case .string(let k) = key else { throw Diagnostic.type("headers are indexed by name (a string), not \(key.typeName.withArticle)") }
        return get(k).map { .string($0) } ?? .nil
    }
    override func contains(_ value: Value) throws -> Bool? {
        guard case .string(let k) = value else { return false }
        return get(k) != nil
    }
    override var entryNames: [String]? { names }
    override func entry(_ name: String) throws -> Value? { get(name).map { .string($0) } }
    override func makeIterator() -> (() throws -> Value?)? {
        var it = names.makeIterator()
        return { it.next().map { .string($0) } }
    }
    override var jsonValue: Value? {
        let m = MapRef()
        for n in names { m.dict[.string(n)] = .string(get(n) ?? "") }
        return .map(m)
    }
    override var description: String {
        "{" + names.map { "\(Value.repr(.string($0))): \(Value.repr(.string(get($0) ?? "")))" }.joined(separator: ", ") + "}"
    }
    override var tableRows: (columns: [String], rows: [[Value]])? {
        ([ "name", "value" ], pairs.map { [.string($0.0), .string($0.1)] })
    }
}

final class HTTPResponseValue: NativeObject {
    let r: HTTPResponseData
    /// Set for a download: where the body went.
    let file: String?
    private var cachedText: String?
    init(_ r: HTTPResponseData, file: String? = nil) { self.r = r; self.file = file }

    override var typeName: String { "response" }
    override var description: String { "<response \(r.status) \(r.reason) \(r.url)>" }
    override var isTruthy: Bool { r.ok }
    override var fieldNames: [String] {
        ["status_code", "reason", "ok", "text", "content", "json", "headers", "url", "history", "elapsed",
         "encoding", "version", "method", "cookies", "size"] + (file == nil ? [] : ["file"])
    }

    var charset: String? { HTTPClientSupport.charset(ofContentType: r.header("content-type")) }

    var text: String {
        if let t = cachedText { return t }
        let t = HTTPClientSupport.decodeText(r.body, charset: charset)
        cachedText = t
        return t
    }

    override func field(_ name: String) throws -> Value? {
        switch name {
        case "status_code", "status": return .int(r.status)
        case "reason": return .string(r.reason)
        case "ok": return .bool(r.ok)
        case "text": return .string(text)
        case "content": return .bytes(r.body)
        case "json":
            do { return try JSON.parse(text) } catch let d as Diagnostic {
                throw Diagnostic.value("\(r.method) \(r.url): the body is not JSON (\(d.message.hasPrefix("json: ") ? String(d.message.dropFirst(6)) : d.message))")
            }
        case "headers": return .native(HTTPHeadersValue(r.headers))
        case "url": return .string(r.url)
        case "history": return .list(r.history.map { .native(HTTPResponseValue($0)) })
        case "elapsed": return .float(r.elapsed)
        case "encoding": return charset.map { .string($0) } ?? .nil
        case "version": return .string(r.version)
        case "method": return .string(r.method)
        case "cookies":
            let m = MapRef()
            for (k, v) in r.setCookies { m.dict[.string(k)] = .string(v) }
            return .map(m)
        case "size": return .int(r.bodySize)
        case "file": return file.map { .string($0) }
        default: return nil
        }
    }

    /// `json` reads as nil in `items`/`values` when the body is not JSON.
    override func entry(_ name: String) throws -> Value? {
        if name == "json" { return (try? field(name)) ?? .nil }
        return try field(name)
    }

    override var jsonValue: Value? {
        .map([("status_code", .int(r.status)), ("reason", .string(r.reason)), ("url", .string(r.url)),
              ("headers", HTTPHeadersValue(r.headers).jsonValue ?? .nil), ("elapsed", .float(r.elapsed))])
    }
}

/// `http.session`: cookies kept from response to response, default headers, auth, timeout
/// and TLS settings applied to every request, and connections reused (pooled per host).
/// Call its methods as fields: `s.get URL`, `s.post URL json: {…}`, `s.download URL FILE`.
final class HTTPSessionValue: NativeObject {
    let jar = HTTPCookieJar()
    /// The session's kept-alive plain-HTTP connections (closed with the session).
    let pool = HTTPConnectionPool()
    /// Default headers, shared with the script: `s.headers["X-Token"] = "…"` applies to later requests.
    let headers: MapRef
    /// Default options (auth:, timeout:, verify:, ca:, retries:, redirects:, params:, max:).
    var defaults: [(String, Value)]
    var requests = 0

    init(headers: MapRef, defaults: [(String, Value)]) { self.headers = headers; self.defaults = defaults }

    override var typeName: String { "session" }
    override var description: String { "<session \(jar.all.count) cookie\(jar.all.count == 1 ? "" : "s"), \(requests) request\(requests == 1 ? "" : "s")>" }
    static let methods = ["get", "post", "put", "patch", "delete", "head", "options"]
    override var fieldNames: [String] { ["headers", "cookies", "requests"] + HTTPSessionValue.methods + ["request", "download", "clear_cookies"] }
    override var entryNames: [String]? { ["headers", "cookies", "requests"] }

    override func field(_ name: String) throws -> Value? {
        switch name {
        case "headers": return .map(headers)
        case "cookies":
            let m = MapRef()
            for c in jar.all { m.dict[.string(c.name)] = .string(c.value) }
            return .map(m)
        case "requests": return .int(requests)
        case "clear_cookies":
            return .function(BuiltinFunction(name: "session.clear_cookies", min: 0, max: 0, usage: "s.clear_cookies", summary: "Forgets the session's cookies.", example: "s.clear_cookies") { [jar] _ in
                jar.clear(); return .nil
            })
        default:
            guard let b = HTTPBuiltins.sessionMethod(name, self) else { return nil }
            return .function(b)
        }
    }
}
