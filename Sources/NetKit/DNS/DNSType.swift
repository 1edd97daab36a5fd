/// A record type code with its mnemonic (`MX`, `TYPE65280` for unknown ones, RFC 3597).
public struct DNSType: Hashable, Sendable, CustomStringConvertible, RawRepresentable {
    /// The 16-bit type code as on the wire.
    public var rawValue: UInt16
    /// The type with code `rawValue`; every code is valid (unknown ones print as `TYPEn`).
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// The type with code `v`, as `init(rawValue:)`.
    public init(_ v: UInt16) { rawValue = v }

    /// RFC 1035's core types: IPv4 address, name server, alias, start of authority, reverse pointer.
    /// (The types with typed data here have their fields in `DNSRData.schema`; codes are IANA's.)
    public static let A = DNSType(1), NS = DNSType(2), CNAME = DNSType(5), SOA = DNSType(6), PTR = DNSType(12)
    /// Host information, mail exchanger, text (RFC 1035), IPv6 address (RFC 3596), service location (RFC 2782).
    public static let HINFO = DNSType(13), MX = DNSType(15), TXT = DNSType(16), AAAA = DNSType(28), SRV = DNSType(33)
    /// Naming authority pointer (RFC 3403), subtree alias (RFC 6672), the EDNS pseudo-record (RFC 6891),
    /// delegation signer (RFC 4034), SSH key fingerprint (RFC 4255).
    public static let NAPTR = DNSType(35), DNAME = DNSType(39), OPT = DNSType(41), DS = DNSType(43), SSHFP = DNSType(44)
    /// DNSSEC: signature, next secure, public key (RFC 4034), hashed next secure (RFC 5155).
    public static let RRSIG = DNSType(46), NSEC = DNSType(47), DNSKEY = DNSType(48), NSEC3 = DNSType(50)
    /// NSEC3 parameters (RFC 5155), DANE certificate association (RFC 6698), the child's DS and DNSKEY (RFC 7344).
    public static let NSEC3PARAM = DNSType(51), TLSA = DNSType(52), CDS = DNSType(59), CDNSKEY = DNSType(60)
    /// Service binding and its HTTPS form (RFC 9460), SPF (obsolete: use TXT, RFC 7208), transaction signature (RFC 8945).
    public static let SVCB = DNSType(64), HTTPS = DNSType(65), SPF = DNSType(99), TSIG = DNSType(250)
    /// Incremental (RFC 1995) and full (RFC 5936) zone transfer and "any type" (query only),
    /// certification authority authorization (RFC 8659).
    public static let IXFR = DNSType(251), AXFR = DNSType(252), ANY = DNSType(255), CAA = DNSType(257)

    static let names: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV",
        35: "NAPTR", 39: "DNAME", 41: "OPT", 43: "DS", 44: "SSHFP", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 50: "NSEC3",
        51: "NSEC3PARAM", 52: "TLSA", 59: "CDS", 60: "CDNSKEY", 64: "SVCB", 65: "HTTPS", 99: "SPF", 250: "TSIG",
        251: "IXFR", 252: "AXFR", 255: "ANY", 257: "CAA",
        // The rest of IANA's Resource Record (RR) TYPEs registry: asked by name, their data
        // read and written in RFC 3597's generic form (`\# LENGTH HEX`) where there is no typed one.
        3: "MD", 4: "MF", 7: "MB", 8: "MG", 9: "MR", 10: "NULL", 11: "WKS", 14: "MINFO", 17: "RP", 18: "AFSDB",
        19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP-PTR", 24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS",
        29: "LOC", 30: "NXT", 31: "EID", 32: "NIMLOC", 34: "ATMA", 36: "KX", 37: "CERT", 38: "A6", 40: "SINK",
        42: "APL", 45: "IPSECKEY", 49: "DHCID", 53: "SMIMEA", 55: "HIP", 56: "NINFO", 57: "RKEY", 58: "TALINK",
        61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC",
        104: "NID", 105: "L32", 106: "L64", 107: "LP", 108: "EUI48", 109: "EUI64", 249: "TKEY", 253: "MAILB",
        254: "MAILA", 256: "URI", 258: "AVC", 259: "DOA", 260: "AMTRELAY", 261: "RESINFO", 262: "WALLET",
        32768: "TA", 32769: "DLV",
    ]
    static let codes: [String: UInt16] = Dictionary(uniqueKeysWithValues: names.map { ($0.value, $0.key) })

    /// `MX`, `mx`, `TYPE15` or `15`.
    public init?(_ text: String) {
        let u = text.uppercased()
        if let c = DNSType.codes[u] { rawValue = c; return }
        if u.hasPrefix("TYPE"), let v = UInt16(u.dropFirst(4)) { rawValue = v; return }
        if let v = UInt16(u) { rawValue = v; return }
        return nil
    }

    /// The mnemonic (`MX`), or `TYPEn` (RFC 3597) for a code without one.
    public var description: String { DNSType.names[rawValue] ?? "TYPE\(rawValue)" }
}

/// A record class (`IN`, `CH`, `HS`, `NONE`, `ANY`, or `CLASS42`).
public struct DNSClass: Hashable, Sendable, CustomStringConvertible, RawRepresentable {
    /// The 16-bit class code as on the wire (in an OPT record this field carries the UDP size instead).
    public var rawValue: UInt16
    /// The class with code `rawValue`; every code is valid (unknown ones print as `CLASSn`).
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// The class with code `v`, as `init(rawValue:)`.
    public init(_ v: UInt16) { rawValue = v }
    /// Internet, Chaos (`version.bind` lives there), Hesiod; NONE and ANY are for dynamic updates
    /// (RFC 2136) and queries.
    public static let IN = DNSClass(1), CH = DNSClass(3), HS = DNSClass(4), NONE = DNSClass(254), ANY = DNSClass(255)
    static let names: [UInt16: String] = [1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"]

    /// `IN`, `in` or `CLASS1`; nil for anything else (a bare number is not a class, so a TTL is not mistaken for one).
    public init?(_ text: String) {
        let u = text.uppercased()
        if let (c, _) = DNSClass.names.first(where: { $0.value == u }) { rawValue = c; return }
        if u.hasPrefix("CLASS"), let v = UInt16(u.dropFirst(5)) { rawValue = v; return }
        return nil
    }
    /// The mnemonic (`IN`), or `CLASSn` (RFC 3597) for a code without one.
    public var description: String { DNSClass.names[rawValue] ?? "CLASS\(rawValue)" }
}

/// Response codes, with the extended ones EDNS adds.
public enum DNSRcode {
    static let names: [Int: String] = [0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
                                       6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 16: "BADVERS",
                                       17: "BADKEY", 18: "BADTIME", 23: "BADCOOKIE"]
    /// The mnemonic for a full 12-bit rcode (`NXDOMAIN`, `BADVERS`), or `RCODEn` for an unassigned one.
    public static func name(_ code: Int) -> String { names[code] ?? "RCODE\(code)" }
}

/// Opcodes: QUERY, IQUERY, STATUS, NOTIFY, UPDATE.
public enum DNSOpcode {
    static let names: [UInt8: String] = [0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE"]
    /// The mnemonic for an opcode (`UPDATE`), or `OPCODEn` for an unassigned one.
    public static func name(_ code: UInt8) -> String { names[code] ?? "OPCODE\(code)" }
}
