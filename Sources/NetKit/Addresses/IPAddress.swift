/// The IP protocol version of an address, network, range or set.
public enum IPVersion: Int, Sendable, Hashable, Comparable, CustomStringConvertible {
    case v4 = 4
    case v6 = 6

    /// Number of bits in an address of this version.
    public var bitWidth: Int { self == .v4 ? 32 : 128 }
    /// The largest address value of this version.
    public var maxValue: UInt128 { self == .v4 ? UInt128(UInt32.max) : UInt128.max }

    /// IPv4 before IPv6.
    public static func < (lhs: IPVersion, rhs: IPVersion) -> Bool { lhs.rawValue < rhs.rawValue }
    /// `IPv4` or `IPv6`.
    public var description: String { "IPv\(rawValue)" }
}

/// An IPv4 or IPv6 address (netaddr's `IPAddress`), with an optional IPv6 zone id
/// (`fe80::1%eth0`).
///
/// Sorting puts every IPv4 address before every IPv6 address, then orders by value.
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as an unsigned integer (IPv4 in the low 32 bits).
    public let value: UInt128
    /// IPv4 or IPv6.
    public let version: IPVersion
    /// The IPv6 zone id (scope) after `%`, if one was given.
    public let zone: String?

    /// An IPv4 address from its 32-bit value.
    public init(v4 value: UInt32) {
        self.value = UInt128(value)
        self.version = .v4
        self.zone = nil
    }

    /// An IPv6 address from its 128-bit value and optional zone id.
    public init(v6 value: UInt128, zone: String? = nil) {
        self.value = value
        self.version = .v6
        self.zone = zone
    }

    /// An address of the given version from an integer; throws if it does not fit the version.
    public init(_ value: UInt128, version: IPVersion) throws {
        guard value <= version.maxValue else {
            throw AddressError(String(value), "integer is out of range for \(version)")
        }
        self.value = value
        self.version = version
        self.zone = nil
    }

    /// An address from an integer, IPv4 if it fits in 32 bits and IPv6 otherwise (netaddr's rule).
    public init(integer value: UInt128) {
        self.value = value
        self.version = value <= UInt128(UInt32.max) ? .v4 : .v6
        self.zone = nil
    }

    init(unchecked value: UInt128, _ version: IPVersion) {
        self.value = value
        self.version = version
        self.zone = nil
    }

    /// Parses a dotted quad (strict: exactly four decimal octets, no leading zeros), or any
    /// RFC 4291 IPv6 text form including `::ffff:1.2.3.4` and a `%zone` suffix.
    public init(_ text: String) throws {
        let outcome: AddressParser.Outcome<(UInt128, IPVersion, Int)> = AddressParser.withBytes(text) { b in
            var hasColon = false
            var percent = -1
            for k in 0..<b.count {
                if b[k] == 58 { hasColon = true } else if b[k] == 37 && percent < 0 { percent = k }
            }
            if hasColon {
                let end = percent >= 0 ? percent : b.count
                switch AddressParser.parseIPv6(b, 0, end) {
                case .ok(let v): return .ok((v, .v6, percent))
                case .fail(let why): return .fail(why)
                }
            }
            if percent >= 0 { return .fail("a zone id is only allowed on an IPv6 address") }
            switch AddressParser.parseIPv4(b, 0, b.count) {
            case .ok(let v): return .ok((UInt128(v), .v4, -1))
            case .fail(let why): return .fail(why)
            }
        }
        switch outcome {
        case .fail(let why): throw AddressError(quoted(text), why)
        case .ok(let (v, version, percent)):
            self.value = v
            self.version = version
            if percent >= 0 {
                let zone = String(text.utf8.dropFirst(percent + 1)) ?? ""
                guard !zone.isEmpty else { throw AddressError(quoted(text), "empty zone id after '%'") }
                guard zone.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != 37 && $0 != 47 }) else {
                    throw AddressError(quoted(text), "zone id contains an invalid character")
                }
                self.zone = zone
            } else {
                self.zone = nil
            }
        }
    }

    /// Whether `text` parses as an IP address.
    public static func isValid(_ text: String) -> Bool { (try? IPAddress(text)) != nil }

    /// This address without its zone id.
    public var withoutZone: IPAddress { IPAddress(unchecked: value, version) }

    /// The 32-bit value of an IPv4 address (nil for IPv6).
    public var ipv4Value: UInt32? { version == .v4 ? UInt32(truncatingIfNeeded: value) : nil }

    /// The address as network-order bytes (4 or 16).
    public var packed: [UInt8] {
        let n = version == .v4 ? 4 : 16
        return (0..<n).map { UInt8(truncatingIfNeeded: value >> UInt128(8 * (n - 1 - $0))) }
    }

    /// The address moved by `offset` (positive or negative); throws if it would leave the
    /// version's address space.
    public func advanced(by offset: Int) throws -> IPAddress {
        let magnitude = UInt128(offset.magnitude)
        if offset >= 0 {
            let (sum, overflow) = value.addingReportingOverflow(magnitude)
            guard !overflow, sum <= version.maxValue else {
                throw AddressError(description, "adding \(offset) leaves the \(version) address space")
            }
            return IPAddress(rebuilding: sum, like: self)
        } else {
            guard magnitude <= value else {
                throw AddressError(description, "subtracting \(offset.magnitude) goes below \(version == .v4 ? "0.0.0.0" : "::")")
            }
            return IPAddress(rebuilding: value - magnitude, like: self)
        }
    }

    private init(rebuilding value: UInt128, like other: IPAddress) {
        self.value = value
        self.version = other.version
        self.zone = other.zone
    }

    /// `address + n`; throws on leaving the address space.
    public static func + (lhs: IPAddress, rhs: Int) throws -> IPAddress { try lhs.advanced(by: rhs) }
    /// `address - n`; throws on leaving the address space.
    public static func - (lhs: IPAddress, rhs: Int) throws -> IPAddress {
        guard rhs != Int.min else { throw AddressError(lhs.description, "offset is out of range") }
        return try lhs.advanced(by: -rhs)
    }

    /// The signed distance `lhs - rhs` when both are of one version and it fits in `Int`.
    public static func - (lhs: IPAddress, rhs: IPAddress) throws -> Int {
        guard lhs.version == rhs.version else {
            throw AddressError("\(lhs) - \(rhs)", "addresses are of different versions")
        }
        if lhs.value >= rhs.value {
            let d = lhs.value - rhs.value
            guard d <= UInt128(Int.max) else { throw AddressError("\(lhs) - \(rhs)", "difference does not fit in an integer") }
            return Int(d)
        }
        let d = rhs.value - lhs.value
        guard d <= UInt128(Int.max) else { throw AddressError("\(lhs) - \(rhs)", "difference does not fit in an integer") }
        return -Int(d)
    }

    /// IPv4 before IPv6, then by value, then by zone id (none first).
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.version != rhs.version { return lhs.version < rhs.version }
        if lhs.value != rhs.value { return lhs.value < rhs.value }
        return (lhs.zone ?? "") < (rhs.zone ?? "")
    }

    // MARK: - Text forms

    /// Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`,
    /// IPv4-mapped addresses as `::ffff:a.b.c.d`), plus `%zone` if present.
    public var description: String {
        let text = version == .v4 ? IPAddress.formatIPv4(UInt32(truncatingIfNeeded: value))
                                  : IPAddress.formatIPv6(value)
        if let zone { return text + "%" + zone }
        return text
    }

    /// Full form: IPv6 as eight 4-digit groups (`2001:0db8:0000:…`), IPv4 unchanged.
    public var exploded: String {
        if version == .v4 { return description }
        var out = ""
        for g in 0..<8 {
            let word = UInt16(truncatingIfNeeded: value >> UInt128(16 * (7 - g)))
            let hex = String(word, radix: 16)
            if g > 0 { out += ":" }
            out += String(repeating: "0", count: 4 - hex.count) + hex
        }
        return out
    }

    /// The reverse-DNS name with a trailing dot, as netaddr's `reverse_dns`:
    /// `4.3.2.1.in-addr.arpa.` or the 32-nibble `ip6.arpa.` name.
    public var reverseDNS: String {
        if version == .v4 {
            let v = UInt32(truncatingIfNeeded: value)
            return "\(v & 0xff).\(v >> 8 & 0xff).\(v >> 16 & 0xff).\(v >> 24).in-addr.arpa."
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(73)
        let digits = Array("0123456789abcdef".utf8)
        for k in 0..<32 {
            bytes.append(digits[Int(truncatingIfNeeded: value >> UInt128(4 * k)) & 0xf])
            bytes.append(46)
        }
        bytes.append(contentsOf: "ip6.arpa.".utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The address in binary, `0b`-less, padded to the version's width.
    public var bits: String {
        let s = String(value, radix: 2)
        return String(repeating: "0", count: version.bitWidth - s.count) + s
    }

    static func formatIPv4(_ v: UInt32) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buf in
            var n = 0
            appendIPv4(v, buf, &n)
            return String(decoding: UnsafeBufferPointer(rebasing: buf[0..<n]), as: UTF8.self)
        }
    }

    @inline(__always)
    static func appendIPv4(_ v: UInt32, _ buf: UnsafeMutableBufferPointer<UInt8>, _ n: inout Int) {
        for shift in stride(from: 24, through: 0, by: -8) {
            let o = Int(v >> UInt32(shift) & 0xff)
            if o >= 100 { buf[n] = UInt8(48 + o / 100); n += 1 }
            if o >= 10 { buf[n] = UInt8(48 + o / 10 % 10); n += 1 }
            buf[n] = UInt8(48 + o % 10); n += 1
            if shift > 0 { buf[n] = 46; n += 1 }
        }
    }

    static func formatIPv6(_ value: UInt128) -> String {
        var words = [UInt16](repeating: 0, count: 8)
        for g in 0..<8 { words[g] = UInt16(truncatingIfNeeded: value >> UInt128(16 * (7 - g))) }
        let mapped = value >> 32 == 0xffff
        let lastGroup = mapped ? 6 : 8
        // Longest run of two or more zero groups, the first one on a tie (RFC 5952 4.2).
        var bestStart = -1, bestLen = 1, runStart = -1
        for g in 0...lastGroup {
            if g < lastGroup && words[g] == 0 {
                if runStart < 0 { runStart = g }
            } else if runStart >= 0 {
                if g - runStart > bestLen { bestStart = runStart; bestLen = g - runStart }
                runStart = -1
            }
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { buf in
            var n = 0
            let hex: StaticString = "0123456789abcdef"
            var g = 0
            while g < lastGroup {
                if g == bestStart {
                    buf[n] = 58; buf[n + 1] = 58; n += 2
                    g += bestLen
                    continue
                }
                if n > 0 && buf[n - 1] != 58 { buf[n] = 58; n += 1 }
                let w = words[g]
                var started = false
                for shift in stride(from: 12, through: 0, by: -4) {
                    let d = Int(w >> UInt16(shift) & 0xf)
                    if d != 0 || started || shift == 0 {
                        buf[n] = hex.utf8Start[d]; n += 1; started = true
                    }
                }
                g += 1
            }
            if mapped {
                if buf[n - 1] != 58 { buf[n] = 58; n += 1 }
                appendIPv4(UInt32(truncatingIfNeeded: value), buf, &n)
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buf[0..<n]), as: UTF8.self)
        }
    }

    // MARK: - Conversions

    /// The IPv4-mapped IPv6 form (`::ffff:a.b.c.d`) of an IPv4 address; IPv6 is returned as is.
    public var ipv6Mapped: IPAddress {
        version == .v6 ? self : IPAddress(v6: 0xffff_0000_0000 | value)
    }

    /// The IPv4 address inside an IPv4-mapped or IPv4-compatible IPv6 address; nil otherwise.
    public var embeddedIPv4: IPAddress? {
        if version == .v4 { return self }
        guard value >> 32 == 0xffff || value >> 32 == 0 else { return nil }
        return IPAddress(v4: UInt32(truncatingIfNeeded: value))
    }
}
