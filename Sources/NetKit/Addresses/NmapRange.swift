/// An nmap target specification (netaddr's `iter_nmap_range` / `valid_nmap_range`):
/// per-octet lists and ranges `192.168.0-1.1-254`, `10.0.0.1,3,5-7`, open ranges `-5` / `250-`,
/// `*` for a whole octet, a `/nn` CIDR suffix, or a single IPv6 address.
///
/// The spec is validated when created; iteration is lazy, so `10.0.0.0/8` yields addresses one
/// at a time.
public struct NmapTarget: Sendable, Sequence, CustomStringConvertible {
    enum Kind: Sendable {
        case octets([[UInt8]])
        case network(CIDR)
        case single(IPAddress)
    }
    let kind: Kind
    /// The spec as given.
    public let text: String

    /// Parses one target spec.
    public init(_ text: String) throws {
        self.text = text
        if let slash = text.firstIndex(of: "/") {
            let suffix = text[text.index(after: slash)...]
            guard let p = Int(suffix), p > 0, p < 33 else {
                throw AddressError(quoted(text), "CIDR prefix must be 1-32, not '\(suffix)'")
            }
            let net = try CIDR(text)
            guard net.version == .v4 else { throw AddressError(quoted(text), "CIDR is only supported for IPv4") }
            kind = .network(net)
        } else if text.contains(":") {
            kind = .single(try IPAddress(text))
        } else {
            guard !text.isEmpty else { throw AddressError("", "nmap target specification cannot be blank") }
            let tokens = text.split(separator: ".", omittingEmptySubsequences: false)
            guard tokens.count == 4 else { throw AddressError(quoted(text), "invalid nmap range: need 4 octets") }
            kind = .octets(try tokens.map { try NmapTarget.octetValues($0, text) })
        }
    }

    static func octetValues(_ spec: Substring, _ text: String) throws -> [UInt8] {
        var present = [Bool](repeating: false, count: 256)
        for element in spec.split(separator: ",", omittingEmptySubsequences: false) {
            var low: Int, high: Int
            if element == "*" {
                (low, high) = (0, 255)
            } else if let dash = element.firstIndex(of: "-") {
                let l = element[..<dash], r = element[element.index(after: dash)...]
                guard let a = l.isEmpty ? 0 : number(l), let b = r.isEmpty ? 255 : number(r) else {
                    throw AddressError(quoted(text), "invalid octet range '\(element)'")
                }
                (low, high) = (a, b)
                guard low <= 255 && high <= 255 else { throw AddressError(quoted(text), "octet value overflow in '\(spec)'") }
                guard low <= high else { throw AddressError(quoted(text), "left side of hyphen must be <= right in '\(element)'") }
            } else {
                guard let a = number(element) else { throw AddressError(quoted(text), "invalid octet '\(element)'") }
                guard a <= 255 else { throw AddressError(quoted(text), "octet value overflow in '\(spec)'") }
                (low, high) = (a, a)
            }
            for v in low...high { present[v] = true }
        }
        return (0..<256).filter { present[$0] }.map { UInt8($0) }
    }

    private static func number(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.utf8.count <= 4, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(s)
    }

    /// Number of addresses the spec names.
    public var count: Int {
        switch kind {
        case .octets(let o): return o.reduce(1) { $0 * $1.count }
        case .network(let n): return n.size.intValue ?? 0
        case .single: return 1
        }
    }

    /// The spec as it was written.
    public var description: String { text }

    /// Yields the addresses in nmap order (octet by octet, lowest first).
    public struct Iterator: IteratorProtocol {
        let kind: Kind
        var indices = [0, 0, 0, 0]
        var done = false
        var inner: IPAddressSequence.Iterator?

        /// The next address, or nil after the last.
        public mutating func next() -> IPAddress? {
            if done { return nil }
            switch kind {
            case .single(let a):
                done = true
                return a
            case .network:
                let a = inner?.next()
                if a == nil { done = true }
                return a
            case .octets(let o):
                if o.contains(where: { $0.isEmpty }) { done = true; return nil }
                var v: UInt32 = 0
                for k in 0..<4 { v = v << 8 | UInt32(o[k][indices[k]]) }
                var k = 3
                while k >= 0 {
                    indices[k] += 1
                    if indices[k] < o[k].count { break }
                    indices[k] = 0
                    k -= 1
                }
                if k < 0 { done = true }
                return IPAddress(v4: v)
            }
        }
    }

    /// An iterator over the addresses in nmap order.
    public func makeIterator() -> Iterator {
        var it = Iterator(kind: kind)
        if case .network(let n) = kind { it.inner = n.addresses.makeIterator() }
        return it
    }
}

/// Whether `spec` is a valid nmap target specification (netaddr's `valid_nmap_range`).
public func validNmapRange(_ spec: String) -> Bool { (try? NmapTarget(spec)) != nil }

/// The addresses of one or more nmap target specs, lazily, in order (netaddr's
/// `iter_nmap_range`). All specs are validated up front.
public func iterNmapRange(_ specs: [String]) throws -> FlattenSequence<[NmapTarget]> {
    try specs.map { try NmapTarget($0) }.joined()
}
