import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How the static file server answers one GET or HEAD: what it decided, before any byte is written.
/// Paths are decoded segment by segment and every resolved path is checked against the root's
/// real path, so `..`, encoded slashes, NUL and symlinks leading out are refused.
enum HTTPStaticPlan {
    /// An open regular file (the caller closes `fd`).
    case file(fd: CInt, path: String, size: Int, mtime: Int)
    case listing(html: [UInt8])
    case redirect(location: String)
    case error(status: Int, message: String)
}

enum HTTPStaticFiles {
    /// Decodes the URL path into segments. `.` and empty segments are dropped; `..`, an encoded
    /// `/` or NUL, and text that is not UTF-8 are refused (status and message).
    static func segments(_ rawPath: Substring) -> Result<[String], HTTPFailure> {
        var out: [String] = []
        for seg in rawPath.split(separator: "/", omittingEmptySubsequences: true) {
            guard let bytes = percentDecode(seg) else { return .failure(HTTPFailure(400, "Bad request path (invalid percent-escape)")) }
            if bytes.contains(0) || bytes.contains(0x2F) {
                return .failure(HTTPFailure(404, "File not found"))
            }
            guard let s = String(validating: bytes, as: UTF8.self) else { return .failure(HTTPFailure(404, "File not found")) }
            if s == "." { continue }
            if s == ".." { return .failure(HTTPFailure(403, "Forbidden: the path leaves the served directory")) }
            out.append(s)
        }
        return .success(out)
    }

    static func percentDecode(_ s: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "%") {
                guard let h = it.next().flatMap(hexValue), let l = it.next().flatMap(hexValue) else { return nil }
                out.append(h << 4 | l)
            } else {
                out.append(b)
            }
        }
        return out
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    /// The real path of `path` when it lies inside `root` (itself a real path), else nil.
    static func realPathInside(_ path: String, root: String) -> (String?, exists: Bool) {
        guard let p = realpath(path, nil) else { return (nil, false) }
        defer { free(p) }
        let real = String(cString: p)
        if root == "/" || real == root || real.hasPrefix(root + "/") { return (real, true) }
        return (nil, true)
    }

    /// Decides the answer for `rawPath` (no query) under `root` (a real path).
    static func plan(rawPath: Substring, query: Substring?, root: String) -> HTTPStaticPlan {
        let segs: [String]
        switch segments(rawPath) {
        case .failure(let f): return .error(status: f.status, message: f.message)
        case .success(let s): segs = s
        }
        let joined = segs.isEmpty ? root : (root == "/" ? "" : root) + "/" + segs.joined(separator: "/")
        let (found, exists) = realPathInside(joined, root: root)
        guard let real = found else {
            return exists ? .error(status: 403, message: "Forbidden: the path leads outside the served directory")
                          : .error(status: 404, message: "File not found")
        }
        var st = stat()
        guard stat(real, &st) == 0 else { return .error(status: 404, message: "File not found") }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if !rawPath.hasSuffix("/") {
                return .redirect(location: String(rawPath) + "/" + (query.map { "?" + $0 } ?? ""))
            }
            for index in ["index.html", "index.htm"] {
                let (ip, _) = realPathInside(real + (real == "/" ? "" : "/") + index, root: root)
                if let ip, case .file(let fd, let p, let size, let mtime) = open(ip) { return .file(fd: fd, path: p, size: size, mtime: mtime) }
            }
            return listing(dir: real, rawPath: rawPath)
        }
        if rawPath.hasSuffix("/") { return .error(status: 404, message: "File not found") }
        return open(real)
    }

    /// Opens a regular file without blocking (a FIFO or device is refused, never opened for reading).
    /// What identifies one version of a file: inode, size and modification time in nanoseconds.
    struct Stamp: Equatable {
        var ino: UInt64, size: Int64, sec: Int64, nsec: Int64
        init(_ st: stat) { ino = UInt64(st.st_ino); size = Int64(st.st_size); sec = Int64(st.st_mtim.tv_sec); nsec = Int64(st.st_mtim.tv_nsec) }
    }

    /// The version of the regular file at `path` (not following a symlink), or nil.
    static func stamp(_ path: String) -> Stamp? {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Stamp(st)
    }

    static func stamp(fd: CInt) -> Stamp? {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Stamp(st)
    }

    static func open(_ path: String) -> HTTPStaticPlan {
        let fd = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            return errno == EACCES ? .error(status: 403, message: "Forbidden: permission denied") : .error(status: 404, message: "File not found")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return .error(status: 403, message: "Forbidden: not a regular file")
        }
        return .file(fd: fd, path: path, size: Int(st.st_size), mtime: Int(st.st_mtim.tv_sec))
    }

    /// An HTML listing as Python's SimpleHTTPRequestHandler makes it: names HTML-escaped,
    /// links percent-quoted, directories with `/`, symlinks with `@`, sorted case-insensitively.
    static func listing(dir: String, rawPath: Substring) -> HTTPStaticPlan {
        guard let d = opendir(dir) else { return .error(status: 404, message: "No permission to list directory") }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw -> String? in
                let bytes = raw.prefix(while: { $0 != 0 })
                return String(validating: Array(bytes), as: UTF8.self)
            }
            guard let name, name != ".", name != ".." else { continue }
            names.append(name)
        }
        names.sort { $0.lowercased() < $1.lowercased() }
        let shown = String(decoding: percentDecode(rawPath) ?? Array(rawPath.utf8), as: UTF8.self)
        let title = "Directory listing for \(htmlEscape(shown))"
        var html = """
        <!DOCTYPE HTML>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(title)</title>
        </head>
        <body>
        <h1>\(title)</h1>
        <hr>
        <ul>

        """
        for name in names {
            let full = dir + (dir == "/" ? "" : "/") + name
            var display = name, link = name
            var st = stat(), lst = stat()
            if stat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { display += "/"; link += "/" }
            if lstat(full, &lst) == 0, (lst.st_mode & S_IFMT) == S_IFLNK { display = name + "@" }   // as Python does
            html += "<li><a href=\"\(urlQuote(link))\">\(htmlEscape(display))</a></li>\n"
        }
        html += "</ul>\n<hr>\n</body>\n</html>\n"
        return .listing(html: Array(html.utf8))
    }

    /// `&`, `<`, `>` escaped (Python's `html.escape(s, quote=False)`).
    static func htmlEscape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Percent-quotes every byte but letters, digits, `_.-~` and `/` (Python's `urllib.parse.quote`).
    static func urlQuote(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"),
                 UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.append(b)
            default:
                out.append(UInt8(ascii: "%")); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: MIME types

    /// The Content-Type for a file name (MediaTypes; text types with charset=utf-8).
    public static func mimeType(_ path: String) -> String { MediaTypes.contentType(forFile: path) }

    // MARK: ranges

    enum RangeAnswer: Equatable {
        /// No usable Range header: send the whole file.
        case whole
        case unsatisfiable
        case ranges([ClosedRange<Int>])
    }

    /// Parses `Range: bytes=…` (RFC 9110 §14): `a-b`, `a-`, `-n`. A malformed header, another
    /// unit or more than 64 ranges is ignored (the whole file is sent).
    static func ranges(_ header: String, size: Int) -> RangeAnswer {
        let h = header.trimmingCharacters(in: .whitespaces)
        guard h.lowercased().hasPrefix("bytes=") else { return .whole }
        let specs = h.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false)
        guard !specs.isEmpty, specs.count <= 64 else { return .whole }
        var out: [ClosedRange<Int>] = []
        for raw in specs {
            let spec = raw.trimmingCharacters(in: .whitespaces)
            guard let dash = spec.firstIndex(of: "-") else { return .whole }
            let a = spec[..<dash], b = spec[spec.index(after: dash)...]
            let digits: (Substring) -> Bool = { !$0.isEmpty && $0.count <= 18 && $0.allSatisfy { $0.isASCII && $0.isNumber } }
            if a.isEmpty {
                guard digits(b), let n = Int(b) else { return .whole }
                if n > 0, size > 0 { out.append(max(0, size - n)...(size - 1)) }
            } else {
                guard digits(a), let first = Int(a) else { return .whole }
                var last = size - 1
                if !b.isEmpty {
                    guard digits(b), let l = Int(b), l >= first else { return .whole }
                    last = min(l, size - 1)
                }
                if first < size { out.append(first...last) }
            }
        }
        return out.isEmpty ? .unsatisfiable : .ranges(out)
    }

    // MARK: dates

    static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// An HTTP date (IMF-fixdate): `Wed, 25 Nov 2026 12:00:00 GMT`.
    public static func httpDate(_ t: Int) -> String {
        var tt = time_t(t), tm = tm()
        gmtime_r(&tt, &tm)
        return "\(dayNames[Int(tm.tm_wday)]), \(pad2(tm.tm_mday)) \(monthNames[Int(tm.tm_mon)]) \(tm.tm_year + 1900) \(pad2(tm.tm_hour)):\(pad2(tm.tm_min)):\(pad2(tm.tm_sec)) GMT"
    }

    /// Python's access-log date, in local time: `25/Nov/2026 12:00:00`.
    static func logDate(_ t: Int) -> String {
        var tt = time_t(t), tm = tm()
        localtime_r(&tt, &tm)
        return "\(pad2(tm.tm_mday))/\(monthNames[Int(tm.tm_mon)])/\(tm.tm_year + 1900) \(pad2(tm.tm_hour)):\(pad2(tm.tm_min)):\(pad2(tm.tm_sec))"
    }

    static func pad2(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }

    /// Parses the three HTTP date forms (IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850
    /// `Sunday, 06-Nov-94 08:49:37 GMT`, asctime `Sun Nov  6 08:49:37 1994`); nil when it is none.
    public static func parseHTTPDate(_ s: String) -> Int? {
        let words = s.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" }).map(String.init)
        var day: Int?, month: Int?, year: Int?, clock: [Int]?
        for w in words.dropFirst() {
            if w.contains(":") {
                let p = w.split(separator: ":").compactMap { Int($0) }
                guard p.count == 3 else { return nil }
                clock = p
            } else if let m = monthNames.firstIndex(of: w) {
                month = m
            } else if let n = Int(w) {
                // The day comes before the year in all three forms.
                if day == nil { day = n }
                else if year == nil { year = w.count == 2 ? (n < 70 ? 2000 + n : 1900 + n) : n }
                else { return nil }
            } else if w != "GMT" { return nil }
        }
        guard let d = day, let m = month, let y = year, let c = clock, (1...31).contains(d), c[0] < 24, c[1] < 60, c[2] < 61 else { return nil }
        var t = tm()
        t.tm_year = Int32(y - 1900); t.tm_mon = Int32(m); t.tm_mday = Int32(d)
        t.tm_hour = Int32(c[0]); t.tm_min = Int32(c[1]); t.tm_sec = Int32(c[2])
        return Int(timegm(&t))
    }
}

/// A refusal: an HTTP status and the message for the error page and the log.
struct HTTPFailure: Error {
    let status: Int
    let message: String
    init(_ status: Int, _ message: String) { self.status = status; self.message = message }
}
