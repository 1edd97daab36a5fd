/// Reads DNS wire data with every access bounds-checked: a short or hostile message gives
/// `DNSError.malformed`, never a crash.
public struct DNSReader {
    /// The whole message: compression pointers may point anywhere before the name being read.
    public let bytes: [UInt8]
    /// The offset of the next byte to read.
    public var pos: Int
    /// Where reading must stop (the end of the message, or of one record's data).
    public var limit: Int

    /// A reader over `bytes` starting at offset `pos`, limited to the end of `bytes`.
    public init(_ bytes: [UInt8], pos: Int = 0) { self.bytes = bytes; self.pos = pos; self.limit = bytes.count }

    /// Bytes left before `limit`.
    public var remaining: Int { limit - pos }
    /// True when nothing is left before `limit`.
    public var atEnd: Bool { pos >= limit }

    /// Reads one byte. Each read throws `DNSError` (`.malformed`) rather than go past `limit`.
    public mutating func u8() throws -> UInt8 {
        guard pos < limit else { throw DNSError.malformed("truncated at byte \(pos)") }
        defer { pos += 1 }
        return bytes[pos]
    }
    /// Reads a 16-bit number in network (big-endian) order.
    public mutating func u16() throws -> UInt16 {
        guard pos + 2 <= limit else { throw DNSError.malformed("truncated at byte \(pos)") }
        defer { pos += 2 }
        return UInt16(bytes[pos]) << 8 | UInt16(bytes[pos + 1])
    }
    /// Reads a 32-bit number in network (big-endian) order.
    public mutating func u32() throws -> UInt32 {
        guard pos + 4 <= limit else { throw DNSError.malformed("truncated at byte \(pos)") }
        defer { pos += 4 }
        return UInt32(bytes[pos]) << 24 | UInt32(bytes[pos + 1]) << 16 | UInt32(bytes[pos + 2]) << 8 | UInt32(bytes[pos + 3])
    }
    /// Reads `n` bytes.
    public mutating func take(_ n: Int) throws -> [UInt8] {
        guard n >= 0, pos + n <= limit else { throw DNSError.malformed("truncated at byte \(pos)") }
        defer { pos += n }
        return Array(bytes[pos..<pos + n])
    }
    /// Reads everything up to `limit` (empty when at the end); never throws.
    public mutating func rest() -> [UInt8] {
        defer { pos = limit }
        return pos < limit ? Array(bytes[pos..<limit]) : []
    }

    /// Reads a possibly compressed name. Each compression pointer must point before the
    /// previous jump target (so no loop can form), labels must be ≤ 63 bytes and the whole
    /// name ≤ 255 bytes; anything else is malformed.
    public mutating func name() throws -> DNSName {
        var labels: [[UInt8]] = []
        var p = pos
        var jumped = false
        var total = 1
        var bound = pos
        let end = bytes.count
        while true {
            guard p < end, jumped || p < limit else { throw DNSError.malformed("name runs past the end at byte \(p)") }
            let len = Int(bytes[p])
            switch len & 0xC0 {
            case 0:
                if len == 0 {
                    if !jumped { pos = p + 1 }
                    return DNSName(unchecked: labels)
                }
                guard p + 1 + len <= end, jumped || p + 1 + len <= limit else { throw DNSError.malformed("label runs past the end at byte \(p)") }
                total += len + 1
                guard total <= 255 else { throw DNSError.malformed("name longer than 255 bytes") }
                labels.append(Array(bytes[(p + 1)..<(p + 1 + len)]))
                p += 1 + len
            case 0xC0:
                guard p + 1 < end else { throw DNSError.malformed("compression pointer cut short at byte \(p)") }
                let target = (len & 0x3F) << 8 | Int(bytes[p + 1])
                guard target < bound else { throw DNSError.malformed("compression pointer at byte \(p) to \(target) does not point backwards") }
                if !jumped { pos = p + 2; jumped = true }
                bound = target
                p = target
            default:
                throw DNSError.malformed("unsupported label type 0x\(String(len & 0xC0, radix: 16)) at byte \(p)")
            }
        }
    }
}

/// Writes DNS wire data, compressing names against the ones already written when asked.
public struct DNSWriter {
    /// The message written so far, in wire form.
    public private(set) var bytes: [UInt8] = []
    private var offsets: [DNSName: Int] = [:]

    /// An empty writer, with room reserved for a classic 512-byte UDP message.
    public init() { bytes.reserveCapacity(512) }

    /// Appends one byte.
    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    /// Appends a 16-bit number in network (big-endian) order.
    public mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xFF)) }
    /// Appends a 32-bit number in network (big-endian) order.
    public mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(v >> 24)); bytes.append(UInt8((v >> 16) & 0xFF))
        bytes.append(UInt8((v >> 8) & 0xFF)); bytes.append(UInt8(v & 0xFF))
    }
    /// Appends raw bytes.
    public mutating func append(_ b: [UInt8]) { bytes += b }
    /// Overwrites the two bytes at offset `i` (an RDLENGTH written before the data it counts);
    /// `i + 1` must already be written.
    public mutating func set16(_ v: UInt16, at i: Int) { bytes[i] = UInt8(v >> 8); bytes[i + 1] = UInt8(v & 0xFF) }
    /// Bytes written so far (the offset the next write lands at).
    public var count: Int { bytes.count }

    /// Writes a name; with `compress`, its longest already-written suffix becomes a pointer.
    /// Every suffix written here is remembered as a target either way.
    public mutating func name(_ n: DNSName, compress: Bool) {
        let labels = n.labels
        for i in 0..<labels.count {
            let suffix = DNSName(unchecked: Array(labels[i...]))
            if compress, let off = offsets[suffix] {
                u16(0xC000 | UInt16(off))
                return
            }
            if bytes.count < 0x3FFF && offsets[suffix] == nil { offsets[suffix] = bytes.count }
            bytes.append(UInt8(labels[i].count))
            bytes += labels[i]
        }
        bytes.append(0)
    }
}
