import Foundation

/// The pieces of a request that are plain text work: URLs and query strings, form and
/// multipart bodies, cookies, proxies from the environment, and decoding text by charset.
public enum HTTPClientSupport {
    /// Characters left as they are in a query component (the rest is %-encoded), as requests does.
    static let queryAllowed: Set<UInt8> = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))

    /// %-encodes a query or form component as requests does: letters, digits and `-._~` stay, a
    /// space becomes `+` (`%20` when `plusForSpace` is false), every other UTF-8 byte becomes `%XX`.
    public static func percentEncode(_ s: String, plusForSpace: Bool = true) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if queryAllowed.contains(b) { out.unicodeScalars.append(Unicode.Scalar(b)) }
            else if b == 0x20 && plusForSpace { out += "+" }
            else { out += String(format: "%%%02X", b) }
        }
        return out
    }

    /// Bytes a URL may carry as they are: unreserved and reserved characters (RFC 3986), as
    /// requests' `requote_uri` leaves them.
    static let urlAllowed: [Bool] = {
        var t = [Bool](repeating: false, count: 256)
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!#$&'()*+,/:;=?@[]".utf8 { t[Int(c)] = true }
        return t
    }()

    /// The URL with what needs it %-encoded after the host: raw characters (spaces, non-ASCII
    /// as UTF-8, quotes, …) are encoded, escapes already there (`%` and two hex digits) are kept
    /// as they are, and a `%` that starts no escape becomes `%25`: `/a%20b/ü` → `/a%20b/%C3%BC`.
    /// A URL written fully encoded comes out unchanged, so nothing is encoded twice.
    public static func requoteURL(_ url: String) -> String {
        let bytes = Array(url.utf8)
        // Past "scheme://authority": the host is not %-encoded.
        var from = 0
        if bytes.count >= 3, let k = (0...(bytes.count - 3)).first(where: { bytes[$0] == 0x3A && bytes[$0 + 1] == 0x2F && bytes[$0 + 2] == 0x2F }) {
            from = k + 3
            while from < bytes.count && bytes[from] != UInt8(ascii: "/") && bytes[from] != UInt8(ascii: "?") && bytes[from] != UInt8(ascii: "#") { from += 1 }
        }
        func hex(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
        }
        // The usual case, a URL that needs nothing: returned as it is, with no copy made.
        if !bytes[from...].contains(where: { $0 == UInt8(ascii: "%") || !urlAllowed[Int($0)] }) { return url }
        var out = Array(bytes[0..<from])
        var changed = false
        var i = from
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "%") {
                if i + 2 < bytes.count && hex(bytes[i + 1]) && hex(bytes[i + 2]) {
                    out.append(b)
                } else {
                    out += Array("%25".utf8); changed = true
                }
            } else if urlAllowed[Int(b)] {
                out.append(b)
            } else {
                out += Array(String(format: "%%%02X", b).utf8); changed = true
            }
            i += 1
        }
        return changed ? String(decoding: out, as: UTF8.self) : url
    }

    /// The error for a download that went over `max:`.
    /// Writes a downloaded piece to the file, both client paths alike; `received` (the body's
    /// bytes so far, this piece included) is checked against `max:` first.
    static func writeBody(_ fd: Int32, _ p: UnsafeRawBufferPointer, received: Int, _ spec: HTTPRequestSpec) throws {
        if let limit = spec.maxDownload, received > limit { throw overMaxDownload(spec, limit) }
        if let e = SysCall.writeAll(fd, p) {
            let why = String(cString: strerror(e)).lowercased()
            throw HTTPClientFailure(.io, "\(spec.method) \(spec.url): writing the body failed: \(why)", url: spec.url)
        }
    }

    static func overMaxDownload(_ spec: HTTPRequestSpec, _ limit: Int) -> HTTPClientFailure {
        HTTPClientFailure(.value, "\(spec.method) \(spec.url): the download is larger than max: \(grouped(limit)) bytes; stopped", url: spec.url)
    }

    /// `a=1&b=x+y`: pairs in order, each side %-encoded.
    public static func formEncode(_ pairs: [(String, String)]) -> String {
        pairs.map { percentEncode($0.0) + "=" + percentEncode($0.1) }.joined(separator: "&")
    }

    /// The URL with `params` added to its query (after any it already has), fragment dropped.
    public static func addQuery(_ url: String, _ params: [(String, String)]) -> String {
        var base = url
        if let hash = base.utf8.firstIndex(of: UInt8(ascii: "#")) { base = String(base[..<hash]) }
        guard !params.isEmpty else { return base }
        let q = formEncode(params)
        if base.utf8.contains(UInt8(ascii: "?")) { return base.hasSuffix("?") || base.hasSuffix("&") ? base + q : base + "&" + q }
        return base + "?" + q
    }

    /// Whether `name` equals `lower` (already lower-case ASCII) ignoring ASCII case, without
    /// making a lower-cased copy: header names are compared so on every response.
    public static func nameIs(_ name: String, _ lower: StaticString) -> Bool {
        let n = name.utf8
        guard n.count == lower.utf8CodeUnitCount else { return false }
        return lower.withUTF8Buffer { l in
            var i = 0
            for c in n {
                let folded = c >= 0x41 && c <= 0x5A ? c | 0x20 : c
                if folded != l[i] { return false }
                i += 1
            }
            return true
        }
    }

    /// The comma-separated tokens of a header value (`Connection: keep-alive, Upgrade`),
    /// each without the optional white space around it and lower-cased; empty elements are
    /// dropped, as RFC 9110 §5.6.1 tells a recipient to (`chunked, ` ends in `chunked`).
    /// Pure Swift: Foundation's `trimmingCharacters` goes through NSString on Linux.
    public static func headerTokens(_ value: some StringProtocol) -> [String] {
        value.utf8.split(separator: UInt8(ascii: ",")).compactMap { part in
            var lo = part.startIndex, hi = part.endIndex
            while lo < hi, part[lo] == 0x20 || part[lo] == 0x09 { lo = part.index(after: lo) }
            while hi > lo, part[part.index(before: hi)] == 0x20 || part[part.index(before: hi)] == 0x09 { hi = part.index(before: hi) }
            if lo == hi { return nil }
            return String(decoding: part[lo..<hi].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
    }

    /// Whether text carries a CR, LF or NUL (header splitting): such a request is never sent.
    public static func hasLineBreak(_ s: String) -> Bool {
        s.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }

    /// Checks a URL is absolute http(s) with a host and no spaces or line breaks.
    public static func validate(_ url: String, method: String) throws -> URL {
        if hasLineBreak(url) {
            throw HTTPClientFailure(.value, "\(method) \(url.debugDescription): the URL contains a line break (CR/LF); nothing was sent", url: url)
        }
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = u.host, !host.isEmpty else {
            throw HTTPClientFailure(.value, "\(method) \(url): not an http:// or https:// URL", url: url)
        }
        return u
    }

    /// Resolves a Location header against the URL it came from.
    public static func resolve(_ location: String, against base: String) -> String? {
        guard let b = URL(string: base), let u = URL(string: location, relativeTo: b) else { return nil }
        return u.absoluteURL.absoluteString
    }

    // MARK: bodies

    /// One part of a multipart/form-data body.
    public struct FilePart: Sendable {
        /// The form field name (`"` and CR/LF in it are %-encoded in the part's header).
        public var field: String
        /// The file name the server sees in Content-Disposition (quoted the same way).
        public var filename: String
        /// The part's Content-Type (`application/octet-stream`, `image/png`…); `multipart`
        /// refuses one with a control character (CR/LF would inject header lines).
        public var contentType: String
        /// The file's bytes, sent as they are (no transfer encoding).
        public var content: [UInt8]
        /// A file part for form field `field`.
        public init(field: String, filename: String, contentType: String, content: [UInt8]) {
            self.field = field; self.filename = filename; self.contentType = contentType; self.content = content
        }
    }

    /// A multipart/form-data body: the form fields first, then the files. Returns the body and
    /// the Content-Type with its boundary. A file part's content type with a control character
    /// (CR or LF would start a header line of its own) is a `value` error naming `url`.
    public static func multipart(fields: [(String, String)], files: [FilePart], url: String = "") throws -> (body: [UInt8], contentType: String) {
        if let bad = files.first(where: { $0.contentType.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }) {
            throw HTTPClientFailure(.value, "files: the content type of \(bad.field) has a control character (CR/LF would inject header lines): \(bad.contentType.debugDescription)", url: url)
        }
        var boundary = "netscript-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        // A boundary that occurs in the content would end a part early; pick another (practically never).
        while files.contains(where: { contains($0.content, Array(boundary.utf8)) }) { boundary += "x" }
        var out: [UInt8] = []
        func quote(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "%22")
                .replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
        }
        for (k, v) in fields {
            out += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(quote(k))\"\r\n\r\n".utf8)
            out += Array(v.utf8) + [13, 10]
        }
        for f in files {
            out += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(quote(f.field))\"; filename=\"\(quote(f.filename))\"\r\nContent-Type: \(f.contentType)\r\n\r\n".utf8)
            out += f.content + [13, 10]
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return (out, "multipart/form-data; boundary=\(boundary)")
    }

    static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, hay.count >= needle.count else { return false }
        var i = 0
        while i <= hay.count - needle.count {
            if hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return true }
            i += 1
        }
        return false
    }

    // MARK: text

    /// The `charset=` of a Content-Type, lowercased.
    public static func charset(ofContentType ct: String?) -> String? {
        guard let ct else { return nil }
        for param in ct.split(separator: ";").dropFirst() {
            let kv = param.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0].lowercased() == "charset" {
                return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"'")).lowercased()
            }
        }
        return nil
    }

    /// The body as text by its charset (UTF-8 when none is given; Latin-1 if it is not valid UTF-8).
    public static func decodeText(_ bytes: [UInt8], charset: String?) -> String {
        switch charset ?? "utf-8" {
        case "iso-8859-1", "latin1", "latin-1", "iso8859-1", "us-ascii", "ascii":
            return String(bytes.map { Character(Unicode.Scalar($0)) })
        case "windows-1252", "cp1252":
            return String(data: Data(bytes), encoding: .windowsCP1252) ?? String(decoding: bytes, as: UTF8.self)
        case "utf-16": return String(data: Data(bytes), encoding: .utf16) ?? String(decoding: bytes, as: UTF8.self)
        case "utf-16le": return String(data: Data(bytes), encoding: .utf16LittleEndian) ?? String(decoding: bytes, as: UTF8.self)
        case "utf-16be": return String(data: Data(bytes), encoding: .utf16BigEndian) ?? String(decoding: bytes, as: UTF8.self)
        default:
            if let s = String(validating: bytes, as: UTF8.self) { return s }
            if charset == nil { return String(bytes.map { Character(Unicode.Scalar($0)) }) }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// 1234567 → "1,234,567".
    public static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    // MARK: proxies

    /// The process environment, read once (building it costs more than a loopback request).
    public static let processEnvironment = ProcessInfo.processInfo.environment

    /// Whether the process environment names any HTTP proxy at all (read once): when not,
    /// no request needs `proxy(for:)`.
    public static let proxyConfigured: Bool = ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"].contains {
        !(processEnvironment[$0] ?? "").isEmpty
    }

    /// The proxy to use for a URL from HTTP_PROXY / HTTPS_PROXY / NO_PROXY (either case), or nil.
    public static func proxy(for url: URL, environment: [String: String] = processEnvironment) -> (host: String, port: Int, user: String?, password: String?)? {
        func env(_ name: String) -> String? {
            let v = environment[name.lowercased()] ?? environment[name.uppercased()]
            return (v?.isEmpty ?? true) ? nil : v
        }
        let scheme = url.scheme?.lowercased() ?? "http"
        guard let spec = scheme == "https" ? env("https_proxy") : env("http_proxy") else { return nil }
        let host = (url.host ?? "").lowercased()
        if let no = env("no_proxy") {
            for raw in no.split(separator: ",") {
                var entry = raw.trimmingCharacters(in: .whitespaces).lowercased()
                if entry == "*" { return nil }
                if let colon = entry.lastIndex(of: ":"), !entry.contains("]"), entry.filter({ $0 == ":" }).count == 1 {
                    entry = String(entry[..<colon])
                }
                if entry.hasPrefix(".") { entry.removeFirst() }
                if entry.isEmpty { continue }
                if host == entry || host.hasSuffix("." + entry) { return nil }
            }
        }
        let full = spec.contains("://") ? spec : "http://" + spec
        guard let p = URL(string: full), let ph = p.host else { return nil }
        return (ph, p.port ?? 80, p.user?.removingPercentEncoding, p.password?.removingPercentEncoding)
    }
}

/// Cookies kept between requests (a session's, or one call's across its redirects): the
/// usual rules for domain, path, expiry and Secure, as a browser applies them.
public final class HTTPCookieJar: @unchecked Sendable {
    /// One stored cookie with the attributes that decide where it is sent (RFC 6265 §5.3).
    public struct Cookie: Sendable {
        /// The cookie's name as the server set it.
        public var name: String
        /// The value as the server set it, not decoded.
        public var value: String
        /// The domain it is sent to, lower-cased without a leading dot; empty for one set by hand for every host.
        public var domain: String
        /// True when set without a Domain attribute: sent to exactly that host, not its subdomains.
        public var hostOnly: Bool
        /// Sent only for request paths at or under this one (`/` for every path).
        public var path: String
        /// When the cookie lapses (from Max-Age, else Expires); nil for a session cookie kept as long as the jar.
        public var expires: Date?
        /// True for a Secure cookie: sent over https only.
        public var secure: Bool
    }
    private let lock = NSLock()
    private var cookies: [Cookie] = []
    /// At most this many cookies are kept; the oldest go first.
    public let capacity = 3000

    /// An empty jar.
    public init() {}

    /// The cookies kept now, oldest first, expired ones dropped.
    public var all: [Cookie] { lock.lock(); defer { lock.unlock() }; purge(); return cookies }

    private func purge() {
        let now = Date()
        cookies.removeAll { $0.expires.map { $0 <= now } ?? false }
    }

    /// Sets a cookie by hand (a session's `cookies:` option): it goes to `domain` (any host when empty).
    public func set(name: String, value: String, domain: String = "", path: String = "/") {
        lock.lock(); defer { lock.unlock() }
        cookies.removeAll { $0.name == name && $0.domain == domain && $0.path == path }
        cookies.append(Cookie(name: name, value: value, domain: domain, hostOnly: false, path: path, expires: nil, secure: false))
    }

    /// Forgets every cookie.
    public func clear() { lock.lock(); cookies.removeAll(); lock.unlock() }

    /// Takes the Set-Cookie headers of a response to `url`. Returns the cookies it set, as name/value pairs.
    @discardableResult
    public func store(setCookie headers: [String], from url: URL) -> [(String, String)] {
        if headers.isEmpty { return [] }
        let host = (url.host ?? "").lowercased()
        var set: [(String, String)] = []
        lock.lock(); defer { lock.unlock() }
        for h in headers {
            let parts = h.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = parts.first, let eq = first.firstIndex(of: "=") else { continue }
            let name = String(first[..<eq]).trimmingCharacters(in: .whitespaces)
            let value = String(first[first.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { continue }
            var domain = host, hostOnly = true, path = defaultPath(url), expires: Date? = nil, secure = false
            for attr in parts.dropFirst() {
                let kv = attr.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                let key = kv[0].lowercased(), val = kv.count > 1 ? kv[1] : ""
                switch key {
                case "domain":
                    var d = val.lowercased()
                    if d.hasPrefix(".") { d.removeFirst() }
                    // A server may set cookies for itself or a parent domain, never for another site.
                    if !d.isEmpty, host == d || host.hasSuffix("." + d) { domain = d; hostOnly = false }
                    else if !d.isEmpty { domain = "" }
                case "path": if val.hasPrefix("/") { path = val }
                case "max-age":
                    if let s = Int(val) { expires = Date().addingTimeInterval(TimeInterval(s)) }
                case "expires":
                    if expires == nil, let d = HTTPCookieJar.parseDate(val) { expires = d }
                case "secure": secure = true
                default: break
                }
            }
            if domain.isEmpty { continue }
            cookies.removeAll { $0.name == name && $0.domain == domain && $0.path == path }
            cookies.append(Cookie(name: name, value: value, domain: domain, hostOnly: hostOnly, path: path, expires: expires, secure: secure))
            if cookies.count > capacity { cookies.removeFirst(cookies.count - capacity) }
            set.append((name, value))
        }
        purge()
        return set
    }

    /// The Cookie header value for a request to `url`, or nil when no cookie applies.
    /// `extra` are cookies for this one request (requests' `cookies=`): sent after the jar's,
    /// and in place of a jar cookie of the same name.
    public func header(for url: URL, adding extra: [(String, String)] = []) -> String? {
        lock.lock(); let none = cookies.isEmpty; lock.unlock()
        if none && extra.isEmpty { return nil }
        let own = pairs(for: url)
        let names = Set(extra.map(\.0))
        let all = own.filter { !names.contains($0.0) } + extra
        guard !all.isEmpty else { return nil }
        return all.map { "\($0.0)=\($0.1)" }.joined(separator: "; ")
    }

    private func pairs(for url: URL) -> [(String, String)] {
        let host = (url.host ?? "").lowercased()
        let path = url.path.isEmpty ? "/" : url.path
        let https = url.scheme?.lowercased() == "https"
        lock.lock(); defer { lock.unlock() }
        purge()
        let matching = cookies.filter { c in
            let domainOK = c.domain.isEmpty || (c.hostOnly ? host == c.domain : (host == c.domain || host.hasSuffix("." + c.domain)))
            let pathOK = path == c.path || path.hasPrefix(c.path.hasSuffix("/") ? c.path : c.path + "/") || c.path == "/"
            return domainOK && pathOK && (!c.secure || https)
        }.sorted { $0.path.count > $1.path.count }
        return matching.map { ($0.name, $0.value) }
    }

    private func defaultPath(_ url: URL) -> String {
        let p = url.path
        guard p.hasPrefix("/"), let slash = p.lastIndex(of: "/"), slash != p.startIndex else { return "/" }
        return String(p[..<slash])
    }

    static func parseDate(_ s: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        for fmt in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE, dd-MMM-yyyy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            f.dateFormat = fmt
            if let d = f.date(from: s) { return d }
        }
        return nil
    }
}
