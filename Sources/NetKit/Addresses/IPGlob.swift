/// An IPv4 glob range (netaddr's `IPGlob`): `192.0.2.*`, `192.0.2.1-10`, `192.0-1.*.*`.
///
/// Rules, as netaddr: four octets; each is a number, `*`, or `x-y` with `x < y`; at most one
/// hyphenated octet; after a `*` only `*` may follow.
public struct IPGlob: Hashable, Sendable, Sequence, CustomStringConvertible {
    /// The addresses the glob covers.
    public let range: IPRange

    /// Parses a glob; throws if it breaks the rules above.
    public init(_ text: String) throws {
        let (lo, hi) = try IPGlob.bounds(text)
        range = IPRange(unchecked: UInt128(lo), UInt128(hi), .v4)
    }

    /// The glob text (canonical form of the range).
    public var description: String { (try? iprangeToGlobs(range.first, range.last).first) ?? range.description }

    /// The minimal list of networks covering the glob.
    public var cidrs: [CIDR] { range.cidrs }
    /// Number of addresses.
    public var size: AddressCount { range.size }
    /// Whether the glob covers the address.
    public func contains(_ address: IPAddress) -> Bool { range.contains(address) }
    /// Every address, lazily.
    public func makeIterator() -> IPAddressSequence.Iterator { range.makeIterator() }

    static func bounds(_ text: String) throws -> (UInt32, UInt32) {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else {
            throw AddressError(quoted(text), "a glob needs 4 octets, found \(octets.count)")
        }
        var lo: UInt32 = 0, hi: UInt32 = 0
        var seenHyphen = false, seenStar = false
        for o in octets {
            var a: UInt32, b: UInt32
            if o == "*" {
                seenStar = true
                (a, b) = (0, 255)
            } else if let dash = o.firstIndex(of: "-") {
                guard !seenHyphen else { throw AddressError(quoted(text), "only one hyphenated octet is allowed") }
                guard !seenStar else { throw AddressError(quoted(text), "a hyphenated octet cannot follow '*'") }
                seenHyphen = true
                guard let x = octetValue(o[..<dash]), let y = octetValue(o[o.index(after: dash)...]) else {
                    throw AddressError(quoted(text), "invalid octet range '\(o)'")
                }
                guard x < y else { throw AddressError(quoted(text), "octet range '\(o)' must go from low to high") }
                (a, b) = (x, y)
            } else {
                guard !seenHyphen && !seenStar else {
                    throw AddressError(quoted(text), "only '*' may follow a '*' or hyphenated octet")
                }
                guard let x = octetValue(o) else {
                    throw AddressError(quoted(text), "octet '\(o)' is not a number from 0 to 255")
                }
                (a, b) = (x, x)
            }
            lo = lo << 8 | a
            hi = hi << 8 | b
        }
        return (lo, hi)
    }

    static func octetValue(_ s: Substring) -> UInt32? {
        guard !s.isEmpty, s.utf8.count <= 3, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let v = UInt32(s), v <= 255 else { return nil }
        return v
    }
}

/// Whether `text` is a valid IPv4 glob (netaddr's `valid_glob`).
public func validGlob(_ text: String) -> Bool { (try? IPGlob.bounds(text)) != nil }

/// The range a glob covers (netaddr's `glob_to_iprange`).
public func globToIPRange(_ text: String) throws -> IPRange { try IPGlob(text).range }

/// The minimal networks a glob covers (netaddr's `glob_to_cidrs`).
public func globToCIDRs(_ text: String) throws -> [CIDR] { try IPGlob(text).cidrs }

/// The glob for a network (netaddr's `cidr_to_glob`); IPv4 only.
public func cidrToGlob(_ cidr: CIDR) throws -> String {
    let globs = try iprangeToGlobs(cidr.first, cidr.last)
    guard globs.count == 1, let glob = globs.first else {
        throw AddressError(cidr.description, "no single glob for this network")
    }
    return glob
}

/// One or more globs covering `first...last` exactly (netaddr's `iprange_to_globs`): a single
/// glob if the range has that shape, otherwise one per network of the range.
public func iprangeToGlobs(_ first: IPAddress, _ last: IPAddress) throws -> [String] {
    guard first.version == .v4 && last.version == .v4 else {
        throw AddressError("\(first)-\(last)", "IP globs only support IPv4")
    }
    guard first.value <= last.value else {
        throw AddressError("\(first)-\(last)", "range start is after its end")
    }
    if let glob = singleGlob(UInt32(truncatingIfNeeded: first.value), UInt32(truncatingIfNeeded: last.value)) {
        return [glob]
    }
    return try iprangeToCIDRs(first, last).compactMap {
        singleGlob(UInt32(truncatingIfNeeded: $0.firstValue), UInt32(truncatingIfNeeded: $0.lastValue))
    }
}

private func singleGlob(_ lo: UInt32, _ hi: UInt32) -> String? {
    var tokens: [String] = []
    var seenHyphen = false, seenStar = false
    for shift in stride(from: 24, through: 0, by: -8) {
        let a = lo >> UInt32(shift) & 0xff, b = hi >> UInt32(shift) & 0xff
        if a == b {
            if seenHyphen || seenStar { return nil }
            tokens.append(String(a))
        } else if a == 0 && b == 255 {
            tokens.append("*")
            seenStar = true
        } else {
            if seenStar || seenHyphen { return nil }
            tokens.append("\(a)-\(b)")
            seenHyphen = true
        }
    }
    let glob = tokens.joined(separator: ".")
    // The glob must cover exactly lo...hi: a hyphen followed by fixed octets doesn't.
    guard let (gl, gh) = try? IPGlob.bounds(glob), gl == lo, gh == hi else { return nil }
    return glob
}
