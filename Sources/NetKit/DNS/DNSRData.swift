/// One field of a record's data, typed.
public enum DNSField: Hashable, Sendable {
    /// An unsigned number of 8, 16 or 32 bits (also RRSIG times, in seconds since 1970).
    case int(UInt32)
    /// A domain name (MX exchange, SOA mname, SRV target…).
    case name(DNSName)
    /// An IPv4 (A) or IPv6 (AAAA) address.
    case address(IPAddress)
    /// One character-string (TXT piece, NAPTR flags, CAA value…), raw bytes.
    case text([UInt8])
    /// All the character-strings of a TXT or SPF record, in order, raw bytes.
    case texts([[UInt8]])
    /// Binary data shown as base64, hex or base32 depending on the field.
    case data([UInt8])
    /// Record types: the one an RRSIG covers, or the types of an NSEC/NSEC3 bitmap.
    case types([DNSType])
    /// SVCB/HTTPS parameters (RFC 9460).
    case params([DNSSvcParam])
}

/// A SVCB/HTTPS parameter: key number and raw value.
public struct DNSSvcParam: Hashable, Sendable {
    /// The SvcParamKey (RFC 9460 §14.3.2): 0 mandatory, 1 alpn, 2 no-default-alpn, 3 port, 4 ipv4hint, 5 ech, 6 ipv6hint.
    public var key: UInt16
    /// The value in wire form (for `port`, two bytes; for `alpn`, length-prefixed ids); empty for `no-default-alpn`.
    public var value: [UInt8]
    /// A parameter from its key number and wire-form value.
    public init(key: UInt16, value: [UInt8]) { self.key = key; self.value = value }
}

/// How one field is laid out on the wire and in text.
public enum DNSFieldKind: Sendable {
    /// Unsigned numbers of 1, 2 or 4 bytes, network order, shown in decimal.
    case u8, u16, u32
    /// RRSIG times: 32-bit seconds, shown as YYYYMMDDHHMMSS.
    case time
    /// A 2-byte record type code (RRSIG's type covered), shown as its mnemonic.
    case type16
    /// A domain name; `compress` is true only for the RFC 1035 types whose names may be
    /// compressed on the wire (RFC 3597 §4); others are always written in full.
    case name(compress: Bool)
    /// A 4-byte IPv4 or 16-byte IPv6 address.
    case ipv4, ipv6
    /// One character-string: a length byte and up to 255 bytes, shown quoted.
    case string
    /// One or more character-strings to the end.
    case strings
    /// Binary data to the end of the record: base64 for keys and signatures, hex for digests.
    case base64Rest, hexRest
    /// Hex with a length byte ("-" when empty): the NSEC3 salt.
    case hexLen8
    /// Base32hex with a length byte: the NSEC3 next hashed owner.
    case base32Len8
    /// The NSEC/NSEC3 type bitmap (RFC 4034 §4.1.2), shown as type mnemonics.
    case bitmap
    /// SVCB/HTTPS parameters to the end (RFC 9460 §2.2), keys strictly increasing on the wire.
    case svcParams
    /// CAA tag (length byte, shown bare) and value (rest, shown quoted).
    case caaTag, caaValue
}

/// One field of a type's layout: its name and how it is encoded.
public struct DNSFieldSpec: Sendable {
    /// The field's name as `DNSRecord.field(_:)` and scripts take it, in snake_case (`exchange`, `key_tag`).
    public let name: String
    /// How the field is laid out on the wire and shown in text.
    public let kind: DNSFieldKind
}

/// The data of a record: typed fields for the types this codec knows, raw bytes (RFC 3597
/// generic form, `\# LEN HEX`) for every other.
public enum DNSRData: Hashable, Sendable {
    /// Typed fields, one for each entry of `schema(type)`, in that order.
    case fields([DNSField])
    /// Raw bytes: for types without a schema, the OPT and TSIG records, and empty data (an RRset
    /// deletion in a dynamic update).
    case opaque([UInt8])

    /// The field layout of each known type; nil for a type whose data is kept as raw bytes.
    public static func schema(_ t: DNSType) -> [DNSFieldSpec]? {
        func f(_ n: String, _ k: DNSFieldKind) -> DNSFieldSpec { DNSFieldSpec(name: n, kind: k) }
        let c = DNSFieldKind.name(compress: true), n = DNSFieldKind.name(compress: false)
        switch t.rawValue {
        case 1: return [f("address", .ipv4)]
        case 2, 5, 12: return [f("target", c)]
        case 39: return [f("target", n)]
        case 6: return [f("mname", c), f("rname", c), f("serial", .u32), f("refresh", .u32), f("retry", .u32),
                        f("expire", .u32), f("minimum", .u32)]
        case 13: return [f("cpu", .string), f("os", .string)]
        case 15: return [f("preference", .u16), f("exchange", c)]
        case 16, 99: return [f("strings", .strings)]
        case 28: return [f("address", .ipv6)]
        case 33: return [f("priority", .u16), f("weight", .u16), f("port", .u16), f("target", n)]
        case 35: return [f("order", .u16), f("preference", .u16), f("flags", .string), f("service", .string),
                         f("regexp", .string), f("replacement", n)]
        case 43, 59: return [f("key_tag", .u16), f("algorithm", .u8), f("digest_type", .u8), f("digest", .hexRest)]
        case 44: return [f("algorithm", .u8), f("fp_type", .u8), f("fingerprint", .hexRest)]
        case 46: return [f("type_covered", .type16), f("algorithm", .u8), f("labels", .u8), f("original_ttl", .u32),
                         f("expiration", .time), f("inception", .time), f("key_tag", .u16), f("signer", n),
                         f("signature", .base64Rest)]
        case 47: return [f("next", n), f("types", .bitmap)]
        case 48, 60: return [f("flags", .u16), f("protocol", .u8), f("algorithm", .u8), f("key", .base64Rest)]
        case 50: return [f("hash_algorithm", .u8), f("flags", .u8), f("iterations", .u16), f("salt", .hexLen8),
                         f("next", .base32Len8), f("types", .bitmap)]
        case 51: return [f("hash_algorithm", .u8), f("flags", .u8), f("iterations", .u16), f("salt", .hexLen8)]
        case 52: return [f("usage", .u8), f("selector", .u8), f("matching_type", .u8), f("data", .hexRest)]
        case 64, 65: return [f("priority", .u16), f("target", n), f("params", .svcParams)]
        case 257: return [f("flags", .u8), f("tag", .caaTag), f("value", .caaValue)]
        default: return nil
        }
    }

    /// Decodes `length` bytes of data at the reader's position (names may point back into
    /// the whole message).
    public static func decode(_ type: DNSType, _ r: inout DNSReader, length: Int) throws -> DNSRData {
        guard r.pos + length <= r.limit else { throw DNSError.malformed("record data runs past the end") }
        let saved = r.limit
        r.limit = r.pos + length
        defer { r.limit = saved }
        guard let schema = schema(type) else { return .opaque(r.rest()) }
        // Empty data is legal for dynamic updates (delete an RRset): keep it opaque.
        if length == 0 { return .opaque([]) }
        var out: [DNSField] = []
        out.reserveCapacity(schema.count)
        for spec in schema {
            switch spec.kind {
            case .u8: out.append(.int(UInt32(try r.u8())))
            case .u16, .type16: out.append(spec.kind.isType ? .types([DNSType(try r.u16())]) : .int(UInt32(try r.u16())))
            case .u32, .time: out.append(.int(try r.u32()))
            case .name: out.append(.name(try r.name()))
            case .ipv4: out.append(.address(IPAddress(v4: try r.u32())))
            case .ipv6:
                let b = try r.take(16)
                out.append(.address(IPAddress(v6: b.reduce(UInt128(0)) { $0 << 8 | UInt128($1) })))
            case .string, .caaTag:
                let n = Int(try r.u8())
                out.append(.text(try r.take(n)))
            case .strings:
                var ss: [[UInt8]] = []
                while !r.atEnd { let n = Int(try r.u8()); ss.append(try r.take(n)) }
                out.append(.texts(ss))
            case .base64Rest, .hexRest: out.append(.data(r.rest()))
            case .caaValue: out.append(.text(r.rest()))
            case .hexLen8, .base32Len8:
                let n = Int(try r.u8())
                out.append(.data(try r.take(n)))
            case .bitmap: out.append(.types(try decodeBitmap(&r)))
            case .svcParams:
                var ps: [DNSSvcParam] = []
                var last = -1
                while !r.atEnd {
                    let k = try r.u16(), n = Int(try r.u16())
                    guard Int(k) > last else { throw DNSError.malformed("SVCB keys out of order") }
                    last = Int(k)
                    ps.append(DNSSvcParam(key: k, value: try r.take(n)))
                }
                out.append(.params(ps))
            }
        }
        guard r.atEnd else { throw DNSError.malformed("\(r.remaining) bytes left over in \(type) data") }
        return .fields(out)
    }

    static func decodeBitmap(_ r: inout DNSReader) throws -> [DNSType] {
        var types: [DNSType] = []
        var lastWindow = -1
        while !r.atEnd {
            let window = Int(try r.u8()), len = Int(try r.u8())
            guard window > lastWindow, len >= 1, len <= 32 else { throw DNSError.malformed("bad type bitmap") }
            lastWindow = window
            let bits = try r.take(len)
            for (i, byte) in bits.enumerated() where byte != 0 {
                for bit in 0..<8 where byte & (0x80 >> bit) != 0 {
                    types.append(DNSType(UInt16(window << 8 | (i * 8 + bit))))
                }
            }
        }
        return types
    }

    static func encodeBitmap(_ types: [DNSType], _ w: inout DNSWriter) {
        let sorted = Set(types.map(\.rawValue)).sorted()
        var i = 0
        while i < sorted.count {
            let window = sorted[i] >> 8
            var bits = [UInt8](repeating: 0, count: 32)
            var maxByte = 0
            while i < sorted.count && sorted[i] >> 8 == window {
                let low = Int(sorted[i] & 0xFF)
                bits[low / 8] |= 0x80 >> UInt8(low % 8)
                maxByte = max(maxByte, low / 8)
                i += 1
            }
            w.u8(UInt8(window)); w.u8(UInt8(maxByte + 1)); w.append(Array(bits[0...maxByte]))
        }
    }

    /// Writes the data (without its length). `compress: false` gives the canonical,
    /// uncompressed form.
    public func encode(_ type: DNSType, _ w: inout DNSWriter, compress: Bool = true) throws {
        switch self {
        case .opaque(let b): w.append(b)
        case .fields(let fields):
            guard let schema = DNSRData.schema(type), schema.count == fields.count else {
                throw DNSError.syntax("\(type) data does not have the fields of its type")
            }
            for (spec, field) in zip(schema, fields) {
                try DNSRData.encodeField(spec, field, &w, compress: compress, type: type)
            }
        }
    }

    static func encodeField(_ spec: DNSFieldSpec, _ field: DNSField, _ w: inout DNSWriter, compress: Bool, type: DNSType) throws {
        switch (spec.kind, field) {
        case (.u8, .int(let v)): w.u8(UInt8(truncatingIfNeeded: v))
        case (.u16, .int(let v)): w.u16(UInt16(truncatingIfNeeded: v))
        case (.type16, .types(let t)): w.u16(t.first?.rawValue ?? 0)
        case (.u32, .int(let v)), (.time, .int(let v)): w.u32(v)
        case (.name(let c), .name(let n)): w.name(n, compress: c && compress)
        case (.ipv4, .address(let a)) where a.version == .v4: w.append(a.packed)
        case (.ipv6, .address(let a)) where a.version == .v6: w.append(a.packed)
        case (.string, .text(let t)), (.caaTag, .text(let t)):
            guard t.count <= 255 else { throw DNSError.syntax("character-string longer than 255 bytes") }
            w.u8(UInt8(t.count)); w.append(t)
        case (.strings, .texts(let ts)):
            for t in ts {
                guard t.count <= 255 else { throw DNSError.syntax("character-string longer than 255 bytes") }
                w.u8(UInt8(t.count)); w.append(t)
            }
        case (.base64Rest, .data(let d)), (.hexRest, .data(let d)): w.append(d)
        case (.caaValue, .text(let t)): w.append(t)
        case (.hexLen8, .data(let d)), (.base32Len8, .data(let d)):
            guard d.count <= 255 else { throw DNSError.syntax("\(spec.name) longer than 255 bytes") }
            w.u8(UInt8(d.count)); w.append(d)
        case (.bitmap, .types(let t)): DNSRData.encodeBitmap(t, &w)
        case (.svcParams, .params(let ps)):
            for p in ps.sorted(by: { $0.key < $1.key }) { w.u16(p.key); w.u16(UInt16(p.value.count)); w.append(p.value) }
        default: throw DNSError.syntax("\(type) field \(spec.name) has the wrong kind of value")
        }
    }

    /// The data in uncompressed wire form (canonical, for comparisons).
    public func wire(_ type: DNSType) -> [UInt8] {
        var w = DNSWriter()
        try? encode(type, &w, compress: false)
        return w.bytes
    }
}

extension DNSFieldKind {
    var isType: Bool { if case .type16 = self { return true } else { return false } }
}
