/// Byte-level parsers for address text, shared by every address type. They work on raw UTF-8
/// without Foundation so that bulk parsing (a million CIDR lines) stays fast, and they report a
/// fault message instead of throwing so the caller can attach the offending text.
enum AddressParser {
    enum Outcome<T> {
        case ok(T)
        case fail(String)
    }

    typealias Bytes = UnsafeBufferPointer<UInt8>

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c &- 48 < 10 }

    @inline(__always) static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }

    static func describe(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7f { return "'\(Character(UnicodeScalar(c)))'" }
        return c == 0x20 ? "space" : "byte 0x\(String(c, radix: 16))"
    }

    /// Strict dotted quad: four decimal octets 0-255, no leading zeros (which some stacks read as
    /// octal), nothing else.
    static func parseIPv4(_ b: Bytes, _ start: Int, _ end: Int) -> Outcome<UInt32> {
        var value: UInt32 = 0
        var i = start
        var octets = 0
        if start >= end { return .fail("empty address") }
        while true {
            let octetStart = i
            var octet: UInt32 = 0
            while i < end && isDigit(b[i]) && i - octetStart < 4 {
                octet = octet * 10 + UInt32(b[i] &- 48)
                i += 1
            }
            let len = i - octetStart
            if len == 0 {
                if i < end && b[i] != 46 { return .fail("unexpected character \(describe(b[i]))") }
                return .fail("empty octet")
            }
            if len > 3 { return .fail("octet \(octetText(b, octetStart, end)) is out of range") }
            if octet > 255 { return .fail("octet \(octet) is out of range") }
            if len > 1 && b[octetStart] == 48 {
                return .fail("octet \(octetText(b, octetStart, i)) has a leading zero (ambiguous octal)")
            }
            value = value << 8 | octet
            octets += 1
            if i == end {
                return octets == 4 ? .ok(value) : .fail("expected 4 octets, found \(octets)")
            }
            if b[i] != 46 { return .fail("unexpected character \(describe(b[i]))") }
            if octets == 4 { return .fail("more than 4 octets") }
            i += 1
        }
    }

    private static func octetText(_ b: Bytes, _ from: Int, _ end: Int) -> String {
        var j = from
        while j < end && isDigit(b[j]) && j - from < 12 { j += 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: b[from..<j]), as: UTF8.self)
    }

    /// IPv6 text (RFC 4291 section 2.2): eight groups of 1-4 hex digits, at most one `::`, an
    /// optional trailing dotted quad. Zone ids are split off by the caller.
    static func parseIPv6(_ b: Bytes, _ start: Int, _ end: Int) -> Outcome<UInt128> {
        var groups = [UInt16](repeating: 0, count: 8)
        var count = 0
        var gapAt = -1
        var i = start
        if start >= end { return .fail("empty address") }
        if b[i] == 58 {
            guard i + 1 < end, b[i + 1] == 58 else { return .fail("a leading ':' must be part of '::'") }
            gapAt = 0
            i += 2
            if i == end { return .ok(0) }
        }
        while i < end {
            let groupStart = i
            var group: UInt32 = 0
            while i < end, let h = hexValue(b[i]) {
                group = group << 4 | UInt32(h)
                i += 1
                if i - groupStart > 4 { return .fail("group of more than 4 hex digits") }
            }
            if i < end && b[i] == 46 {
                // Embedded IPv4 in the last 32 bits.
                if count > 6 { return .fail("too many groups before the embedded IPv4 address") }
                switch parseIPv4(b, groupStart, end) {
                case .fail(let why): return .fail("embedded IPv4: \(why)")
                case .ok(let v4):
                    groups[count] = UInt16(v4 >> 16)
                    groups[count + 1] = UInt16(v4 & 0xffff)
                    count += 2
                    i = end
                    return finish(groups, count, gapAt)
                }
            }
            if i == groupStart {
                return .fail(i < end ? "unexpected character \(describe(b[i]))" : "trailing ':'")
            }
            if count == 8 { return .fail("more than 8 groups") }
            groups[count] = UInt16(group)
            count += 1
            if i == end { break }
            if b[i] != 58 { return .fail("unexpected character \(describe(b[i]))") }
            i += 1
            if i < end && b[i] == 58 {
                if gapAt >= 0 { return .fail("'::' appears more than once") }
                gapAt = count
                i += 1
                if i == end { break }
            } else if i == end {
                return .fail("trailing ':'")
            }
        }
        return finish(groups, count, gapAt)
    }

    private static func finish(_ groups: [UInt16], _ count: Int, _ gapAt: Int) -> Outcome<UInt128> {
        if gapAt < 0 {
            if count != 8 { return .fail("expected 8 groups, found \(count)") }
        } else if count > 7 {
            return .fail("'::' must stand for at least one group")
        }
        var value: UInt128 = 0
        if gapAt < 0 {
            for g in groups { value = value << 16 | UInt128(g) }
        } else {
            for k in 0..<gapAt { value = value << 16 | UInt128(groups[k]) }
            for _ in 0..<(8 - count) { value = value << 16 }
            for k in gapAt..<count { value = value << 16 | UInt128(groups[k]) }
        }
        return .ok(value)
    }

    /// Parses a decimal number of at most `maxDigits` digits covering the whole range.
    static func parseDecimal(_ b: Bytes, _ start: Int, _ end: Int, maxDigits: Int = 3) -> Int? {
        if start >= end || end - start > maxDigits { return nil }
        var n = 0
        for k in start..<end {
            guard isDigit(b[k]) else { return nil }
            n = n * 10 + Int(b[k] &- 48)
        }
        return n
    }

    /// Runs `body` over the UTF-8 bytes of `text` without copying when the string is native.
    @inline(__always)
    static func withBytes<R>(_ text: String, _ body: (Bytes) -> R) -> R {
        var text = text
        return text.withUTF8 { body($0) }
    }
}

/// An address or network written as a literal in program text (`192.0.2.1`, `10.0.0.0/8`,
/// `2001:db8::1`, `fe80::1%eth0`, `::/0`): a language's lexer finds where the literal ends,
/// and this decides what it is, with the address parsers' own errors.
public enum AddressLiteral: Equatable, Sendable {
    /// An address (with its zone id, if any).
    case address(IPAddress)
    /// A network: the text had a `/LEN`.
    case network(CIDR)

    /// Parses literal text: a network when it has a `/`, else an address.
    ///
    /// Throws the `AddressError` of `CIDR(_:)` or `IPAddress(_:)`; when the text is no IP
    /// address but a MAC (`00:1b:77:49:54:fd` reads like IPv6), the error's `looksLikeMAC` is set
    /// so that the caller can say how to write one.
    public init(parsing text: String) throws {
        if text.utf8.contains(47) {   // "/"
            self = .network(try CIDR(text))
            return
        }
        do {
            self = .address(try IPAddress(text))
        } catch let e as AddressError {
            // Only colon-separated text: dotted digits (`10.0.0.256`) read as an EUI-64 too,
            // but they were meant as IPv4.
            if text.utf8.contains(58), (try? EUI(text)) != nil { throw AddressError(e.text, e.fault, looksLikeMAC: true) }
            throw e
        }
    }
}
