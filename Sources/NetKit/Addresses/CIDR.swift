/// An IP network in CIDR notation (netaddr's `IPNetwork`): an address plus a prefix length.
///
/// Like netaddr, the address as written is kept (`10.0.0.1/8` prints as such) while `network`,
/// `cidr` and the set operations use the masked form; equality and hashing compare the masked
/// network and prefix.
public struct CIDR: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as written, host bits included.
    public let address: UInt128
    /// IPv4 or IPv6.
    public let version: IPVersion
    private let prefix: UInt8

    /// The prefix length (0-32 or 0-128).
    public var prefixLength: Int { Int(prefix) }

    /// A network from an address value and prefix length; throws if the prefix is out of range.
    public init(_ address: IPAddress, prefixLength: Int) throws {
        guard prefixLength >= 0 && prefixLength <= address.version.bitWidth else {
            throw AddressError("\(address)/\(prefixLength)",
                               "prefix length \(prefixLength) is out of range (0-\(address.version.bitWidth))")
        }
        self.init(unchecked: address.value, address.version, prefixLength)
    }

    init(unchecked address: UInt128, _ version: IPVersion, _ prefixLength: Int) {
        self.address = address
        self.version = version
        self.prefix = UInt8(truncatingIfNeeded: prefixLength)
    }

    /// Parses a network from UTF-8 bytes, exactly as `init(_ text:)` parses text.
    public init(utf8 bytes: UnsafeBufferPointer<UInt8>) throws {
        switch CIDR.parse(bytes, 0, bytes.count) {
        case .ok(let c): self = c
        case .fail(let why): throw AddressError(quoted(String(decoding: bytes, as: UTF8.self)), why)
        }
    }

    /// Parses `a.b.c.d/nn`, `a.b.c.d/255.255.0.0` (netmask), `a.b.c.d/0.0.255.255` (hostmask),
    /// `v6::/nn`, or a bare address (a host network, /32 or /128). Host bits are kept as
    /// written (`network` clears them); a zone id is refused. Throws `AddressError` naming the
    /// text and the fault.
    public init(_ text: String) throws {
        let outcome = AddressParser.withBytes(text) { CIDR.parse($0, 0, $0.count) }
        switch outcome {
        case .ok(let c): self = c
        case .fail(let why): throw AddressError(quoted(text), why)
        }
    }

    /// Whether `text` parses as a CIDR.
    public static func isValid(_ text: String) -> Bool { (try? CIDR(text)) != nil }

    static func parse(_ b: AddressParser.Bytes, _ start: Int, _ end: Int) -> AddressParser.Outcome<CIDR> {
        var slash = -1
        var colon = false
        var k = start
        while k < end {
            let c = b[k]
            if c == 47 { slash = k; break }
            if c == 58 { colon = true } else if c == 37 { return .fail("a zone id is not allowed in a network") }
            k += 1
        }
        let addrEnd = slash >= 0 ? slash : end
        let value: UInt128
        let version: IPVersion
        if colon {
            switch AddressParser.parseIPv6(b, start, addrEnd) {
            case .ok(let v): value = v; version = .v6
            case .fail(let why): return .fail(why)
            }
        } else {
            switch AddressParser.parseIPv4(b, start, addrEnd) {
            case .ok(let v): value = UInt128(v); version = .v4
            case .fail(let why): return .fail(why)
            }
        }
        let width = version.bitWidth
        guard slash >= 0 else { return .ok(CIDR(unchecked: value, version, width)) }
        let ps = slash + 1
        if ps == end { return .fail("missing prefix length after '/'") }
        if let n = AddressParser.parseDecimal(b, ps, end, maxDigits: 4) {
            guard n <= width else { return .fail("prefix length \(n) is out of range (0-\(width))") }
            return .ok(CIDR(unchecked: value, version, n))
        }
        if version == .v4 {
            var dotted = false
            for j in ps..<end where b[j] == 46 { dotted = true }
            if dotted {
                switch AddressParser.parseIPv4(b, ps, end) {
                case .fail(let why): return .fail("netmask: \(why)")
                case .ok(let m):
                    let mask = IPAddress(v4: m)
                    if mask.isNetmask { return .ok(CIDR(unchecked: value, version, m.nonzeroBitCount)) }
                    if mask.isHostmask { return .ok(CIDR(unchecked: value, version, 32 - m.nonzeroBitCount)) }
                    return .fail("\(mask) is neither a netmask nor a hostmask")
                }
            }
        }
        var digits = true
        for j in ps..<end where !AddressParser.isDigit(b[j]) { digits = false }
        if digits { return .fail("prefix length is out of range (0-\(width))") }
        return .fail("invalid prefix length '\(String(decoding: UnsafeBufferPointer(rebasing: b[ps..<min(end, ps + 40)]), as: UTF8.self))'")
    }

    // MARK: - Masks and bounds

    @inline(__always) static func hostmaskValue(_ version: IPVersion, _ prefix: Int) -> UInt128 {
        let hostBits = version.bitWidth - prefix
        return hostBits >= 128 ? UInt128.max : (UInt128(1) << UInt128(hostBits)) &- 1
    }

    /// The host-bits mask as an integer.
    var hostmaskBits: UInt128 { CIDR.hostmaskValue(version, prefixLength) }
    /// The lowest address value in the network.
    public var firstValue: UInt128 { address & ~hostmaskBits }
    /// The highest address value in the network.
    public var lastValue: UInt128 { address | hostmaskBits }

    /// The address as written (`10.0.0.1` for `10.0.0.1/8`).
    public var ip: IPAddress { IPAddress(unchecked: address, version) }
    /// The network address (host bits cleared).
    public var network: IPAddress { IPAddress(unchecked: firstValue, version) }
    /// The first address of the network (same as `network`).
    public var first: IPAddress { network }
    /// The last address of the network.
    public var last: IPAddress { IPAddress(unchecked: lastValue, version) }
    /// The broadcast (all-ones host) address, nil when the network has no room for one
    /// (/31, /32, /127, /128). Like netaddr it is given for IPv6 too, though IPv6 has no
    /// broadcast: there it is simply the last address.
    public var broadcast: IPAddress? {
        version.bitWidth - prefixLength > 1 ? last : nil
    }
    /// The netmask, e.g. 255.255.252.0 for /22.
    public var netmask: IPAddress { IPAddress(unchecked: ~hostmaskBits & version.maxValue, version) }
    /// The hostmask, e.g. 0.0.3.255 for /22.
    public var hostmask: IPAddress { IPAddress(unchecked: hostmaskBits, version) }
    /// The normalised network (host bits cleared), netaddr's `.cidr`.
    public var cidr: CIDR { CIDR(unchecked: firstValue, version, prefixLength) }
    /// Number of addresses, 2^(width - prefix).
    public var size: AddressCount { AddressCount(powerOfTwo: version.bitWidth - prefixLength) }

    /// The usable host bounds, netaddr's `_usable_range`: IPv4 skips network and broadcast,
    /// IPv6 skips the subnet-router anycast address; networks of fewer than 4 addresses
    /// (/31, /32, /127, /128) use every address (RFC 3021, RFC 6164).
    public var usableRange: (first: IPAddress, last: IPAddress) {
        let lo = firstValue, hi = lastValue
        if version.bitWidth - prefixLength >= 2 {
            return (IPAddress(unchecked: lo + 1, version),
                    IPAddress(unchecked: version == .v4 ? hi - 1 : hi, version))
        }
        return (IPAddress(unchecked: lo, version), IPAddress(unchecked: hi, version))
    }
    /// The first usable host address.
    public var firstHost: IPAddress { usableRange.first }
    /// The last usable host address.
    public var lastHost: IPAddress { usableRange.last }

    /// The usable hosts, lazily (netaddr's `iter_hosts`).
    public var hosts: IPAddressSequence {
        let r = usableRange
        return IPAddressSequence(first: r.first.value, last: r.last.value, version: version)
    }
    /// Every address in the network, lazily.
    public var addresses: IPAddressSequence {
        IPAddressSequence(first: firstValue, last: lastValue, version: version)
    }

    // MARK: - Membership

    /// Whether the address lies in this network (zone ids are ignored).
    public func contains(_ address: IPAddress) -> Bool {
        address.version == version && address.value & ~hostmaskBits == firstValue
    }

    /// Whether `other` lies entirely in this network.
    public func contains(_ other: CIDR) -> Bool {
        other.version == version && other.prefixLength >= prefixLength
            && other.address & ~hostmaskBits == firstValue
    }

    /// Whether the two networks share any address.
    public func overlaps(_ other: CIDR) -> Bool { contains(other) || other.contains(self) }

    // MARK: - Subnets and supernets

    /// The subnets of the given longer prefix, lazily: `10.0.0.0/8` to /32 never holds 16M values.
    public func subnets(prefixLength newPrefix: Int) throws -> CIDRSubnetSequence {
        guard newPrefix >= prefixLength && newPrefix <= version.bitWidth else {
            throw AddressError(description, "subnet prefix length \(newPrefix) must be between \(prefixLength) and \(version.bitWidth)")
        }
        return CIDRSubnetSequence(first: firstValue, last: lastValue, version: version, prefixLength: newPrefix)
    }

    /// The enclosing network of the given shorter prefix.
    public func supernet(prefixLength newPrefix: Int) throws -> CIDR {
        guard newPrefix >= 0 && newPrefix <= prefixLength else {
            throw AddressError(description, "supernet prefix length \(newPrefix) must be between 0 and \(prefixLength)")
        }
        let mask = CIDR.hostmaskValue(version, newPrefix)
        return CIDR(unchecked: address & ~mask, version, newPrefix)
    }

    /// All enclosing networks from `/from` up to one bit shorter than this one (netaddr's
    /// `supernet(prefixlen)`).
    public func supernets(from shortest: Int = 0) -> [CIDR] {
        guard shortest < prefixLength else { return [] }
        return (max(0, shortest)..<prefixLength).compactMap { try? supernet(prefixLength: $0) }
    }

    /// The adjacent network of the same size `step` positions on (negative for earlier).
    public func next(_ step: Int = 1) throws -> CIDR {
        let hostBits = version.bitWidth - prefixLength
        guard hostBits < 128 else { throw AddressError(description, "no network follows the whole address space") }
        let magnitude = UInt128(step.magnitude)
        let (delta, o1) = magnitude.multipliedReportingOverflow(by: UInt128(1) << UInt128(hostBits))
        let base = firstValue
        if step >= 0 {
            let (v, o2) = base.addingReportingOverflow(delta)
            guard !o1, !o2, v <= version.maxValue else { throw AddressError(description, "moving by \(step) leaves the \(version) address space") }
            return CIDR(unchecked: v, version, prefixLength)
        }
        guard !o1, delta <= base else { throw AddressError(description, "moving by \(step) leaves the \(version) address space") }
        return CIDR(unchecked: base - delta, version, prefixLength)
    }

    /// The adjacent network of the same size `step` positions back.
    public func previous(_ step: Int = 1) throws -> CIDR {
        guard step != Int.min else { throw AddressError(description, "step is out of range") }
        return try next(-step)
    }

    // MARK: - Protocols

    /// Equal when version, prefix length and network address match: host bits are ignored, so
    /// `10.1.2.3/8 == 10.0.0.0/8`.
    public static func == (lhs: CIDR, rhs: CIDR) -> Bool {
        lhs.version == rhs.version && lhs.prefix == rhs.prefix && lhs.firstValue == rhs.firstValue
    }

    /// Hashes what `==` compares (version, prefix, network address).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(version)
        hasher.combine(prefix)
        hasher.combine(firstValue)
    }

    /// Version first, then network address, then the larger network first.
    public static func < (lhs: CIDR, rhs: CIDR) -> Bool {
        if lhs.version != rhs.version { return lhs.version < rhs.version }
        let a = lhs.firstValue, b = rhs.firstValue
        if a != b { return a < b }
        return lhs.prefix < rhs.prefix
    }

    /// `address/prefix`, the address as written.
    public var description: String {
        guard version == .v4, ip.zone == nil else { return "\(ip)/\(prefixLength)" }
        // The common case, written straight into one buffer: summaries print millions of these.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
            var n = 0
            IPAddress.appendIPv4(UInt32(truncatingIfNeeded: address), buf, &n)
            buf[n] = UInt8(ascii: "/"); n += 1
            let p = prefixLength
            if p >= 10 { buf[n] = UInt8(48 + p / 10); n += 1 }
            buf[n] = UInt8(48 + p % 10); n += 1
            return String(decoding: UnsafeBufferPointer(rebasing: buf[0..<n]), as: UTF8.self)
        }
    }
}

/// A lazy sequence of IP addresses over an inclusive range of values.
public struct IPAddressSequence: Sequence, Sendable {
    /// The first and last address values (inclusive) and the version.
    public let first: UInt128, last: UInt128, version: IPVersion

    /// The addresses `first...last` (empty if `first > last`).
    public init(first: UInt128, last: UInt128, version: IPVersion) {
        self.first = first
        self.last = last
        self.version = version
    }

    /// Iterates the range without materialising it.
    public struct Iterator: IteratorProtocol {
        var current: UInt128, last: UInt128, done: Bool
        let version: IPVersion
        /// The next address, or nil after `last`.
        public mutating func next() -> IPAddress? {
            if done { return nil }
            let v = current
            if v == last { done = true } else { current = v + 1 }
            return IPAddress(unchecked: v, version)
        }
    }

    /// An iterator from `first` to `last`.
    public func makeIterator() -> Iterator {
        Iterator(current: first, last: last, done: first > last, version: version)
    }

    /// The number of addresses, capped at `Int.max` (an IPv6 range can hold more).
    public var underestimatedCount: Int { first > last ? 0 : Int(clamping: Swift.min(last - first, UInt128(Int.max - 1)) + 1) }

    /// Number of addresses.
    public var count: AddressCount { first > last ? .zero : AddressCount(first: first, last: last) }
}

/// The subnets of a network at a longer prefix, produced one at a time.
public struct CIDRSubnetSequence: Sequence, Sendable {
    let first: UInt128, last: UInt128, version: IPVersion, prefixLength: Int

    /// Number of subnets, 2^(new - old prefix).
    public var count: AddressCount {
        let hostBits = version.bitWidth - prefixLength
        let span = AddressCount(first: first, last: last)
        if hostBits == 0 { return span }
        return AddressCount(high: 0, low: span.high > 0 ? UInt128(1) << UInt128(128 - hostBits) : span.low >> UInt128(hostBits))
    }

    /// Iterates subnets in address order.
    public struct Iterator: IteratorProtocol {
        var current: UInt128, done: Bool
        let last: UInt128, step: UInt128, version: IPVersion, prefixLength: Int
        /// The next subnet, or nil after the last one.
        public mutating func next() -> CIDR? {
            if done { return nil }
            let v = current
            let (n, overflow) = v.addingReportingOverflow(step)
            if overflow || n > last || n == 0 { done = true } else { current = n }
            return CIDR(unchecked: v, version, prefixLength)
        }
    }

    /// An iterator from the first subnet (at the network address) to the last.
    public func makeIterator() -> Iterator {
        let hostBits = version.bitWidth - prefixLength
        let step: UInt128 = hostBits >= 128 ? 0 : UInt128(1) << UInt128(hostBits)
        return Iterator(current: first, done: false, last: last, step: step, version: version, prefixLength: prefixLength)
    }
}
