/// One entry of the IANA IPv4 / IPv6 Special-Purpose Address Registries
/// (iana-ipv4-special-registry, iana-ipv6-special-registry), with the RFC that defines it.
public struct SpecialPurposeBlock: Sendable, CustomStringConvertible {
    /// The block, e.g. `192.0.2.0/24`.
    public let cidr: CIDR
    /// The registry's name for it, e.g. "Documentation (TEST-NET-1)".
    public let name: String
    /// The defining RFC(s), e.g. "RFC 5737".
    public let rfc: String
    /// The registry's "Globally Reachable" column: true, false, or nil for N/A.
    public let globallyReachable: Bool?
    /// Blocks whose registration has a termination date (e.g. 6to4 relay anycast) are kept for
    /// information but ignored by `isGlobal`.
    public let terminated: Bool

    /// `192.0.2.0/24 Documentation (TEST-NET-1) (RFC 5737)`.
    public var description: String { "\(cidr) \(name) (\(rfc))" }
}

/// The registries themselves, as compact literal tables.
enum SpecialPurposeRegistry {
    private typealias Row = (String, String, String, Bool?, Bool)

    // (prefix, name, RFC, globally reachable, terminated)
    private static let ipv4Rows: [Row] = [
        ("0.0.0.0/8", "This network", "RFC 791 section 3.2", false, false),
        ("0.0.0.0/32", "This host on this network", "RFC 1122 section 3.2.1.3", false, false),
        ("10.0.0.0/8", "Private-Use", "RFC 1918", false, false),
        ("100.64.0.0/10", "Shared Address Space", "RFC 6598", false, false),
        ("127.0.0.0/8", "Loopback", "RFC 1122 section 3.2.1.3", false, false),
        ("169.254.0.0/16", "Link Local", "RFC 3927", false, false),
        ("172.16.0.0/12", "Private-Use", "RFC 1918", false, false),
        ("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890 section 2.1", false, false),
        ("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", false, false),
        ("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", false, false),
        ("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", true, false),
        ("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", true, false),
        ("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 section 2.2", false, false),
        ("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 section 2.2", false, false),
        ("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", false, false),
        ("192.31.196.0/24", "AS112-v4", "RFC 7535", true, false),
        ("192.52.193.0/24", "AMT", "RFC 7450", true, false),
        ("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", nil, true),
        ("192.168.0.0/16", "Private-Use", "RFC 1918", false, false),
        ("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", true, false),
        ("198.18.0.0/15", "Benchmarking", "RFC 2544", false, false),
        ("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", false, false),
        ("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", false, false),
        ("240.0.0.0/4", "Reserved", "RFC 1112 section 4", false, false),
        ("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919 section 7", false, false),
    ]

    private static let ipv6Rows: [Row] = [
        ("::1/128", "Loopback Address", "RFC 4291", false, false),
        ("::/128", "Unspecified Address", "RFC 4291", false, false),
        ("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", false, false),
        ("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", true, false),
        ("64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", false, false),
        ("100::/64", "Discard-Only Address Block", "RFC 6666", false, false),
        ("2001::/23", "IETF Protocol Assignments", "RFC 2928", false, false),
        ("2001::/32", "TEREDO", "RFC 4380, RFC 8190", nil, false),
        ("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", true, false),
        ("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", true, false),
        ("2001:2::/48", "Benchmarking", "RFC 5180", false, false),
        ("2001:3::/32", "AMT", "RFC 7450", true, false),
        ("2001:4:112::/48", "AS112-v6", "RFC 7535", true, false),
        ("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", nil, true),
        ("2001:20::/28", "ORCHIDv2", "RFC 7343", true, false),
        ("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", true, false),
        ("2001:db8::/32", "Documentation", "RFC 3849", false, false),
        ("2002::/16", "6to4", "RFC 3056", nil, false),
        ("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", true, false),
        ("3fff::/20", "Documentation", "RFC 9637", false, false),
        ("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", false, false),
        ("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", false, false),
        ("fe80::/10", "Link-Local Unicast", "RFC 4291", false, false),
    ]

    static let ipv4: [SpecialPurposeBlock] = build(ipv4Rows)
    static let ipv6: [SpecialPurposeBlock] = build(ipv6Rows)

    private static func build(_ rows: [Row]) -> [SpecialPurposeBlock] {
        rows.compactMap { row in
            guard let cidr = try? CIDR(row.0) else { return nil }
            return SpecialPurposeBlock(cidr: cidr, name: row.1, rfc: row.2,
                                       globallyReachable: row.3, terminated: row.4)
        }
    }
}

/// A block from the IANA IPv4 address-space (/8) or IPv6 unicast-assignment registries.
public struct IANAAllocation: Sendable, Equatable, CustomStringConvertible {
    /// The registry prefix, as IANA writes it (`1/8`, `2001:0c00::/23`).
    public let prefix: String
    /// Who holds it: "APNIC", "Administered by ARIN", "IANA - Local Identification", ….
    public let designation: String
    /// ALLOCATED, LEGACY, RESERVED, ….
    public let status: String
    /// Date of the allocation as IANA records it.
    public let date: String
    /// The WHOIS server for the block, if any.
    public let whois: String

    /// `1/8 APNIC (ALLOCATED)`: prefix, designation and status.
    public var description: String { "\(prefix) \(designation) (\(status))" }
}

extension IPAddress {
    /// The IANA special-purpose registry entries containing this address, most specific last.
    public var specialPurposeBlocks: [SpecialPurposeBlock] {
        let table = version == .v4 ? SpecialPurposeRegistry.ipv4 : SpecialPurposeRegistry.ipv6
        return table.filter { $0.cidr.contains(self) }.sorted { $0.cidr.prefixLength < $1.cidr.prefixLength }
    }

    private func inBlock(_ network: UInt128, _ prefix: Int) -> Bool {
        let shift = UInt128(version.bitWidth - prefix)
        return shift >= 128 ? true : value >> shift == network >> shift
    }

    private func inV4(_ a: UInt32, _ prefix: Int) -> Bool { version == .v4 && inBlock(UInt128(a), prefix) }
    private func inV6(_ hi: UInt64, _ prefix: Int) -> Bool { version == .v6 && inBlock(UInt128(hi) << 64, prefix) }

    /// 127.0.0.0/8 or ::1 (RFC 1122, RFC 4291).
    public var isLoopback: Bool { inV4(0x7f00_0000, 8) || (version == .v6 && value == 1) }
    /// 0.0.0.0 or :: (RFC 1122, RFC 4291).
    public var isUnspecified: Bool { value == 0 }
    /// 224.0.0.0/4 or ff00::/8 (RFC 5771, RFC 4291).
    public var isMulticast: Bool { inV4(0xe000_0000, 4) || inV6(0xff00 << 48, 8) }
    /// Not multicast.
    public var isUnicast: Bool { !isMulticast }
    /// 169.254.0.0/16 or fe80::/10 (RFC 3927, RFC 4291).
    public var isLinkLocal: Bool { inV4(0xa9fe_0000, 16) || inV6(0xfe80 << 48, 10) }
    /// RFC 1918 private-use IPv4 (10/8, 172.16/12, 192.168/16), netaddr's `is_ipv4_private_use`.
    public var isIPv4PrivateUse: Bool {
        inV4(0x0a00_0000, 8) || inV4(0xac10_0000, 12) || inV4(0xc0a8_0000, 16)
    }
    /// fc00::/7 unique local IPv6 (RFC 4193), netaddr's `is_ipv6_unique_local`.
    public var isIPv6UniqueLocal: Bool { inV6(0xfc00 << 48, 7) }
    /// Private-use space of either version: RFC 1918 IPv4 or RFC 4193 unique-local IPv6.
    public var isPrivate: Bool { isIPv4PrivateUse || isIPv6UniqueLocal }
    /// 100.64.0.0/10 carrier-grade NAT space (RFC 6598).
    public var isSharedAddressSpace: Bool { inV4(0x6440_0000, 10) }
    /// Documentation blocks: 192.0.2/24, 198.51.100/24, 203.0.113/24 (RFC 5737),
    /// 2001:db8::/32 (RFC 3849), 3fff::/20 (RFC 9637).
    public var isDocumentation: Bool {
        inV4(0xc000_0200, 24) || inV4(0xc633_6400, 24) || inV4(0xcb00_7100, 24)
            || inV6(0x2001_0db8 << 32, 32) || inV6(0x3fff << 48, 20)
    }
    /// 198.18.0.0/15 or 2001:2::/48 (RFC 2544, RFC 5180).
    public var isBenchmarking: Bool { inV4(0xc612_0000, 15) || inV6(0x2001_0002 << 32, 48) }
    /// ::ffff:0:0/96 (RFC 4291 section 2.5.5.2).
    public var isIPv4Mapped: Bool { version == .v6 && value >> 32 == 0xffff }
    /// ::/96, the deprecated IPv4-compatible form (netaddr's `is_ipv4_compat`).
    public var isIPv4Compatible: Bool { version == .v6 && value >> 32 == 0 }

    /// netaddr's `is_reserved`: IPv4 0/8, the documentation nets, 240/4, reserved multicast
    /// (225-231, 234-238, 233.252.0/24), loopback, 6to4 relay; IPv6 the IETF-reserved blocks.
    public var isReserved: Bool {
        if version == .v4 {
            let v = UInt32(truncatingIfNeeded: value)
            let top = v >> 24
            if top == 0 || top == 127 || top >= 240 { return true }
            if (225...231).contains(top) || (234...238).contains(top) { return true }
            return inV4(0xc000_0200, 24) || inV4(0xc633_6400, 24) || inV4(0xcb00_7100, 24)
                || inV4(0xe9fc_0000, 24) || inV4(0xc058_6300, 24)
        }
        let reserved: [(UInt64, Int)] = [
            (0xff00 << 48, 12), (0, 8), (0x0100 << 48, 8), (0x0200 << 48, 7), (0x0400 << 48, 6),
            (0x0800 << 48, 5), (0x1000 << 48, 4), (0x4000 << 48, 3), (0x6000 << 48, 3),
            (0x8000 << 48, 3), (0xa000 << 48, 3), (0xc000 << 48, 3), (0xe000 << 48, 4),
            (0xf000 << 48, 5), (0xf800 << 48, 6), (0xfe00 << 48, 9),
        ]
        return reserved.contains { inV6($0.0, $0.1) }
    }

    /// Globally reachable per the IANA special-purpose registries: not inside a block marked
    /// not globally reachable (or N/A), unless inside one marked globally reachable.
    /// Terminated registrations are ignored (netaddr's `is_global`).
    public var isGlobal: Bool {
        let table = version == .v4 ? SpecialPurposeRegistry.ipv4 : SpecialPurposeRegistry.ipv6
        var blocked = false
        for block in table where !block.terminated && block.cidr.contains(self) {
            if block.globallyReachable == true { return true }
            blocked = true
        }
        return !blocked
    }

    /// Whether this is a contiguous netmask (ones then zeros), e.g. 255.255.252.0.
    public var isNetmask: Bool {
        let inverted = ~value & version.maxValue
        return inverted & (inverted &+ 1) == 0
    }

    /// Whether this is a contiguous hostmask (zeros then ones), e.g. 0.0.3.255.
    public var isHostmask: Bool { value & (value &+ 1) == 0 }

    /// The IANA allocation block: for IPv4 the /8 row of the IPv4 address-space registry, for
    /// IPv6 the unicast-assignment row (nil outside the assigned space). IPv4-mapped IPv6
    /// addresses are looked up as IPv4, like netaddr's `info`.
    public var ianaAllocation: IANAAllocation? {
        if isIPv4Mapped, let v4 = embeddedIPv4 { return v4.ianaAllocation }
        if version == .v4 {
            let top = Int(value >> 24)
            guard top < IANARegistry.ipv4.count else { return nil }
            let row = IANARegistry.ipv4[top]
            return IANAAllocation(prefix: "\(top)/8", designation: row.0, status: row.1, date: row.2, whois: row.3)
        }
        for (cidr, row) in IPAddress.ipv6Unicast where cidr.contains(self) {
            return IANAAllocation(prefix: row.0, designation: row.1, status: row.2, date: row.3, whois: row.4)
        }
        return nil
    }

    /// The IPv6 address-space registry block ("Global Unicast", "Reserved by IETF", …); nil
    /// for IPv4.
    public var ianaAddressSpace: String? {
        guard version == .v6 else { return nil }
        return IPAddress.ipv6Space.first { $0.0.contains(self) }?.1
    }

    private static let ipv6Unicast: [(CIDR, (String, String, String, String, String))] =
        IANARegistry.ipv6Unicast.compactMap { row in (try? CIDR(row.0)).map { ($0, row) } }
    private static let ipv6Space: [(CIDR, String)] =
        IANARegistry.ipv6Space.compactMap { row in (try? CIDR(row.0)).map { ($0, row.1) } }
}
