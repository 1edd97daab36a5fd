/// Zone-file (presentation) text for record data, both ways, as dig prints it.
import Foundation

/// One token of zone-file text. `raw` keeps escapes (names need `\.` intact); quoted tokens
/// are marked so `""` can be an empty string.
public struct DNSToken: Sendable {
    /// The token's text with quotes removed and backslash escapes still in place.
    public var raw: String
    /// True when the token was in double quotes: `""` is then an empty string, and a quoted word
    /// is never taken for a TTL, class or type.
    public var quoted: Bool
}

/// Zone-file text helpers: tokens, character-strings, and the binary encodings record data uses
/// (base64, hex, base32hex, RRSIG times), each reading what it writes.
public enum DNSText {
    /// Splits zone-file text into tokens: whitespace separates, `"…"` quotes, `;` starts a
    /// comment, parentheses are dropped (they only continue lines).
    public static func tokenize(_ text: String) throws -> [DNSToken] {
        var out: [DNSToken] = []
        let s = Array(text.unicodeScalars)
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "(" || c == ")" { i += 1; continue }
            if c == ";" { while i < s.count && s[i] != "\n" { i += 1 }; continue }
            var tok = String.UnicodeScalarView()
            var quoted = false
            if c == "\"" {
                quoted = true; i += 1
                var closed = false
                while i < s.count {
                    if s[i] == "\\", i + 1 < s.count { tok.append(s[i]); tok.append(s[i + 1]); i += 2; continue }
                    if s[i] == "\"" { closed = true; i += 1; break }
                    tok.append(s[i]); i += 1
                }
                if !closed { throw DNSError.syntax("unterminated quoted string") }
            } else {
                while i < s.count {
                    let d = s[i]
                    if d == " " || d == "\t" || d == "\n" || d == "\r" || d == "(" || d == ")" || d == ";" { break }
                    if d == "\\", i + 1 < s.count { tok.append(d); tok.append(s[i + 1]); i += 2; continue }
                    if d == "\"" {
                        // key="value" inside one token (SVCB parameters)
                        tok.append(d); i += 1
                        while i < s.count && s[i] != "\"" {
                            if s[i] == "\\", i + 1 < s.count { tok.append(s[i]); i += 1 }
                            tok.append(s[i]); i += 1
                        }
                        if i < s.count { tok.append(s[i]); i += 1 }
                        continue
                    }
                    tok.append(d); i += 1
                }
            }
            out.append(DNSToken(raw: String(tok), quoted: quoted))
        }
        return out
    }

    /// Bytes of a character-string token, with `\X` and `\DDD` escapes decoded.
    public static func unescape(_ raw: String) throws -> [UInt8] {
        let b = Array(raw.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "\\") {
                guard i + 1 < b.count else { throw DNSError.syntax("dangling backslash in '\(raw)'") }
                if DNSName.isDigit(b[i + 1]) {
                    guard i + 3 < b.count, DNSName.isDigit(b[i + 2]), DNSName.isDigit(b[i + 3]) else { throw DNSError.syntax("bad \\DDD escape in '\(raw)'") }
                    let v = Int(b[i + 1] - 48) * 100 + Int(b[i + 2] - 48) * 10 + Int(b[i + 3] - 48)
                    guard v < 256 else { throw DNSError.syntax("bad \\DDD escape in '\(raw)'") }
                    out.append(UInt8(v)); i += 4
                } else { out.append(b[i + 1]); i += 2 }
            } else { out.append(b[i]); i += 1 }
        }
        return out
    }

    /// A character-string in quotes, as dig prints it: `"` and `\` escaped, bytes outside
    /// printable ASCII as `\DDD`.
    public static func quote(_ bytes: [UInt8]) -> String {
        var out = "\""
        for c in bytes {
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append("\\"); out.unicodeScalars.append(Unicode.Scalar(c))
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(c))
            default: out += DNSName.decimalEscape(c)
            }
        }
        return out + "\""
    }

    // MARK: binary encodings

    /// Base64 as RFC 4648 (Foundation's codec); the presentation form may split it with spaces,
    /// which the caller joins before decoding.
    public static func base64(_ d: [UInt8]) -> String { Data(d).base64EncodedString() }
    /// Decodes base64 (RFC 4648) with padding and without spaces. Throws `DNSError` (`.syntax`) on a
    /// character outside the alphabet, a length not a multiple of 4, or data after the padding.
    public static func fromBase64(_ s: String) throws -> [UInt8] {
        if let bad = s.unicodeScalars.first(where: { !($0.isASCII && (CharacterSet.alphanumerics.contains($0) || "+/=".unicodeScalars.contains($0))) }) {
            throw DNSError.syntax("bad base64 character '\(bad)'")
        }
        guard s.utf8.count % 4 == 0, let data = Data(base64Encoded: s) else {
            throw DNSError.syntax(s.utf8.count % 4 == 0 ? "base64 data after padding" : "base64 text of bad length")
        }
        return Array(data)
    }

    /// Uppercase hex, two digits a byte, no separators (`0A1B`); empty for no bytes.
    public static func hex(_ d: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out = [UInt8](); out.reserveCapacity(d.count * 2)
        for b in d { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
    /// Decodes hex digits of either case, no separators. Throws `DNSError` (`.syntax`) on an odd
    /// length or a character that is not a hex digit.
    public static func fromHex(_ s: String) throws -> [UInt8] {
        func nib(_ c: UInt8) throws -> UInt8 {
            switch c {
            case 48...57: return c - 48
            case 65...70: return c - 55
            case 97...102: return c - 87
            default: throw DNSError.syntax("bad hex digit '\(Unicode.Scalar(c))'")
            }
        }
        let b = Array(s.utf8)
        guard b.count % 2 == 0 else { throw DNSError.syntax("hex text of odd length") }
        var out: [UInt8] = []
        var i = 0
        while i < b.count { out.append(try nib(b[i]) << 4 | nib(b[i + 1])); i += 2 }
        return out
    }

    static let b32 = Array("0123456789ABCDEFGHIJKLMNOPQRSTUV".utf8)
    /// Base32 with the extended hex alphabet, no padding (NSEC3).
    public static func base32hex(_ d: [UInt8]) -> String {
        var out = [UInt8]()
        var acc: UInt32 = 0, bits = 0
        for b in d {
            acc = acc << 8 | UInt32(b); bits += 8
            while bits >= 5 { bits -= 5; out.append(b32[Int(acc >> UInt32(bits) & 31)]) }
        }
        if bits > 0 { out.append(b32[Int(acc << UInt32(5 - bits) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }
    /// Decodes base32hex (RFC 4648 §7) of either case; `=` padding is skipped and bits short of a
    /// whole byte at the end are dropped. Throws `DNSError` (`.syntax`) on a character outside `0-9A-V`.
    public static func fromBase32hex(_ s: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var acc: UInt32 = 0, bits = 0
        for c in s.uppercased().utf8 where c != 61 {
            let v: UInt32
            switch c {
            case 48...57: v = UInt32(c - 48)
            case 65...86: v = UInt32(c - 55)
            default: throw DNSError.syntax("bad base32hex character '\(Unicode.Scalar(c))'")
            }
            acc = (acc << 5 | v) & 0xFFFF; bits += 5
            if bits >= 8 { bits -= 8; out.append(UInt8(acc >> UInt32(bits) & 0xFF)) }
        }
        return out
    }

    /// dig breaks long base64/hex into space-separated chunks of 56 characters.
    static func chunked(_ s: String, _ width: Int = 56) -> String {
        guard s.count > width else { return s }
        var parts: [Substring] = []
        var rest = Substring(s)
        while !rest.isEmpty { parts.append(rest.prefix(width)); rest = rest.dropFirst(width) }
        return parts.joined(separator: " ")
    }

    // MARK: times (RRSIG)

    /// Seconds since 1970 as YYYYMMDDHHMMSS in UTC.
    public static func timestamp(_ t: UInt32) -> String {
        let secs = Int(t)
        let days = secs / 86400, rem = secs % 86400
        // Civil from days (Howard Hinnant's algorithm).
        let z = days + 719468
        let era = z / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func p(_ v: Int, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return p(y, 4) + p(m, 2) + p(d, 2) + p(rem / 3600, 2) + p(rem / 60 % 60, 2) + p(rem % 60, 2)
    }
    /// Reads an RRSIG time: 14 digits YYYYMMDDHHMMSS in UTC, or any other number as seconds since
    /// 1970 (RFC 4034 §3.2); dates past 2106 wrap modulo 2^32. Throws `DNSError` (`.syntax`) for anything else.
    public static func parseTimestamp(_ s: String) throws -> UInt32 {
        if s.count != 14, let v = UInt32(s) { return v }
        let b = Array(s.utf8)
        guard b.count == 14, b.allSatisfy(DNSName.isDigit) else { throw DNSError.syntax("bad time '\(s)' (want YYYYMMDDHHMMSS)") }
        func n(_ a: Int, _ l: Int) -> Int { b[a..<a + l].reduce(0) { $0 * 10 + Int($1 - 48) } }
        let y = n(0, 4), m = n(4, 2), d = n(6, 2), hh = n(8, 2), mm = n(10, 2), ss = n(12, 2)
        guard (1...12).contains(m), (1...31).contains(d), hh < 24, mm < 60, ss < 61 else { throw DNSError.syntax("bad time '\(s)'") }
        let yy = m <= 2 ? y - 1 : y
        let era = yy / 400
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        let t = days * 86400 + hh * 3600 + mm * 60 + ss
        // Serial-number arithmetic wraps (RFC 4034 §3.1.5).
        return UInt32(truncatingIfNeeded: t)
    }
}

// MARK: SVCB parameters

enum DNSSvcKeys {
    static let names: [UInt16: String] = [0: "mandatory", 1: "alpn", 2: "no-default-alpn", 3: "port", 4: "ipv4hint",
                                          5: "ech", 6: "ipv6hint", 7: "dohpath"]
    static func name(_ k: UInt16) -> String { names[k] ?? "key\(k)" }
    static func key(_ s: String) throws -> UInt16 {
        if let (k, _) = names.first(where: { $0.value == s.lowercased() }) { return k }
        if s.lowercased().hasPrefix("key"), let v = UInt16(s.dropFirst(3)) { return v }
        throw DNSError.syntax("unknown SVCB parameter '\(s)'")
    }

    /// `key=value` as dig prints it; a value its key's syntax cannot show comes out in the
    /// generic `keyN="…"` form, which parses back to the same bytes.
    static func text(_ p: DNSSvcParam) -> String {
        let name = self.name(p.key)
        let generic = "key\(p.key)=" + DNSText.quote(p.value)
        var r = DNSReader(p.value)
        func attempt(_ body: (inout DNSReader) throws -> String) -> String {
            if let s = try? body(&r), r.atEnd { return s }
            return generic
        }
        switch p.key {
        case 0: return attempt { r in
            var ks: [String] = []
            while !r.atEnd { ks.append(self.name(try r.u16())) }
            if ks.isEmpty { throw DNSError.malformed("empty") }
            return name + "=" + ks.joined(separator: ",") }
        case 1:
            return attempt { r in
                // Value-list escaping (`\,` and `\\`), then character-string quoting.
                var list: [UInt8] = []
                while !r.atEnd {
                    let n = Int(try r.u8())
                    if n == 0 { throw DNSError.malformed("empty alpn id") }
                    if !list.isEmpty { list.append(UInt8(ascii: ",")) }
                    for c in try r.take(n) {
                        if c == UInt8(ascii: ",") || c == UInt8(ascii: "\\") { list.append(UInt8(ascii: "\\")) }
                        list.append(c)
                    }
                }
                if list.isEmpty { throw DNSError.malformed("empty") }
                return name + "=" + DNSText.quote(list)
            }
        case 2: return p.value.isEmpty ? name : generic
        case 3: return attempt { r in name + "=" + String(try r.u16()) }
        case 4: return attempt { r in
            var a: [String] = []
            while !r.atEnd { a.append(IPAddress(v4: try r.u32()).description) }
            if a.isEmpty { throw DNSError.malformed("empty") }
            return name + "=" + a.joined(separator: ",") }
        case 5: return p.value.isEmpty ? generic : name + "=" + DNSText.base64(p.value)
        case 6:
            return attempt { r in
                var a: [String] = []
                while !r.atEnd { a.append(IPAddress(v6: try r.take(16).reduce(UInt128(0)) { $0 << 8 | UInt128($1) }).description) }
                if a.isEmpty { throw DNSError.malformed("empty") }
                return name + "=" + a.joined(separator: ",")
            }
        default: return generic
        }
    }

    static func parse(_ token: String) throws -> DNSSvcParam {
        let parts = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let keyText = String(parts[0])
        let key = try key(keyText)
        let isGeneric = keyText.lowercased().hasPrefix("key")
        var raw = parts.count > 1 ? String(parts[1]) : ""
        if raw.hasPrefix("\""), raw.hasSuffix("\""), raw.count >= 2 { raw = String(raw.dropFirst().dropLast()) }
        var w = DNSWriter()
        if isGeneric {
            w.append(try DNSText.unescape(raw))
            return DNSSvcParam(key: key, value: w.bytes)
        }
        switch key {
        case 0: for k in raw.split(separator: ",") { w.u16(try self.key(String(k))) }
        case 1:
            // Character-string escapes first, then the value list: `,` separates, `\` escapes.
            var ids: [[UInt8]] = [[]]
            let b = try DNSText.unescape(raw)
            var i = 0
            while i < b.count {
                if b[i] == UInt8(ascii: "\\"), i + 1 < b.count { ids[ids.count - 1].append(b[i + 1]); i += 2; continue }
                if b[i] == UInt8(ascii: ",") { ids.append([]) } else { ids[ids.count - 1].append(b[i]) }
                i += 1
            }
            for id in ids {
                guard !id.isEmpty, id.count <= 255 else { throw DNSError.syntax("bad alpn id in '\(token)'") }
                w.u8(UInt8(id.count)); w.append(id)
            }
        case 2: if !raw.isEmpty { throw DNSError.syntax("no-default-alpn takes no value") }
        case 3: guard let v = UInt16(raw) else { throw DNSError.syntax("bad port '\(raw)'") }; w.u16(v)
        case 4, 6:
            for a in raw.split(separator: ",") {
                let ip = try IPAddress(String(a))
                guard (ip.version == .v4) == (key == 4) else { throw DNSError.syntax("wrong address family in \(name(key))") }
                w.append(ip.packed)
            }
        case 5: w.append(try DNSText.fromBase64(raw))
        default: w.append(try DNSText.unescape(raw))
        }
        return DNSSvcParam(key: key, value: w.bytes)
    }
}

// MARK: rdata ⇄ text

extension DNSRData {
    /// The data as dig prints it (`10 mail.example.test.`).
    public func text(_ type: DNSType) -> String {
        switch self {
        case .opaque(let b):
            return b.isEmpty ? "\\# 0" : "\\# \(b.count) " + DNSText.chunked(DNSText.hex(b))
        case .fields(let fields):
            guard let schema = DNSRData.schema(type), schema.count == fields.count, presentable(type) else {
                return DNSRData.opaque(wire(type)).text(type)
            }
            var parts: [String] = []
            for (spec, f) in zip(schema, fields) {
                switch (spec.kind, f) {
                case (.time, .int(let v)): parts.append(DNSText.timestamp(v))
                case (_, .int(let v)): parts.append(String(v))
                case (_, .name(let n)): parts.append(n.description)
                case (_, .address(let a)): parts.append(a.description)
                case (.caaTag, .text(let t)): parts.append(String(decoding: t, as: UTF8.self))
                case (_, .text(let t)): parts.append(DNSText.quote(t))
                case (_, .texts(let ts)): parts.append(ts.isEmpty ? "\"\"" : ts.map(DNSText.quote).joined(separator: " "))
                case (.base64Rest, .data(let d)): if !d.isEmpty { parts.append(DNSText.chunked(DNSText.base64(d))) }
                case (.hexLen8, .data(let d)): parts.append(d.isEmpty ? "-" : DNSText.hex(d))
                case (.base32Len8, .data(let d)): parts.append(DNSText.base32hex(d))
                case (_, .data(let d)): if !d.isEmpty { parts.append(DNSText.chunked(DNSText.hex(d))) }
                case (.type16, .types(let t)): parts.append(t.first?.description ?? "TYPE0")
                case (_, .types(let t)): if !t.isEmpty { parts.append(t.map(\.description).joined(separator: " ")) }
                case (_, .params(let ps)): parts += ps.map(DNSSvcKeys.text)
                }
            }
            return parts.joined(separator: " ")
        }
    }

    /// Whether the typed text form can show this data faithfully; when not (a CAA tag that is
    /// not alphanumeric), the generic `\\# LEN HEX` form is used.
    func presentable(_ type: DNSType) -> Bool {
        guard type == .CAA, case .fields(let f) = self, f.count == 3, case .text(let tag) = f[1] else { return true }
        return !tag.isEmpty && tag.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }

    /// Parses the data part of a zone-file line for a type; relative names are completed
    /// with `origin`. `\# LEN HEX` is accepted for every type.
    public static func parse(_ type: DNSType, _ text: String, origin: DNSName? = nil) throws -> DNSRData {
        try parse(type, tokens: DNSText.tokenize(text), origin: origin)
    }

    /// As `parse(_:_:origin:)`, from tokens already split by `DNSText.tokenize`. Throws `DNSError`
    /// (`.syntax`) when a field is missing, out of range or left over, or `\#` data does not fit the type.
    public static func parse(_ type: DNSType, tokens: [DNSToken], origin: DNSName? = nil) throws -> DNSRData {
        if let first = tokens.first, first.raw == "\\#", !first.quoted {
            guard tokens.count >= 2, let n = Int(tokens[1].raw) else { throw DNSError.syntax("\\# needs a length") }
            let data = try DNSText.fromHex(tokens.dropFirst(2).map(\.raw).joined())
            guard data.count == n else { throw DNSError.syntax("\\# length \(n) does not match \(data.count) bytes of data") }
            // Known types given generically are decoded into fields when the data is valid.
            if schema(type) != nil, !data.isEmpty {
                var r = DNSReader(data)
                if let d = try? decode(type, &r, length: data.count) { return d }
                throw DNSError.syntax("\\# data is not valid \(type) data")
            }
            return .opaque(data)
        }
        guard let schema = schema(type) else { throw DNSError.syntax("\(type) data must be given as \\# LEN HEX") }
        var i = 0
        func next(_ what: String) throws -> DNSToken {
            guard i < tokens.count else { throw DNSError.syntax("\(type): missing \(what)") }
            defer { i += 1 }
            return tokens[i]
        }
        func rest() -> [DNSToken] { defer { i = tokens.count }; return Array(tokens[i...]) }
        func int(_ t: DNSToken, _ max: UInt32, _ what: String) throws -> UInt32 {
            guard let v = UInt32(t.raw), v <= max else { throw DNSError.syntax("\(type): bad \(what) '\(t.raw)'") }
            return v
        }
        var out: [DNSField] = []
        for spec in schema {
            switch spec.kind {
            case .u8: out.append(.int(try int(next(spec.name), 255, spec.name)))
            case .u16: out.append(.int(try int(next(spec.name), 65535, spec.name)))
            case .u32: out.append(.int(try int(next(spec.name), UInt32.max, spec.name)))
            case .time: out.append(.int(try DNSText.parseTimestamp(next(spec.name).raw)))
            case .type16:
                let t = try next(spec.name).raw
                guard let ty = DNSType(t) else { throw DNSError.syntax("\(type): unknown type '\(t)'") }
                out.append(.types([ty]))
            case .name: out.append(.name(try DNSName(next(spec.name).raw, origin: origin)))
            case .ipv4, .ipv6:
                let t = try next(spec.name).raw
                guard let a = try? IPAddress(t), a.zone == nil, (a.version == .v4) == spec.kind.isV4 else {
                    throw DNSError.syntax("\(type): bad address '\(t)'")
                }
                out.append(.address(a))
            case .string, .caaValue:
                let b = try DNSText.unescape(next(spec.name).raw)
                if case .string = spec.kind, b.count > 255 { throw DNSError.syntax("\(type): \(spec.name) longer than 255 bytes") }
                out.append(.text(b))
            case .caaTag:
                let b = Array(try next(spec.name).raw.utf8)
                guard !b.isEmpty, b.count <= 255 else { throw DNSError.syntax("\(type): bad tag") }
                out.append(.text(b))
            case .strings:
                let ts = rest()
                guard !ts.isEmpty else { throw DNSError.syntax("\(type): missing text") }
                var pieces: [[UInt8]] = []
                for t in ts {
                    var b = try DNSText.unescape(t.raw)
                    // Over-long strings are split the way BIND does.
                    repeat { pieces.append(Array(b.prefix(255))); b = Array(b.dropFirst(255)) } while !b.isEmpty
                }
                out.append(.texts(pieces))
            case .base64Rest: out.append(.data(try DNSText.fromBase64(rest().map(\.raw).joined())))
            case .hexRest:
                let t = rest().map(\.raw).joined()
                out.append(.data(t == "-" ? [] : try DNSText.fromHex(t)))
            case .hexLen8:
                let t = try next(spec.name).raw
                out.append(.data(t == "-" ? [] : try DNSText.fromHex(t)))
            case .base32Len8: out.append(.data(try DNSText.fromBase32hex(next(spec.name).raw)))
            case .bitmap:
                out.append(.types(try rest().map { t in
                    guard let ty = DNSType(t.raw) else { throw DNSError.syntax("\(type): unknown type '\(t.raw)'") }
                    return ty
                }))
            case .svcParams: out.append(.params(try rest().map { try DNSSvcKeys.parse($0.raw) }.sorted { $0.key < $1.key }))
            }
        }
        guard i == tokens.count else { throw DNSError.syntax("\(type): unexpected '\(tokens[i].raw)'") }
        return .fields(out)
    }
}

extension DNSFieldKind {
    var isV4: Bool { if case .ipv4 = self { return true } else { return false } }
}
