/// An arbitrary inclusive range of addresses of one version, `10.0.0.1-10.0.0.50`
/// (netaddr's `IPRange`).
public struct IPRange: Hashable, Comparable, Sendable, Sequence, CustomStringConvertible {
    /// The first address value.
    public let firstValue: UInt128
    /// The last address value (inclusive).
    public let lastValue: UInt128
    /// IPv4 or IPv6.
    public let version: IPVersion

    /// The range `first...last`; throws on mixed versions or `first > last`.
    public init(_ first: IPAddress, _ last: IPAddress) throws {
        guard first.version == last.version else {
            throw AddressError("\(first)-\(last)", "range ends are of different versions")
        }
        guard first.value <= last.value else {
            throw AddressError("\(first)-\(last)", "range start is after its end")
        }
        self.init(unchecked: first.value, last.value, first.version)
    }

    init(unchecked first: UInt128, _ last: UInt128, _ version: IPVersion) {
        self.firstValue = first
        self.lastValue = last
        self.version = version
    }

    /// Parses `first-last` with two full addresses.
    public init(_ text: String) throws {
        guard let dash = text.firstIndex(of: "-") else {
            throw AddressError(quoted(text), "expected 'first-last'")
        }
        let a = String(text[..<dash]), b = String(text[text.index(after: dash)...])
        let first: IPAddress, last: IPAddress
        do {
            first = try IPAddress(a)
            last = try IPAddress(b)
        } catch let e as AddressError {
            throw AddressError(quoted(text), e.description)
        }
        do { try self.init(first, last) } catch { throw AddressError(quoted(text), (error as? AddressError)?.fault ?? "invalid range") }
    }

    /// The range covered by a network.
    public init(_ cidr: CIDR) {
        self.init(unchecked: cidr.firstValue, cidr.lastValue, cidr.version)
    }

    /// The first address.
    public var first: IPAddress { IPAddress(unchecked: firstValue, version) }
    /// The last address.
    public var last: IPAddress { IPAddress(unchecked: lastValue, version) }
    /// Number of addresses.
    public var size: AddressCount { AddressCount(first: firstValue, last: lastValue) }

    /// The minimal list of networks covering the range exactly.
    public var cidrs: [CIDR] {
        var out: [CIDR] = []
        CIDRAlgorithms.appendCIDRs(firstValue, lastValue, version, &out)
        return out
    }

    /// Whether the address lies in the range.
    public func contains(_ address: IPAddress) -> Bool {
        address.version == version && address.value >= firstValue && address.value <= lastValue
    }
    /// Whether the network lies entirely in the range.
    public func contains(_ cidr: CIDR) -> Bool {
        cidr.version == version && cidr.firstValue >= firstValue && cidr.lastValue <= lastValue
    }
    /// Whether `other` lies entirely in the range.
    public func contains(_ other: IPRange) -> Bool {
        other.version == version && other.firstValue >= firstValue && other.lastValue <= lastValue
    }

    /// Every address, lazily.
    public func makeIterator() -> IPAddressSequence.Iterator {
        IPAddressSequence(first: firstValue, last: lastValue, version: version).makeIterator()
    }

    /// IPv4 before IPv6, then by first address, then by last.
    public static func < (lhs: IPRange, rhs: IPRange) -> Bool {
        (lhs.version.rawValue, lhs.firstValue, lhs.lastValue) < (rhs.version.rawValue, rhs.firstValue, rhs.lastValue)
    }

    /// `first-last`.
    public var description: String { "\(first)-\(last)" }
}
