/// Indexing and slicing a range of addresses as netaddr's `IPNetwork[i]`, `IPRange[i]` and
/// `[lo:hi]` do: indexes count from the first address, negative ones from the last
/// (`-1` is the last). The arithmetic stays in `UInt128`, so `::/0` (2^128 addresses) indexes
/// and slices without overflow.
extension IPRange {
    /// The address at `index` (negative counts from the end), or nil when out of range.
    public func address(at index: Int) -> IPAddress? {
        let span = lastValue - firstValue            // size - 1, never overflows
        if index >= 0 {
            let k = UInt128(index)
            return k <= span ? IPAddress(unchecked: firstValue + k, version) : nil
        }
        let back = UInt128(index.magnitude) - 1       // 0 for -1
        return back <= span ? IPAddress(unchecked: lastValue - back, version) : nil
    }

    /// The addresses from index `lo` up to, not including, index `hi`, clamped to the range as
    /// Python's slices are (nil for an omitted bound); nil when the slice is empty.
    public func slice(_ lo: Int?, _ hi: Int?) -> IPRange? {
        let span = lastValue - firstValue
        // Offsets from the first address, inclusive; computed so that no step overflows.
        var a: UInt128 = 0
        if let lo {
            if lo >= 0 {
                guard UInt128(lo) <= span else { return nil }
                a = UInt128(lo)
            } else {
                let m = UInt128(lo.magnitude)          // 1...2^63
                a = m - 1 > span ? 0 : span - (m - 1)
            }
        }
        var b = span
        if let hi {
            if hi >= 0 {
                guard hi > 0 else { return nil }
                b = Swift.min(UInt128(hi - 1), span)
            } else {
                let m = UInt128(hi.magnitude)
                guard m <= span else { return nil }    // hi at or before the first address
                b = span - m
            }
        }
        guard a <= b else { return nil }
        return IPRange(unchecked: firstValue + a, firstValue + b, version)
    }
}

extension CIDR {
    /// The address at `index` of the network (negative counts from the end), or nil.
    public func address(at index: Int) -> IPAddress? { IPRange(self).address(at: index) }

    /// A slice of the network's addresses, as `IPRange.slice`.
    public func slice(_ lo: Int?, _ hi: Int?) -> IPRange? { IPRange(self).slice(lo, hi) }
}
