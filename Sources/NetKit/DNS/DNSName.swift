/// A domain name as a list of labels (raw bytes, case kept). Names compare and hash
/// case-insensitively, as DNS does; they print with escapes (`\.`, `\032`) and a trailing dot.
public struct DNSName: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The labels from the leftmost (`www`) to the top-level domain, raw bytes without length
    /// prefixes; empty for the root. Each is 1–63 bytes and the whole name at most 255 on the wire.
    public private(set) var labels: [[UInt8]]

    /// The root, `.`: no labels; the parent of every top-level domain.
    public static let root = DNSName(unchecked: [])

    init(unchecked labels: [[UInt8]]) { self.labels = labels }

    /// A name from labels; at most 63 bytes a label and 255 bytes on the wire.
    public init(labels: [[UInt8]]) throws {
        for l in labels {
            if l.isEmpty { throw DNSError.syntax("empty label in a name") }
            if l.count > 63 { throw DNSError.syntax("label longer than 63 bytes") }
        }
        self.labels = labels
        if wireLength > 255 { throw DNSError.syntax("name longer than 255 bytes") }
    }

    /// Parses presentation text. A name without a trailing dot is relative: it is completed
    /// with `origin` (the root when nil). `@` is the origin itself.
    public init(_ text: String, origin: DNSName? = nil) throws {
        let (n, absolute) = try DNSName.parse(text)
        if text == "@" { self = origin ?? .root; return }
        if absolute || origin == nil || origin!.isRoot { self = n } else { self = try n.appending(origin!) }
    }

    /// Parses presentation text into labels and whether it ended with a dot.
    public static func parse(_ text: String) throws -> (DNSName, absolute: Bool) {
        if text == "." { return (.root, true) }
        if text == "@" { return (.root, false) }
        if text.isEmpty { throw DNSError.syntax("empty name") }
        var labels: [[UInt8]] = []
        var cur: [UInt8] = []
        let b = Array(text.utf8)
        var i = 0
        var endedWithDot = false
        while i < b.count {
            let c = b[i]
            endedWithDot = false
            if c == UInt8(ascii: ".") {
                if cur.isEmpty { throw DNSError.syntax("empty label in name '\(text)'") }
                labels.append(cur); cur = []; endedWithDot = true; i += 1
            } else if c == UInt8(ascii: "\\") {
                guard i + 1 < b.count else { throw DNSError.syntax("dangling backslash in name '\(text)'") }
                if isDigit(b[i + 1]) {
                    guard i + 3 < b.count, isDigit(b[i + 2]), isDigit(b[i + 3]) else { throw DNSError.syntax("bad \\DDD escape in name '\(text)'") }
                    let v = Int(b[i + 1] - 48) * 100 + Int(b[i + 2] - 48) * 10 + Int(b[i + 3] - 48)
                    guard v < 256 else { throw DNSError.syntax("bad \\DDD escape in name '\(text)'") }
                    cur.append(UInt8(v)); i += 4
                } else { cur.append(b[i + 1]); i += 2 }
            } else { cur.append(c); i += 1 }
        }
        if !cur.isEmpty { labels.append(cur) }
        do { return (try DNSName(labels: labels), endedWithDot) } catch let e as DNSError {
            throw DNSError.syntax("\(e.message) in '\(text)'")
        }
    }

    /// True for the root name `.` (no labels).
    public var isRoot: Bool { labels.isEmpty }
    /// How many labels, the root not counted (`www.example.test.` has 3).
    public var labelCount: Int { labels.count }
    /// Length in uncompressed wire form, including the final zero byte.
    public var wireLength: Int { labels.reduce(1) { $0 + $1.count + 1 } }

    /// This name followed by `suffix` (`www` + `example.test.`). Throws `DNSError` (`.syntax`) when the result is over 255 bytes.
    public func appending(_ suffix: DNSName) throws -> DNSName { try DNSName(labels: labels + suffix.labels) }
    /// The name with one more label in front, taken as raw UTF-8 bytes (no escapes parsed). Throws
    /// `DNSError` (`.syntax`) when the label is empty or over 63 bytes, or the name over 255.
    public func prepending(_ label: String) throws -> DNSName { try DNSName(labels: [Array(label.utf8)] + labels) }
    /// The name without its first label (the root stays the root).
    public var parent: DNSName { labels.isEmpty ? self : DNSName(unchecked: Array(labels.dropFirst())) }

    /// True when `other`'s labels end this name, compared case-insensitively; a name is a subdomain
    /// of itself, and every name is a subdomain of the root.
    public func isSubdomain(of other: DNSName) -> Bool {
        guard other.labels.count <= labels.count else { return false }
        return DNSName(unchecked: Array(labels.suffix(other.labels.count))) == other
    }

    /// The name with ASCII letters lowercased (bytes over 127 kept): the canonical form DNSSEC and TSIG sign (RFC 4034 §6.2).
    public var lowercased: DNSName { DNSName(unchecked: labels.map { $0.map(DNSName.lower) }) }

    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { (c >= 65 && c <= 90) ? c | 0x20 : c }
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// Equal when the labels match byte for byte, ASCII letters compared case-insensitively (RFC 4343).
    public static func == (a: DNSName, b: DNSName) -> Bool {
        guard a.labels.count == b.labels.count else { return false }
        for (x, y) in zip(a.labels, b.labels) {
            guard x.count == y.count else { return false }
            for (p, q) in zip(x, y) where lower(p) != lower(q) { return false }
        }
        return true
    }

    /// Hashes the lowercased labels, so names equal under `==` hash alike.
    public func hash(into h: inout Hasher) {
        for l in labels { h.combine(l.count); for c in l { h.combine(DNSName.lower(c)) } }
    }

    /// Canonical DNSSEC order (RFC 4034 §6.1): by labels from the right, bytes lowercased.
    public static func < (a: DNSName, b: DNSName) -> Bool {
        for (x, y) in zip(a.labels.reversed(), b.labels.reversed()) {
            let lx = x.map(lower), ly = y.map(lower)
            if lx != ly { return lx.lexicographicallyPrecedes(ly) }
        }
        return a.labels.count < b.labels.count
    }

    /// Presentation text with a trailing dot, escaped as dig prints it.
    public var description: String {
        if labels.isEmpty { return "." }
        var out = ""
        for l in labels {
            for c in l {
                switch c {
                case UInt8(ascii: "."), UInt8(ascii: ";"), UInt8(ascii: "\\"), UInt8(ascii: "("), UInt8(ascii: ")"),
                     UInt8(ascii: "\""), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    out.append("\\"); out.unicodeScalars.append(Unicode.Scalar(c))
                case 0x21...0x7E: out.unicodeScalars.append(Unicode.Scalar(c))
                default: out += DNSName.decimalEscape(c)
                }
            }
            out.append(".")
        }
        return out
    }

    static func decimalEscape(_ c: UInt8) -> String {
        let s = String(c)
        return "\\" + String(repeating: "0", count: 3 - s.count) + s
    }
}
