/// A set of IPv4 and IPv6 addresses (netaddr's `IPSet`), kept as sorted, disjoint,
/// non-adjacent ranges per version so that set algebra is a linear merge and membership a
/// binary search. Building from a large list sorts once (IPv4 by radix sort).
public struct IPSet: Hashable, Sendable, Sequence, CustomStringConvertible {
    var v4: [ValueRange]
    var v6: [ValueRange]

    /// The empty set.
    public init() {
        v4 = []
        v6 = []
    }

    init(v4: [ValueRange], v6: [ValueRange]) {
        self.v4 = v4
        self.v6 = v6
    }

    /// The union of the given networks.
    public init(_ cidrs: [CIDR]) {
        (v4, v6) = CIDRAlgorithms.mergedRanges(cidrs)
    }

    /// The union of the given addresses.
    public init(_ addresses: [IPAddress]) {
        self.init(addresses.map { CIDR(unchecked: $0.value, $0.version, $0.version.bitWidth) })
    }

    /// The union of the given ranges.
    public init(_ ranges: [IPRange]) {
        var a: [ValueRange] = [], b: [ValueRange] = []
        for r in ranges {
            if r.version == .v4 { a.append(ValueRange(lo: r.firstValue, hi: r.lastValue)) }
            else { b.append(ValueRange(lo: r.firstValue, hi: r.lastValue)) }
        }
        v4 = CIDRAlgorithms.mergeRanges(&a)
        v6 = CIDRAlgorithms.mergeRanges(&b)
    }

    /// Parses each string as a network (`10.0.0.0/8`, bare address) or range (`a-b`).
    public init(parsing texts: [String]) throws {
        var cidrs: [CIDR] = []
        var ranges: [IPRange] = []
        for t in texts {
            if t.contains("-") { ranges.append(try IPRange(t)) } else { cidrs.append(try CIDR(t)) }
        }
        self = IPSet(cidrs).union(IPSet(ranges))
    }

    // MARK: - Queries

    /// Whether the set holds no address.
    public var isEmpty: Bool { v4.isEmpty && v6.isEmpty }

    /// Number of addresses in the set.
    public var size: AddressCount {
        var total = AddressCount.zero
        for r in v4 { total += AddressCount(first: r.lo, last: r.hi) }
        for r in v6 { total += AddressCount(first: r.lo, last: r.hi) }
        return total
    }

    private static func find(_ ranges: [ValueRange], _ lo: UInt128, _ hi: UInt128) -> Bool {
        var a = 0, b = ranges.count
        while a < b {
            let m = (a + b) / 2
            if ranges[m].hi < lo { a = m + 1 } else { b = m }
        }
        return a < ranges.count && ranges[a].lo <= lo && hi <= ranges[a].hi
    }

    /// Whether the address is in the set.
    public func contains(_ address: IPAddress) -> Bool {
        IPSet.find(address.version == .v4 ? v4 : v6, address.value, address.value)
    }
    /// Whether the whole network is in the set.
    public func contains(_ cidr: CIDR) -> Bool {
        IPSet.find(cidr.version == .v4 ? v4 : v6, cidr.firstValue, cidr.lastValue)
    }
    /// Whether the whole range is in the set.
    public func contains(_ range: IPRange) -> Bool {
        IPSet.find(range.version == .v4 ? v4 : v6, range.firstValue, range.lastValue)
    }

    /// The set as the minimal sorted list of networks, IPv4 first (netaddr's `iter_cidrs`).
    public var cidrs: [CIDR] {
        var out: [CIDR] = []
        CIDRAlgorithms.cidrs(of: v4, .v4, into: &out)
        CIDRAlgorithms.cidrs(of: v6, .v6, into: &out)
        return out
    }

    /// The set as maximal ranges, IPv4 first (netaddr's `iter_ipranges`).
    public var ranges: [IPRange] {
        v4.map { IPRange(unchecked: $0.lo, $0.hi, .v4) } + v6.map { IPRange(unchecked: $0.lo, $0.hi, .v6) }
    }

    /// Whether the set is a single contiguous range of one version.
    public var isContiguous: Bool { v4.count + v6.count <= 1 }

    // MARK: - Algebra

    private static func union(_ a: [ValueRange], _ b: [ValueRange]) -> [ValueRange] {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        var all: [ValueRange] = []
        all.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].lo <= b[j].lo) { all.append(a[i]); i += 1 }
            else { all.append(b[j]); j += 1 }
        }
        return CIDRAlgorithms.coalesceSorted(all)
    }

    private static func intersection(_ a: [ValueRange], _ b: [ValueRange]) -> [ValueRange] {
        var out: [ValueRange] = []
        var i = 0, j = 0
        while i < a.count && j < b.count {
            let lo = Swift.max(a[i].lo, b[j].lo), hi = Swift.min(a[i].hi, b[j].hi)
            if lo <= hi { out.append(ValueRange(lo: lo, hi: hi)) }
            if a[i].hi < b[j].hi { i += 1 } else { j += 1 }
        }
        return out
    }

    private static func difference(_ a: [ValueRange], _ b: [ValueRange]) -> [ValueRange] {
        var out: [ValueRange] = []
        var j = 0
        for r in a {
            var lo = r.lo
            var alive = true
            while j < b.count && b[j].hi < lo { j += 1 }
            var k = j
            while alive && k < b.count && b[k].lo <= r.hi {
                if b[k].lo > lo { out.append(ValueRange(lo: lo, hi: b[k].lo - 1)) }
                if b[k].hi >= r.hi { alive = false } else { lo = b[k].hi + 1 }
                k += 1
            }
            if alive { out.append(ValueRange(lo: lo, hi: r.hi)) }
        }
        return out
    }

    /// Addresses in either set.
    public func union(_ other: IPSet) -> IPSet {
        IPSet(v4: IPSet.union(v4, other.v4), v6: IPSet.union(v6, other.v6))
    }
    /// Addresses in both sets.
    public func intersection(_ other: IPSet) -> IPSet {
        IPSet(v4: IPSet.intersection(v4, other.v4), v6: IPSet.intersection(v6, other.v6))
    }
    /// Addresses in this set but not the other.
    public func subtracting(_ other: IPSet) -> IPSet {
        IPSet(v4: IPSet.difference(v4, other.v4), v6: IPSet.difference(v6, other.v6))
    }
    /// Addresses in exactly one of the sets.
    public func symmetricDifference(_ other: IPSet) -> IPSet {
        union(other).subtracting(intersection(other))
    }
    /// Whether the sets share no address.
    public func isDisjoint(with other: IPSet) -> Bool { intersection(other).isEmpty }
    /// Whether every address of this set is in `other`.
    public func isSubset(of other: IPSet) -> Bool { subtracting(other).isEmpty }
    /// Whether every address of `other` is in this set.
    public func isSuperset(of other: IPSet) -> Bool { other.isSubset(of: self) }

    /// `a | b`
    public static func | (lhs: IPSet, rhs: IPSet) -> IPSet { lhs.union(rhs) }
    /// `a & b`
    public static func & (lhs: IPSet, rhs: IPSet) -> IPSet { lhs.intersection(rhs) }
    /// `a - b`
    public static func - (lhs: IPSet, rhs: IPSet) -> IPSet { lhs.subtracting(rhs) }
    /// `a ^ b`
    public static func ^ (lhs: IPSet, rhs: IPSet) -> IPSet { lhs.symmetricDifference(rhs) }

    // MARK: - Mutation

    /// Adds a network.
    public mutating func add(_ cidr: CIDR) { self = union(IPSet([cidr])) }
    /// Adds an address.
    public mutating func add(_ address: IPAddress) { self = union(IPSet([address])) }
    /// Adds a range.
    public mutating func add(_ range: IPRange) { self = union(IPSet([range])) }
    /// Removes a network.
    public mutating func remove(_ cidr: CIDR) { self = subtracting(IPSet([cidr])) }
    /// Removes an address.
    public mutating func remove(_ address: IPAddress) { self = subtracting(IPSet([address])) }
    /// Removes a range.
    public mutating func remove(_ range: IPRange) { self = subtracting(IPSet([range])) }

    // MARK: - Iteration

    /// Every address, lazily, IPv4 first.
    public struct Iterator: IteratorProtocol {
        let ranges: [(ValueRange, IPVersion)]
        var index = 0
        var inner: IPAddressSequence.Iterator?
        /// The next address, or nil after the set's last.
        public mutating func next() -> IPAddress? {
            while true {
                if let a = inner?.next() { return a }
                guard index < ranges.count else { return nil }
                let (r, v) = ranges[index]
                index += 1
                inner = IPAddressSequence(first: r.lo, last: r.hi, version: v).makeIterator()
            }
        }
    }

    /// An iterator over every address, IPv4 first, each in ascending order.
    public func makeIterator() -> Iterator {
        Iterator(ranges: v4.map { ($0, IPVersion.v4) } + v6.map { ($0, IPVersion.v6) })
    }

    /// `IPSet([…networks…])`.
    public var description: String { "IPSet([" + cidrs.map { "'\($0)'" }.joined(separator: ", ") + "])" }
}
