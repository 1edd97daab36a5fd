/// An inclusive range of address values of one version; the working form of every set
/// algorithm (merge, exclude, IPSet).
struct ValueRange: Hashable, Sendable {
    var lo: UInt128
    var hi: UInt128
}

/// Set algorithms over CIDRs and ranges, netaddr's `cidr_merge`, `spanning_cidr`,
/// `cidr_exclude` and `iprange_to_cidrs`. They work on packed integers: IPv4 ranges travel as
/// one `UInt64` (first << 32 | last) and are radix-sorted, so a million prefixes merge in tens
/// of milliseconds.
enum CIDRAlgorithms {
    /// Appends the minimal list of CIDRs covering `lo...hi` (IPv4, values < 2^32).
    @inline(__always)
    static func appendCIDRsV4(_ lo: UInt64, _ hi: UInt64, _ out: inout [CIDR]) {
        var lo = lo
        while true {
            let align = lo == 0 ? 32 : min(32, lo.trailingZeroBitCount)
            let span = hi - lo + 1 // at most 2^32, fits
            let fit = 63 - span.leadingZeroBitCount
            let bits = min(align, fit)
            out.append(CIDR(unchecked: UInt128(lo), .v4, 32 - bits))
            let blockLast = lo + (UInt64(1) << UInt64(bits)) - 1
            if blockLast >= hi { return }
            lo = blockLast + 1
        }
    }

    /// Appends the minimal list of CIDRs covering `lo...hi` for either version.
    static func appendCIDRs(_ lo: UInt128, _ hi: UInt128, _ version: IPVersion, _ out: inout [CIDR]) {
        if version == .v4 {
            appendCIDRsV4(UInt64(truncatingIfNeeded: lo), UInt64(truncatingIfNeeded: hi), &out)
            return
        }
        var lo = lo
        while true {
            let align = lo == 0 ? 128 : lo.trailingZeroBitCount
            let span = hi - lo
            let fit = span == UInt128.max ? 128 : 127 - (span + 1).leadingZeroBitCount
            let bits = min(align, fit)
            out.append(CIDR(unchecked: lo, .v6, 128 - bits))
            let blockLast = bits >= 128 ? UInt128.max : lo + ((UInt128(1) << UInt128(bits)) - 1)
            if blockLast >= hi { return }
            lo = blockLast + 1
        }
    }

    /// Sorts packed IPv4 ranges by their first address (the high 32 bits): two stable LSD
    /// passes of 16 bits. Ties keep input order, which the merge pass doesn't care about.
    static func radixSortByHigh32(_ a: inout [UInt64]) {
        let n = a.count
        if n < 256 { a.sort(); return }
        var tmp = [UInt64](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 65536)
        for shift in [UInt64(32), 48] {
            for k in 0..<65536 { counts[k] = 0 }
            a.withUnsafeBufferPointer { src in
                for v in src { counts[Int(truncatingIfNeeded: v >> shift) & 0xffff] += 1 }
            }
            var sum = 0
            for k in 0..<65536 { let c = counts[k]; counts[k] = sum; sum += c }
            a.withUnsafeBufferPointer { src in
                tmp.withUnsafeMutableBufferPointer { dst in
                    counts.withUnsafeMutableBufferPointer { cnt in
                        for v in src {
                            let d = Int(truncatingIfNeeded: v >> shift) & 0xffff
                            dst[cnt[d]] = v
                            cnt[d] += 1
                        }
                    }
                }
            }
            swap(&a, &tmp)
        }
    }

    /// Merges packed IPv4 ranges (first << 32 | last) into maximal disjoint, non-adjacent ranges.
    static func mergePackedV4(_ packed: inout [UInt64]) -> [ValueRange] {
        radixSortByHigh32(&packed)
        var out: [ValueRange] = []
        packed.withUnsafeBufferPointer { p in
            guard let firstItem = p.first else { return }
            var lo = firstItem >> 32, hi = firstItem & 0xffff_ffff
            for v in p.dropFirst() {
                let a = v >> 32, b = v & 0xffff_ffff
                if a <= hi + 1 {
                    if b > hi { hi = b }
                } else {
                    out.append(ValueRange(lo: UInt128(lo), hi: UInt128(hi)))
                    lo = a; hi = b
                }
            }
            out.append(ValueRange(lo: UInt128(lo), hi: UInt128(hi)))
        }
        return out
    }

    /// Sorts and merges ranges into maximal disjoint, non-adjacent ranges.
    static func mergeRanges(_ ranges: inout [ValueRange]) -> [ValueRange] {
        ranges.sort { $0.lo < $1.lo }
        return coalesceSorted(ranges)
    }

    /// Joins overlapping and adjacent ranges of a list sorted by `lo`.
    static func coalesceSorted(_ ranges: [ValueRange]) -> [ValueRange] {
        var out: [ValueRange] = []
        out.reserveCapacity(ranges.count)
        guard var cur = ranges.first else { return out }
        for r in ranges.dropFirst() {
            if cur.hi == UInt128.max || r.lo <= cur.hi + 1 {
                if r.hi > cur.hi { cur.hi = r.hi }
            } else {
                out.append(cur)
                cur = r
            }
        }
        out.append(cur)
        return out
    }

    /// Splits networks into merged IPv4 and IPv6 ranges.
    static func mergedRanges(_ cidrs: [CIDR]) -> (v4: [ValueRange], v6: [ValueRange]) {
        var v4: [UInt64] = []
        var v6: [ValueRange] = []
        v4.reserveCapacity(cidrs.count)
        for c in cidrs {
            if c.version == .v4 {
                let m = c.hostmaskBits
                let a = UInt64(truncatingIfNeeded: c.address & ~m), b = UInt64(truncatingIfNeeded: c.address | m)
                v4.append(a << 32 | b)
            } else {
                v6.append(ValueRange(lo: c.firstValue, hi: c.lastValue))
            }
        }
        return (mergePackedV4(&v4), mergeRanges(&v6))
    }

    static func cidrs(of ranges: [ValueRange], _ version: IPVersion, into out: inout [CIDR]) {
        for r in ranges { appendCIDRs(r.lo, r.hi, version, &out) }
    }
}

/// Merges and collapses networks into the smallest equivalent list (netaddr's `cidr_merge`):
/// overlapping and adjacent networks are joined, IPv4 results come before IPv6, each sorted.
public func cidrMerge(_ cidrs: [CIDR]) -> [CIDR] {
    let (v4, v6) = CIDRAlgorithms.mergedRanges(cidrs)
    var out: [CIDR] = []
    out.reserveCapacity(v4.count + v6.count)
    CIDRAlgorithms.cidrs(of: v4, .v4, into: &out)
    CIDRAlgorithms.cidrs(of: v6, .v6, into: &out)
    return out
}

/// The smallest single network containing every given network (netaddr's `spanning_cidr`);
/// throws for an empty list or a mix of versions.
public func spanningCIDR(_ cidrs: [CIDR]) throws -> CIDR {
    guard let head = cidrs.first else { throw AddressError("", "spanning CIDR of an empty list") }
    var lo = head.firstValue, hi = head.lastValue
    for c in cidrs.dropFirst() {
        guard c.version == head.version else {
            throw AddressError("\(head), \(c)", "cannot span networks of different versions")
        }
        lo = min(lo, c.firstValue)
        hi = max(hi, c.lastValue)
    }
    let width = head.version.bitWidth
    let differing = lo == hi ? 0 : 128 - (lo ^ hi).leadingZeroBitCount
    return CIDR(unchecked: lo, head.version, width - differing).cidr
}

/// The smallest single network containing every given address.
public func spanningCIDR(_ addresses: [IPAddress]) throws -> CIDR {
    try spanningCIDR(addresses.map { CIDR(unchecked: $0.value, $0.version, $0.version.bitWidth) })
}

/// `target` minus `exclude` as the minimal sorted list of networks (netaddr's `cidr_exclude`).
public func cidrExclude(_ target: CIDR, _ exclude: CIDR) -> [CIDR] {
    guard target.version == exclude.version, target.overlaps(exclude) else { return [target.cidr] }
    if exclude.contains(target) { return [] }
    var out: [CIDR] = []
    if exclude.firstValue > target.firstValue {
        CIDRAlgorithms.appendCIDRs(target.firstValue, exclude.firstValue - 1, target.version, &out)
    }
    if exclude.lastValue < target.lastValue {
        CIDRAlgorithms.appendCIDRs(exclude.lastValue + 1, target.lastValue, target.version, &out)
    }
    return out
}

/// The minimal list of networks covering exactly `first...last` (netaddr's `iprange_to_cidrs`).
public func iprangeToCIDRs(_ first: IPAddress, _ last: IPAddress) throws -> [CIDR] {
    guard first.version == last.version else {
        throw AddressError("\(first)-\(last)", "range ends are of different versions")
    }
    guard first.value <= last.value else {
        throw AddressError("\(first)-\(last)", "range start is after its end")
    }
    var out: [CIDR] = []
    CIDRAlgorithms.appendCIDRs(first.value, last.value, first.version, &out)
    return out
}

/// Parses a whole file of networks, one per line (blank lines, leading/trailing blanks and
/// `#` comments skipped, CRLF accepted), straight from its bytes. Errors name the line number.
public func parseCIDRLines(bytes: UnsafeBufferPointer<UInt8>) throws -> [CIDR] {
    var out: [CIDR] = []
    out.reserveCapacity(bytes.count / 14)
    var lineStart = 0
    var lineNumber = 0
    let n = bytes.count
    while lineStart < n {
        lineNumber += 1
        var lineEnd = lineStart
        while lineEnd < n && bytes[lineEnd] != 10 { lineEnd += 1 }
        var s = lineStart, e = lineEnd
        // Strip comment and surrounding blanks.
        var k = s
        while k < e { if bytes[k] == 35 { e = k; break }; k += 1 }
        while s < e && (bytes[s] == 32 || bytes[s] == 9) { s += 1 }
        while e > s && (bytes[e - 1] == 32 || bytes[e - 1] == 9 || bytes[e - 1] == 13) { e -= 1 }
        if s < e {
            switch CIDR.parse(bytes, s, e) {
            case .ok(let c): out.append(c)
            case .fail(let why):
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[s..<min(e, s + 80)]), as: UTF8.self)
                throw AddressError("line \(lineNumber): \(text)", why)
            }
        }
        lineStart = lineEnd + 1
    }
    return out
}

/// `parseCIDRLines(bytes:)` over an array or string of bytes.
public func parseCIDRLines(_ bytes: [UInt8]) throws -> [CIDR] {
    try bytes.withUnsafeBufferPointer { try parseCIDRLines(bytes: $0) }
}

/// `parseCIDRLines(bytes:)` over the text of a file.
public func parseCIDRLines(text: String) throws -> [CIDR] {
    var text = text
    return try text.withUTF8 { try parseCIDRLines(bytes: $0) }
}
