/// Text styles for MAC / EUI identifiers, after netaddr's dialect classes.
public enum EUIDialect: String, Sendable, CaseIterable {
    /// IEEE style, `00-1B-77-49-54-FD` (netaddr `mac_eui48` / `eui64_base`); the default.
    case eui48
    /// Unix style with zeros dropped, `0:1b:77:49:54:fd` (`mac_unix`).
    case unix
    /// Unix style, two digits per byte, `00:1b:77:49:54:fd` (`mac_unix_expanded`).
    case unixExpanded
    /// Cisco triple hextet, `001b.7749.54fd` (`mac_cisco`).
    case cisco
    /// No separators, `001B774954FD` (`mac_bare`).
    case bare
    /// PostgreSQL, `001b77:4954fd` (`mac_pgsql`; EUI-64 falls back to the IEEE style).
    case pgsql
}

/// An IEEE EUI-48 (MAC) or EUI-64 identifier (netaddr's `EUI`).
public struct EUI: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The identifier as an integer.
    public let value: UInt64
    /// 48 or 64.
    public let width: Int

    /// An identifier from its integer value; throws if `width` is not 48/64 or the value does
    /// not fit.
    public init(_ value: UInt64, width: Int = 48) throws {
        guard width == 48 || width == 64 else { throw AddressError(String(width), "EUI width must be 48 or 64") }
        guard width == 64 || value >> 48 == 0 else {
            throw AddressError(String(value), "integer is out of range for EUI-48")
        }
        self.value = value
        self.width = width
    }

    init(unchecked value: UInt64, width: Int) {
        self.value = value
        self.width = width
    }

    /// Parses every netaddr dialect: `00:1b:77:49:54:fd`, `00-1B-77-49-54-FD`,
    /// `0:1b:77:49:54:fd`, `001b.7749.54fd` (also with `:`/`-`), `001b77:4954fd` /
    /// `001b77-4954fd`, bare 12 (or 11) hex digits; EUI-64 as 8 bytes, 4 hextets, or 16 hex.
    public init(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw AddressError("", "empty MAC address") }
        var sep: UInt8? = nil
        for c in bytes where AddressParser.hexValue(c) == nil {
            guard c == 58 || c == 45 || c == 46 else {
                throw AddressError(quoted(text), "unexpected character \(AddressParser.describe(c))")
            }
            if let s = sep, s != c { throw AddressError(quoted(text), "mixed separators") }
            sep = c
        }
        let groups: [ArraySlice<UInt8>] = sep.map { s in bytes.split(separator: s, omittingEmptySubsequences: false) } ?? [bytes[...]]
        let lengths = groups.map { $0.count }
        let digitsPerGroup: Int
        let bitsWidth: Int
        func all(_ range: ClosedRange<Int>) -> Bool { lengths.allSatisfy { range.contains($0) } }
        let colonOrDash = sep == 58 || sep == 45
        let n = groups.count
        if n == 6 && colonOrDash && all(1...2) { digitsPerGroup = 2; bitsWidth = 48 }
        else if n == 3 && sep != nil && all(1...4) { digitsPerGroup = 4; bitsWidth = 48 }
        else if n == 2 && colonOrDash && all(5...6) { digitsPerGroup = 6; bitsWidth = 48 }
        else if n == 1 && (lengths[0] == 12 || lengths[0] == 11) { digitsPerGroup = 12; bitsWidth = 48 }
        else if n == 8 && colonOrDash && all(1...2) { digitsPerGroup = 2; bitsWidth = 64 }
        else if n == 4 && sep != nil && all(1...4) { digitsPerGroup = 4; bitsWidth = 64 }
        else if n == 1 && lengths[0] == 16 { digitsPerGroup = 16; bitsWidth = 64 }
        else { throw AddressError(quoted(text), "not a recognised MAC/EUI format") }
        var v: UInt64 = 0
        for g in groups {
            var gv: UInt64 = 0
            for c in g { gv = gv << 4 | UInt64(AddressParser.hexValue(c) ?? 0) }
            v = v << UInt64(4 * digitsPerGroup) | gv
        }
        self.value = v
        self.width = bitsWidth
    }

    /// Whether `text` parses as an EUI-48 or EUI-64.
    public static func isValid(_ text: String) -> Bool { (try? EUI(text)) != nil }

    /// The identifier in the given dialect.
    public func format(_ dialect: EUIDialect = .eui48) -> String {
        let nbytes = width / 8
        let bytes = (0..<nbytes).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (nbytes - 1 - $0))) }
        func hex(_ v: UInt64, _ digits: Int, upper: Bool) -> String {
            var s = String(v, radix: 16, uppercase: upper)
            if s.count < digits { s = String(repeating: "0", count: digits - s.count) + s }
            return s
        }
        switch dialect {
        case .eui48: return bytes.map { hex(UInt64($0), 2, upper: true) }.joined(separator: "-")
        case .unix: return bytes.map { hex(UInt64($0), 1, upper: false) }.joined(separator: ":")
        case .unixExpanded: return bytes.map { hex(UInt64($0), 2, upper: false) }.joined(separator: ":")
        case .cisco:
            return stride(from: 0, to: nbytes, by: 2).map {
                hex(UInt64(bytes[$0]) << 8 | UInt64(bytes[$0 + 1]), 4, upper: false)
            }.joined(separator: ".")
        case .bare: return hex(value, nbytes * 2, upper: true)
        case .pgsql:
            guard width == 48 else { return format(.eui48) }
            return hex(value >> 24, 6, upper: false) + ":" + hex(value & 0xff_ffff, 6, upper: false)
        }
    }

    /// IEEE style: `00-1B-77-49-54-FD`.
    public var description: String { format(.eui48) }

    /// EUI-48 before EUI-64, then by value.
    public static func < (lhs: EUI, rhs: EUI) -> Bool { (lhs.width, lhs.value) < (rhs.width, rhs.value) }

    /// The identifier's bytes, most significant first.
    public var packed: [UInt8] {
        let n = width / 8
        return (0..<n).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (n - 1 - $0))) }
    }

    private var firstOctet: UInt8 { UInt8(truncatingIfNeeded: value >> UInt64(width - 8)) }

    /// The 24-bit Organisationally Unique Identifier.
    public var oui: UInt32 { UInt32(truncatingIfNeeded: value >> UInt64(width - 24)) }
    /// The OUI as `00-1B-77`.
    public var ouiText: String {
        (0..<3).map { k in
            let s = String(UInt8(truncatingIfNeeded: oui >> UInt32(8 * (2 - k))), radix: 16, uppercase: true)
            return s.count < 2 ? "0" + s : s
        }.joined(separator: "-")
    }
    /// The extension identifier after the OUI, `49-54-FD`.
    public var ei: String { packed.dropFirst(3).map { String(format2: $0) }.joined(separator: "-") }

    /// Whether the OUI is one of the IEEE's IAB blocks (00-50-C2, 40-D8-55).
    public var isIAB: Bool {
        let top36 = value >> UInt64(width - 36)
        return top36 >> 12 == 0x0050C2 || top36 >> 12 == 0x40D855
    }

    /// Universally administered (the U/L bit, 0x02 of the first octet, is clear).
    public var isUniversallyAdministered: Bool { firstOctet & 0x02 == 0 }
    /// Locally administered (the U/L bit is set).
    public var isLocallyAdministered: Bool { !isUniversallyAdministered }
    /// Group / multicast address (the I/G bit, 0x01 of the first octet, is set).
    public var isMulticast: Bool { firstOctet & 0x01 != 0 }
    /// Individual / unicast address.
    public var isUnicast: Bool { !isMulticast }

    /// The EUI-64 form: an EUI-48 with `FF-FE` inserted after the OUI; EUI-64 unchanged.
    public var eui64: EUI {
        if width == 64 { return self }
        return EUI(unchecked: (value >> 24) << 40 | 0xfffe << 24 | value & 0xff_ffff, width: 64)
    }

    /// The modified EUI-64 interface identifier (RFC 4291 appendix A): EUI-64 with the U/L bit
    /// inverted.
    public var modifiedEUI64: EUI { EUI(unchecked: eui64.value ^ 0x0200_0000_0000_0000, width: 64) }

    /// The IPv6 link-local address `fe80::/64` + modified EUI-64.
    public var ipv6LinkLocal: IPAddress {
        IPAddress(v6: UInt128(0xfe80) << 112 | UInt128(modifiedEUI64.value))
    }

    /// The SLAAC address for this interface in an IPv6 prefix: prefix + modified EUI-64, as
    /// netaddr's `eui.ipv6(prefix)`. Throws for IPv4 or when the sum overflows.
    public func ipv6(prefix: IPAddress) throws -> IPAddress {
        guard prefix.version == .v6 else { throw AddressError(prefix.description, "an IPv6 prefix is required") }
        let (v, overflow) = prefix.value.addingReportingOverflow(UInt128(modifiedEUI64.value))
        guard !overflow else { throw AddressError(prefix.description, "prefix + interface identifier overflows") }
        return IPAddress(v6: v)
    }

    /// The SLAAC address in a network of /64 or shorter: its first address + modified EUI-64.
    public func ipv6(network: CIDR) throws -> IPAddress {
        guard network.version == .v6, network.prefixLength <= 64 else {
            throw AddressError(network.description, "SLAAC needs an IPv6 network of /64 or shorter")
        }
        return try ipv6(prefix: network.network)
    }

    /// The IEEE registration (MA-L, MA-M, MA-S or IAB; longest match wins) from the Debian
    /// `ieee-data` files. Throws if the registry files are missing; nil if unregistered.
    public func registration() throws -> IEEERegistration? {
        try IEEERegistry.shared().lookup(self)
    }
}

extension String {
    init(format2 byte: UInt8) {
        let s = String(byte, radix: 16, uppercase: true)
        self = s.count < 2 ? "0" + s : s
    }
}
