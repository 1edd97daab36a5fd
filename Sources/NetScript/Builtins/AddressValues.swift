import NetKit

/// The address types as language values: `ip`, `cidr`, `iprange`, `ipset`, `mac`, and the lazy
/// sequences (`hosts`, `subnets`, globs, nmap targets). NetKit computes; these only present.

func addressError(_ e: Error) -> Error {
    if let a = e as? AddressError { return Diagnostic("value", a.message) }
    return e
}

@inline(__always)
func addr<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw addressError(error) }
}

/// A count as an int when it fits, else its decimal text (an IPv6 /0 holds 2^128 addresses).
func countValue(_ c: AddressCount) -> Value {
    if let i = c.intValue { return .int(i) }
    return .string(c.description)
}

/// The most addresses a slice makes into a list (an IPv4 /8): a bigger one is a value error
/// up front, never an allocation that runs the machine out of memory.
let maxSliceAddresses = 1 << 24

/// `net[i]` for a range of addresses (a network, a range, a glob): netaddr's indexing.
func indexAddresses(_ range: IPRange, _ key: Value, _ what: String) throws -> Value? {
    guard case .int(let i) = key else { return nil }
    guard let a = range.address(at: i) else {
        throw Diagnostic("index", "index \(i) is out of range for \(what) of \(range.size) addresses")
    }
    return .native(IPValue(a))
}

/// `net[lo:hi]`: the addresses as a list (netaddr gives an iterator), at most `maxSliceAddresses`.
func sliceAddresses(_ range: IPRange, _ lo: Value, _ hi: Value, _ what: String) throws -> Value? {
    func bound(_ v: Value) throws -> Int?? {
        switch v {
        case .nil: return .some(nil)
        case .int(let i): return .some(i)
        default: throw Diagnostic.type("slice bounds must be ints, not \(v.typeName)")
        }
    }
    guard let l = try bound(lo), let h = try bound(hi) else { return nil }
    guard let part = range.slice(l, h) else { return .list([]) }
    guard let n = part.size.intValue, n <= maxSliceAddresses else {
        throw Diagnostic.value("a slice of \(part.size) addresses is too big for a list (at most \(maxSliceAddresses)): slice less, or walk \(what) with for")
    }
    var out: [Value] = []
    out.reserveCapacity(n)
    for a in part { out.append(.native(IPValue(a))) }
    return .list(out)
}

/// A count for NativeObject.itemCount, exact in its text however large.
func itemCountOf(_ c: AddressCount) -> (value: Double, text: String) { (c.doubleValue, c.description) }

final class IPValue: NativeObject {
    let ip: IPAddress
    init(_ ip: IPAddress) { self.ip = ip }
    override var typeName: String { "ip" }
    override var description: String { ip.description }
    override var jsonValue: Value? { .string(ip.description) }
    override func isEqual(to other: NativeObject) -> Bool { (other as? IPValue)?.ip == ip }
    override func hash(into h: inout Hasher) { h.combine(ip) }
    override func compare(to other: NativeObject) -> Int? {
        guard let o = other as? IPValue else { return nil }
        return ip < o.ip ? -1 : (ip == o.ip ? 0 : 1)
    }
    static let names = ["version", "int", "exploded", "reverse_dns", "packed", "bits", "zone",
                        "is_loopback", "is_private", "is_link_local", "is_multicast", "is_unicast", "is_reserved",
                        "is_global", "is_documentation", "is_unspecified", "is_shared", "is_benchmarking",
                        "is_ipv4_mapped", "is_ipv4_compat", "is_netmask", "is_hostmask",
                        "iana", "special", "ipv4", "ipv6", "cidr"]
    override var fieldNames: [String] { IPValue.names }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "version": return .int(ip.version == .v4 ? 4 : 6)
        case "int":
            if let v = Int(exactly: ip.value) { return .int(v) }
            return .string(String(ip.value))
        case "exploded": return .string(ip.exploded)
        case "reverse_dns": return .string(ip.reverseDNS)
        case "packed": return .bytes(ip.packed)
        case "bits": return .string(ip.bits)
        case "zone": return ip.zone.map { .string($0) } ?? .nil
        case "is_loopback": return .bool(ip.isLoopback)
        case "is_private": return .bool(ip.isPrivate)
        case "is_link_local": return .bool(ip.isLinkLocal)
        case "is_multicast": return .bool(ip.isMulticast)
        case "is_unicast": return .bool(ip.isUnicast)
        case "is_reserved": return .bool(ip.isReserved)
        case "is_global": return .bool(ip.isGlobal)
        case "is_documentation": return .bool(ip.isDocumentation)
        case "is_unspecified": return .bool(ip.isUnspecified)
        case "is_shared": return .bool(ip.isSharedAddressSpace)
        case "is_benchmarking": return .bool(ip.isBenchmarking)
        case "is_ipv4_mapped": return .bool(ip.isIPv4Mapped)
        case "is_ipv4_compat": return .bool(ip.isIPv4Compatible)
        case "is_netmask": return .bool(ip.isNetmask)
        case "is_hostmask": return .bool(ip.isHostmask)
        case "iana":
            guard let a = ip.ianaAllocation else { return ip.ianaAddressSpace.map { .string($0) } ?? .nil }
            return .native(RecordObject("iana", ["prefix": .string(a.prefix), "designation": .string(a.designation),
                                                 "status": .string(a.status), "date": .string(a.date), "whois": .string(a.whois)]))
        case "special":
            return .list(ip.specialPurposeBlocks.map { b in
                .native(RecordObject("special_purpose", ["cidr": .native(CIDRValue(b.cidr)), "name": .string(b.name), "rfc": .string(b.rfc),
                                                         "global": b.globallyReachable.map { .bool($0) } ?? .nil]))
            })
        case "ipv4": return ip.version == .v4 ? .native(self) : (ip.embeddedIPv4.map { .native(IPValue($0)) } ?? .nil)
        case "ipv6": return .native(IPValue(ip.version == .v6 ? ip : ip.ipv6Mapped))
        case "cidr": return .native(CIDRValue(try addr { try CIDR(ip.withoutZone, prefixLength: ip.version.bitWidth) }))
        default: return nil
        }
    }
    /// `int a`: an IPv6 address is 128 bits, so most do not fit in an int; say what does.
    override func intValue() throws -> Int? {
        if let v = Int(exactly: ip.value) { return v }
        throw Diagnostic("overflow", "int: \(ip) is a 128-bit IPv6 address; its value \(ip.value) does not fit in a 64-bit int (a.int gives the decimal text, hex a.packed the hex)")
    }
    override func binary(_ op: String, _ rhs: Value) throws -> Value? {
        switch (op, rhs) {
        case ("+", .int(let n)): return .native(IPValue(try addr { try ip + n }))
        case ("-", .int(let n)): return .native(IPValue(try addr { try ip - n }))
        case ("-", .native(let o as IPValue)): return .int(try addr { try ip - o.ip })
        default: return nil
        }
    }
}

final class CIDRValue: NativeObject {
    let cidr: CIDR
    init(_ c: CIDR) { cidr = c }
    override var typeName: String { "cidr" }
    override var description: String { cidr.description }
    override var jsonValue: Value? { .string(cidr.description) }
    override func isEqual(to other: NativeObject) -> Bool { (other as? CIDRValue)?.cidr == cidr }
    override func hash(into h: inout Hasher) { h.combine(cidr) }
    override func compare(to other: NativeObject) -> Int? {
        guard let o = other as? CIDRValue else { return nil }
        return cidr < o.cidr ? -1 : (cidr == o.cidr ? 0 : 1)
    }
    override var count: Int? { cidr.size.intValue }
    override var itemCount: (value: Double, text: String)? { itemCountOf(cidr.size) }
    override var fieldNames: [String] {
        ["network", "broadcast", "netmask", "hostmask", "prefixlen", "size", "first", "last",
         "first_host", "last_host", "version", "ip", "hosts", "glob", "reverse_dns"]
    }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "network": return .native(IPValue(cidr.network))
        case "broadcast": return cidr.broadcast.map { .native(IPValue($0)) } ?? .nil
        case "netmask": return .native(IPValue(cidr.netmask))
        case "hostmask": return .native(IPValue(cidr.hostmask))
        case "prefixlen": return .int(cidr.prefixLength)
        case "size": return countValue(cidr.size)
        case "first": return .native(IPValue(cidr.first))
        case "last": return .native(IPValue(cidr.last))
        case "first_host": return .native(IPValue(cidr.firstHost))
        case "last_host": return .native(IPValue(cidr.lastHost))
        case "version": return .int(cidr.version == .v4 ? 4 : 6)
        case "ip": return .native(IPValue(cidr.ip))
        case "hosts": return .native(AddressSequence("hosts", cidr.hosts))
        case "glob": return .string(try addr { try cidrToGlob(cidr) })
        case "reverse_dns": return .string(cidr.network.reverseDNS)
        default: return nil
        }
    }
    override func makeIterator() -> (() throws -> Value?)? {
        var it = cidr.addresses.makeIterator()
        return { it.next().map { .native(IPValue($0)) } }
    }
    override func index(_ key: Value) throws -> Value? { try indexAddresses(IPRange(cidr), key, cidr.description) }
    override func slice(_ lo: Value, _ hi: Value) throws -> Value? { try sliceAddresses(IPRange(cidr), lo, hi, cidr.description) }
    override func contains(_ value: Value) throws -> Bool? {
        switch value {
        case .native(let o as IPValue): return cidr.contains(o.ip)
        case .native(let o as CIDRValue): return cidr.contains(o.cidr)
        case .string(let s):
            if let ip = try? IPAddress(s) { return cidr.contains(ip) }
            return cidr.contains(try addr { try CIDR(s) })
        default: return false
        }
    }
    override func binary(_ op: String, _ rhs: Value) throws -> Value? {
        try IPSetValue.setOperation(op, IPSet([cidr]), rhs)
    }
}

final class IPRangeValue: NativeObject {
    let range: IPRange
    init(_ r: IPRange) { range = r }
    override var typeName: String { "iprange" }
    override var description: String { range.description }
    override var jsonValue: Value? { .string(range.description) }
    override func isEqual(to other: NativeObject) -> Bool { (other as? IPRangeValue)?.range == range }
    override func hash(into h: inout Hasher) { h.combine(range) }
    override var count: Int? { range.size.intValue }
    override var itemCount: (value: Double, text: String)? { itemCountOf(range.size) }
    override var fieldNames: [String] { ["first", "last", "size", "cidrs", "version"] }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "first": return .native(IPValue(range.first))
        case "last": return .native(IPValue(range.last))
        case "size": return countValue(range.size)
        case "cidrs": return .list(range.cidrs.map { .native(CIDRValue($0)) })
        case "version": return .int(range.version == .v4 ? 4 : 6)
        default: return nil
        }
    }
    override func makeIterator() -> (() throws -> Value?)? {
        var it = range.makeIterator()
        return { it.next().map { .native(IPValue($0)) } }
    }
    override func index(_ key: Value) throws -> Value? { try indexAddresses(range, key, range.description) }
    override func slice(_ lo: Value, _ hi: Value) throws -> Value? { try sliceAddresses(range, lo, hi, range.description) }
    override func contains(_ value: Value) throws -> Bool? {
        switch value {
        case .native(let o as IPValue): return range.contains(o.ip)
        case .native(let o as CIDRValue): return range.contains(o.cidr)
        case .native(let o as IPRangeValue): return range.contains(o.range)
        case .string(let s): return range.contains(try addr { try IPAddress(s) })
        default: return false
        }
    }
    override func binary(_ op: String, _ rhs: Value) throws -> Value? {
        try IPSetValue.setOperation(op, IPSet([range]), rhs)
    }
}

final class IPSetValue: NativeObject {
    var ipset: IPSet
    init(_ s: IPSet) { ipset = s }
    override var typeName: String { "ipset" }
    override var description: String { "ipset[" + ipset.cidrs.map(\.description).joined(separator: ", ") + "]" }
    override var jsonValue: Value? { .list(ipset.cidrs.map { .string($0.description) }) }
    override func isEqual(to other: NativeObject) -> Bool { (other as? IPSetValue)?.ipset == ipset }
    override func hash(into h: inout Hasher) { h.combine(ipset) }
    override var count: Int? { ipset.size.intValue }
    /// `count` is the addresses, but `for` walks the (few) CIDRs.
    override var itemCount: (value: Double, text: String)? { nil }
    override var isTruthy: Bool { !ipset.isEmpty }
    override var fieldNames: [String] { ["size", "cidrs", "ranges", "contiguous", "empty"] }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "size": return countValue(ipset.size)
        case "cidrs": return .list(ipset.cidrs.map { .native(CIDRValue($0)) })
        case "ranges": return .list(ipset.ranges.map { .native(IPRangeValue($0)) })
        case "contiguous": return .bool(ipset.isContiguous)
        case "empty": return .bool(ipset.isEmpty)
        default: return nil
        }
    }
    /// Iterating a set walks its minimal list of CIDRs.
    override func makeIterator() -> (() throws -> Value?)? {
        var it = ipset.cidrs.makeIterator()
        return { it.next().map { .native(CIDRValue($0)) } }
    }
    override func contains(_ value: Value) throws -> Bool? {
        switch value {
        case .native(let o as IPValue): return ipset.contains(o.ip)
        case .native(let o as CIDRValue): return ipset.contains(o.cidr)
        case .native(let o as IPRangeValue): return ipset.contains(o.range)
        case .native(let o as IPSetValue): return o.ipset.isSubset(of: ipset)
        case .string(let s):
            if let ip = try? IPAddress(s) { return ipset.contains(ip) }
            return ipset.contains(try addr { try CIDR(s) })
        default: return false
        }
    }
    override func binary(_ op: String, _ rhs: Value) throws -> Value? {
        try IPSetValue.setOperation(op, ipset, rhs)
    }

    /// `a + b` / `a | b` union, `a - b` difference, `a & b` intersection, `a ^ b` symmetric
    /// difference, for any mix of cidr, iprange, ipset, ip and address text.
    static func setOperation(_ op: String, _ lhs: IPSet, _ rhs: Value) throws -> Value? {
        guard ["+", "-", "&", "^", "|"].contains(op), let r = try? AddressBuiltins.toSet(rhs) else { return nil }
        switch op {
        case "+", "|": return .native(IPSetValue(lhs.union(r)))
        case "-": return .native(IPSetValue(lhs.subtracting(r)))
        case "&": return .native(IPSetValue(lhs.intersection(r)))
        default: return .native(IPSetValue(lhs.symmetricDifference(r)))
        }
    }
}

final class EUIValue: NativeObject {
    let eui: EUI
    init(_ e: EUI) { eui = e }
    override var typeName: String { "mac" }
    override var description: String { eui.description }
    override var jsonValue: Value? { .string(eui.description) }
    override func isEqual(to other: NativeObject) -> Bool { (other as? EUIValue)?.eui == eui }
    override func hash(into h: inout Hasher) { h.combine(eui) }
    override func compare(to other: NativeObject) -> Int? {
        guard let o = other as? EUIValue else { return nil }
        return eui < o.eui ? -1 : (eui == o.eui ? 0 : 1)
    }
    override func intValue() throws -> Int? {
        if let v = Int(exactly: eui.value) { return v }
        throw Diagnostic("overflow", "int: \(eui) is a 64-bit EUI; its value \(eui.value) does not fit in a 64-bit signed int (m.int gives the decimal text, hex m.packed the hex)")
    }
    override var fieldNames: [String] {
        ["width", "int", "oui", "ei", "is_iab", "is_universal", "is_local", "is_multicast", "is_unicast",
         "eui64", "modified_eui64", "ipv6_link_local", "packed", "org", "registration"] + EUIDialect.allCases.map(\.scriptName)
    }
    override func field(_ name: String) throws -> Value? {
        if let d = EUIDialect(scriptName: name) { return .string(eui.format(d)) }
        switch name {
        case "width": return .int(eui.width)
        case "int": return Int(exactly: eui.value).map { .int($0) } ?? .string(String(eui.value))
        case "oui": return .string(eui.ouiText)
        case "ei": return .string(eui.ei)
        case "is_iab": return .bool(eui.isIAB)
        case "is_universal": return .bool(eui.isUniversallyAdministered)
        case "is_local": return .bool(eui.isLocallyAdministered)
        case "is_multicast": return .bool(eui.isMulticast)
        case "is_unicast": return .bool(eui.isUnicast)
        case "eui64": return .native(EUIValue(eui.eui64))
        case "modified_eui64": return .native(EUIValue(eui.modifiedEUI64))
        case "ipv6_link_local": return .native(IPValue(eui.ipv6LinkLocal))
        case "packed": return .bytes(eui.packed)
        case "org": return try addr { try eui.registration() }.map { .string($0.organization) } ?? .nil
        case "registration":
            guard let r = try addr({ try eui.registration() }) else { return .nil }
            return .native(RecordObject("registration", ["registry": .string(r.registry), "assignment": .string(r.assignment),
                                                         "prefix_bits": .int(r.prefixBits), "organization": .string(r.organization),
                                                         "address": .string(r.address)]))
        default: return nil
        }
    }
}

/// A lazy sequence of addresses (hosts of a network, a glob, nmap targets): walked by `for`,
/// never materialised unless asked (`list seq`).
final class AddressSequence: NativeObject {
    let kind: String
    let makeIt: () -> AnyIterator<IPAddress>
    let size: AddressCount?
    init<S: Sequence>(_ kind: String, _ seq: S, size: AddressCount? = nil) where S.Element == IPAddress {
        self.kind = kind
        self.makeIt = { AnyIterator(seq.makeIterator()) }
        self.size = size
    }
    init(_ kind: String, _ seq: IPAddressSequence) {
        self.kind = kind
        self.makeIt = { AnyIterator(seq.makeIterator()) }
        self.size = seq.count
    }
    override var typeName: String { kind }
    override var count: Int? { size?.intValue }
    override var itemCount: (value: Double, text: String)? { size.map(itemCountOf) }
    override var description: String { "<\(kind)\(size.map { " of \($0) addresses" } ?? "")>" }
    override var fieldNames: [String] { ["size"] }
    override func field(_ name: String) throws -> Value? { name == "size" ? size.map(countValue) ?? .nil : nil }
    override func makeIterator() -> (() throws -> Value?)? {
        let it = makeIt()
        return { it.next().map { .native(IPValue($0)) } }
    }
}

/// `cidr subnet NET 24`: lazy, so splitting a /8 into /32s allocates nothing up front.
final class SubnetSequence: NativeObject {
    let seq: CIDRSubnetSequence
    init(_ s: CIDRSubnetSequence) { seq = s }
    override var typeName: String { "subnets" }
    override var count: Int? { seq.count.intValue }
    override var itemCount: (value: Double, text: String)? { itemCountOf(seq.count) }
    override var description: String { "<subnets: \(seq.count)>" }
    override var fieldNames: [String] { ["size"] }
    override func field(_ name: String) throws -> Value? { name == "size" ? countValue(seq.count) : nil }
    override func makeIterator() -> (() throws -> Value?)? {
        var it = seq.makeIterator()
        return { it.next().map { .native(CIDRValue($0)) } }
    }
}

extension EUIDialect {
    /// The dialect's name in scripts: snake_case (`unix_expanded`).
    var scriptName: String {
        rawValue.reduce(into: "") { out, ch in
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
    }
    init?(scriptName: String) {
        guard let d = EUIDialect.allCases.first(where: { $0.scriptName == scriptName || $0.rawValue == scriptName }) else { return nil }
        self = d
    }
}
