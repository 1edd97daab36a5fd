/// A count of addresses that may exceed `UInt128`: the size of `::/0` is 2^128, and an `IPSet`
/// can hold every IPv6 address and every IPv4 address as well.
///
/// Stored as a 192-bit unsigned number (`high` × 2^128 + `low`).
public struct AddressCount: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The part of the count at or above 2^128.
    public var high: UInt64
    /// The count modulo 2^128.
    public var low: UInt128

    /// A count of zero.
    public static let zero = AddressCount(high: 0, low: 0)

    /// Creates a count from its two halves.
    public init(high: UInt64, low: UInt128) {
        self.high = high
        self.low = low
    }

    /// Creates a count that fits in `UInt128`.
    public init(_ value: UInt128) {
        self.high = 0
        self.low = value
    }

    /// Creates the count 2^bits (bits from 0 to 128).
    public init(powerOfTwo bits: Int) {
        if bits >= 128 { self.init(high: 1, low: 0) } else { self.init(UInt128(1) << UInt128(bits)) }
    }

    /// The number of addresses in the inclusive range `first...last`.
    public init(first: UInt128, last: UInt128) {
        let diff = last &- first
        if diff == UInt128.max { self.init(high: 1, low: 0) } else { self.init(diff + 1) }
    }

    /// The count as `UInt128`, or nil when it is 2^128 or more.
    public var uint128Value: UInt128? { high == 0 ? low : nil }

    /// The count as `Int`, or nil when it does not fit.
    public var intValue: Int? {
        guard high == 0, low <= UInt128(Int.max) else { return nil }
        return Int(low)
    }

    /// The count as a (possibly rounded) floating-point number.
    public var doubleValue: Double { Double(high) * 0x1p128 + Double(low) }

    /// Sum of two counts (cannot overflow for any real address set).
    public static func + (lhs: AddressCount, rhs: AddressCount) -> AddressCount {
        let (low, carry) = lhs.low.addingReportingOverflow(rhs.low)
        return AddressCount(high: lhs.high &+ rhs.high &+ (carry ? 1 : 0), low: low)
    }

    /// Adds `rhs` to `lhs`.
    public static func += (lhs: inout AddressCount, rhs: AddressCount) { lhs = lhs + rhs }

    /// Numeric order.
    public static func < (lhs: AddressCount, rhs: AddressCount) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// The count in decimal.
    public var description: String {
        if high == 0 { return String(low) }
        // Long division of the 192-bit number by 10^19, collecting base-10^19 digits.
        var limbs: [UInt64] = [high, UInt64(truncatingIfNeeded: low >> 64), UInt64(truncatingIfNeeded: low)]
        let divisor: UInt64 = 10_000_000_000_000_000_000
        var parts: [UInt64] = []
        while limbs.contains(where: { $0 != 0 }) {
            var rem: UInt64 = 0
            for i in limbs.indices {
                let (q, r) = divisor.dividingFullWidth((rem, limbs[i]))
                limbs[i] = q
                rem = r
            }
            parts.append(rem)
        }
        var text = String(parts.last ?? 0)
        for part in parts.dropLast().reversed() {
            let digits = String(part)
            text += String(repeating: "0", count: 19 - digits.count) + digits
        }
        return text
    }
}
