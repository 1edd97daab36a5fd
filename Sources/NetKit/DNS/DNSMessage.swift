/// A question: name, type, class.
public struct DNSQuestion: Hashable, Sendable, CustomStringConvertible {
    /// The name asked about (case kept as given; compared case-insensitively).
    public var name: DNSName
    /// The type asked for; may be a query-only type such as `ANY`, `AXFR` or `IXFR`.
    public var type: DNSType
    /// The class asked in, almost always `IN` (spelled `klass` because `class` is a keyword).
    public var klass: DNSClass
    /// A question for `name` and `type` in class `klass` (IN unless given).
    public init(_ name: DNSName, _ type: DNSType, _ klass: DNSClass = .IN) { self.name = name; self.type = type; self.klass = klass }
    /// `;example.test.		IN	MX`, as dig shows the question section.
    public var description: String { DNSRecord.columns([";" + name.description, klass.description, type.description], [32, 40]) }
}

/// A resource record.
public struct DNSRecord: Hashable, Sendable, CustomStringConvertible {
    /// The owner: the node of the tree the record belongs to (printed absolute, with a trailing dot).
    public var name: DNSName
    /// The record type, which decides how `data` is laid out.
    public var type: DNSType
    /// The class, `IN` for nearly every record (`ANY`/`NONE` appear in dynamic updates, RFC 2136).
    public var klass: DNSClass
    /// Time to live in seconds: how long a cache may keep the record.
    public var ttl: UInt32
    /// The record data (RDATA): typed fields for known types, raw bytes for the rest.
    public var data: DNSRData

    /// A record from its parts; `data` must have the fields `DNSRData.schema(type)` lists (checked when encoded).
    public init(name: DNSName, type: DNSType, klass: DNSClass = .IN, ttl: UInt32, data: DNSRData) {
        self.name = name; self.type = type; self.klass = klass; self.ttl = ttl; self.data = data
    }

    /// Parses one zone-file line: `NAME [TTL] [CLASS] TYPE DATA` (TTL and class in either order).
    public init(_ line: String, origin: DNSName? = nil, defaultTTL: UInt32 = 3600) throws {
        var toks = try DNSText.tokenize(line)
        guard toks.count >= 2 else { throw DNSError.syntax("a record needs at least a name and a type: '\(line)'") }
        name = try DNSName(toks.removeFirst().raw, origin: origin)
        var ttl: UInt32? = nil, klass: DNSClass? = nil
        while let t = toks.first, !t.quoted {
            if ttl == nil, let v = UInt32(t.raw) { ttl = v; toks.removeFirst(); continue }
            // A class word, unless it is the type itself (ANY is both): then a type follows.
            if klass == nil, let c = DNSClass(t.raw), toks.count > 1, !toks[1].quoted, DNSType(toks[1].raw) != nil || UInt32(toks[1].raw) != nil {
                klass = c; toks.removeFirst(); continue
            }
            break
        }
        guard let t = toks.first, let ty = DNSType(t.raw) else { throw DNSError.syntax("no record type in '\(line)'") }
        toks.removeFirst()
        type = ty
        self.klass = klass ?? .IN
        self.ttl = ttl ?? defaultTTL
        data = try DNSRData.parse(ty, tokens: toks, origin: origin)
    }

    /// The names of the data's fields in order (`preference`, `exchange`); empty for types kept as raw bytes.
    public var fieldNames: [String] { DNSRData.schema(type)?.map(\.name) ?? [] }

    /// A data field by name (`exchange`, `address`…).
    public func field(_ name: String) -> DNSField? {
        guard case .fields(let fs) = data, let schema = DNSRData.schema(type) else { return nil }
        guard let i = schema.firstIndex(where: { $0.name == name }), i < fs.count else { return nil }
        return fs[i]
    }

    /// The data alone in zone-file form (`10 mail.example.test.`), or RFC 3597's `\# LEN HEX` for unknown types.
    public var dataText: String { data.text(type) }

    /// The record as a zone-file line, tab-separated as dig prints it.
    public var description: String {
        DNSRecord.columns([name.description, String(ttl), klass.description, type.description, dataText], [24, 32, 40, 48])
    }

    /// dig's layout: each field starts at a fixed column reached with tabs (8 wide), or
    /// after one space when the previous field already ran past it.
    static func columns(_ fields: [String], _ stops: [Int]) -> String {
        var out = "", col = 0
        for (i, f) in fields.enumerated() {
            out += f; col += f.count
            guard i < stops.count else { continue }
            if col >= stops[i] { out += " "; col += 1; continue }
            while col < stops[i] { out += "\t"; col = (col / 8 + 1) * 8 }
        }
        return out
    }

    func encode(_ w: inout DNSWriter) throws {
        w.name(name, compress: true)
        w.u16(type.rawValue); w.u16(klass.rawValue); w.u32(ttl)
        let lenAt = w.count
        w.u16(0)
        try data.encode(type, &w)
        let len = w.count - lenAt - 2
        guard len <= 0xFFFF else { throw DNSError.syntax("record data longer than 65535 bytes") }
        w.set16(UInt16(len), at: lenAt)
    }

    static func decode(_ r: inout DNSReader) throws -> DNSRecord {
        let name = try r.name()
        let type = DNSType(try r.u16()), klass = DNSClass(try r.u16()), ttl = try r.u32()
        let len = Int(try r.u16())
        guard len <= r.remaining else { throw DNSError.malformed("record data length \(len) runs past the end") }
        let data: DNSRData
        if type == .OPT { data = .opaque(try r.take(len)) } else { data = try DNSRData.decode(type, &r, length: len) }
        return DNSRecord(name: name, type: type, klass: klass, ttl: ttl, data: data)
    }
}

/// EDNS(0) as carried by the OPT pseudo-record.
public struct DNSEDNS: Hashable, Sendable {
    /// The largest UDP payload, in bytes, the sender can receive (carried in the OPT record's class field).
    public var udpSize: UInt16
    /// The upper 8 bits of the 12-bit rcode.
    public var extendedRcode: UInt8
    /// The EDNS version; 0 is the only one defined (a server answers BADVERS to others).
    public var version: UInt8
    /// The DO bit (RFC 3225): the sender wants DNSSEC records (RRSIG, NSEC…) in the answer.
    public var dnssecOK: Bool
    /// The options in the order they appear on the wire; empty when there are none.
    public var options: [DNSEDNSOption]
    /// EDNS(0) with a 1232-byte UDP size (the DNS Flag Day 2020 value) and no options unless given.
    public init(udpSize: UInt16 = 1232, extendedRcode: UInt8 = 0, version: UInt8 = 0, dnssecOK: Bool = false, options: [DNSEDNSOption] = []) {
        self.udpSize = udpSize; self.extendedRcode = extendedRcode; self.version = version; self.dnssecOK = dnssecOK; self.options = options
    }

    /// `; EDNS: version: 0, flags: do; udp: 1232`, as dig prints it.
    public var description: String {
        var s = "; EDNS: version: \(version), flags:\(dnssecOK ? " do" : ""); udp: \(udpSize)"
        for o in options {
            let name = DNSEDNSOption.names[o.code] ?? "OPT=\(o.code)"
            s += "\n; \(name): \(DNSText.hex(o.data))"
        }
        return s
    }
}

/// One EDNS option (RFC 6891 §6.1.2): an IANA option code (3 NSID, 10 COOKIE, 15 EDE…) and its raw data.
public struct DNSEDNSOption: Hashable, Sendable {
    /// The option code (IANA "DNS EDNS0 Option Codes" registry).
    public var code: UInt16
    /// The option data, uninterpreted, at most 65535 bytes.
    public var data: [UInt8]
    /// An option with `code` and raw `data`.
    public init(code: UInt16, data: [UInt8]) { self.code = code; self.data = data }
    static let names: [UInt16: String] = [3: "NSID", 8: "CLIENT-SUBNET", 10: "COOKIE", 11: "TCP-KEEPALIVE", 12: "PADDING", 15: "EDE"]
}

/// Header flags (all but the opcode and rcode, which are fields of the message).
public struct DNSFlags: Hashable, Sendable {
    /// The header bits (RFC 1035 §4.1.1; `ad`/`cd` from RFC 4035 §3.2): `qr` response, `aa` authoritative answer,
    /// `tc` truncated, `rd` recursion desired, `ra` recursion available, `z` reserved (zero), `ad` authenticated
    /// data, `cd` checking disabled.
    public var qr = false, aa = false, tc = false, rd = false, ra = false, z = false, ad = false, cd = false
    /// All flags clear.
    public init() {}
    /// The set flags in dig's order and spelling (`qr rd ra`); `z` is never listed.
    public var names: [String] {
        var n: [String] = []
        if qr { n.append("qr") }; if aa { n.append("aa") }; if tc { n.append("tc") }; if rd { n.append("rd") }
        if ra { n.append("ra") }; if ad { n.append("ad") }; if cd { n.append("cd") }
        return n
    }
}

/// A DNS message (RFC 1035 §4), with EDNS split out of the additional section.
public struct DNSMessage: Hashable, Sendable {
    /// The 16-bit id that pairs an answer with its query; `DNSClient` picks a random one per query.
    public var id: UInt16 = 0
    /// The header bits other than opcode and rcode.
    public var flags = DNSFlags()
    /// The 4-bit opcode: 0 QUERY, 4 NOTIFY, 5 UPDATE (`DNSOpcode.name` gives the mnemonic).
    public var opcode: UInt8 = 0
    /// The full rcode (header bits plus the EDNS extension).
    public var rcode: Int = 0
    /// The question section; one question in practice (RFC 9619), empty in some error answers.
    public var questions: [DNSQuestion] = []
    /// The answer section (in a dynamic update: the prerequisites, RFC 2136 §2.4).
    public var answers: [DNSRecord] = []
    /// The authority section: the NS records of a referral, the SOA of a negative answer (RFC 2308),
    /// or in a dynamic update the changes.
    public var authority: [DNSRecord] = []
    /// Additional records without the OPT record and the TSIG record.
    public var additional: [DNSRecord] = []
    /// EDNS(0) as read from or written to the OPT record; nil when the message has none.
    public var edns: DNSEDNS?
    /// The TSIG record (RFC 8945), last in the additional section: it signs the message rather
    /// than adding to it, so it is kept apart (and dig shows it in its own pseudosection).
    public var tsig: DNSRecord?

    /// The additional section's count on the wire: records, OPT and TSIG.
    public var additionalCount: Int { additional.count + (edns == nil ? 0 : 1) + (tsig == nil ? 0 : 1) }

    /// An empty message: id 0, opcode QUERY, no flags, no records and no EDNS.
    public init() {}

    /// A query message for one question.
    public static func query(_ q: DNSQuestion, id: UInt16, rd: Bool = true, edns: DNSEDNS? = DNSEDNS(), cd: Bool = false, ad: Bool = false) -> DNSMessage {
        var m = DNSMessage()
        m.id = id; m.flags.rd = rd; m.flags.cd = cd; m.flags.ad = ad
        m.questions = [q]; m.edns = edns
        return m
    }

    /// The message in wire form: names compressed, then the OPT record (from `edns`) and the TSIG
    /// record last in the additional section. Throws `DNSError` (`.syntax`) when a record's data
    /// does not have the fields of its type or is longer than 65535 bytes.
    public func encode() throws -> [UInt8] {
        var w = DNSWriter()
        w.u16(id)
        var b1: UInt8 = (opcode & 0xF) << 3
        if flags.qr { b1 |= 0x80 }; if flags.aa { b1 |= 0x04 }; if flags.tc { b1 |= 0x02 }; if flags.rd { b1 |= 0x01 }
        var b2: UInt8 = UInt8(rcode & 0xF)
        if flags.ra { b2 |= 0x80 }; if flags.z { b2 |= 0x40 }; if flags.ad { b2 |= 0x20 }; if flags.cd { b2 |= 0x10 }
        w.u8(b1); w.u8(b2)
        w.u16(UInt16(questions.count)); w.u16(UInt16(answers.count)); w.u16(UInt16(authority.count))
        w.u16(UInt16(additionalCount))
        for q in questions { w.name(q.name, compress: true); w.u16(q.type.rawValue); w.u16(q.klass.rawValue) }
        for r in answers { try r.encode(&w) }
        for r in authority { try r.encode(&w) }
        for r in additional { try r.encode(&w) }
        if let e = edns {
            var ow = DNSWriter()
            for o in e.options { ow.u16(o.code); ow.u16(UInt16(o.data.count)); ow.append(o.data) }
            let ttl = UInt32(UInt8(truncatingIfNeeded: rcode >> 4)) << 24 | UInt32(e.version) << 16 | (e.dnssecOK ? 0x8000 : 0)
            try DNSRecord(name: .root, type: .OPT, klass: DNSClass(e.udpSize), ttl: ttl, data: .opaque(ow.bytes)).encode(&w)
        }
        if let t = tsig { try t.encode(&w) }
        return w.bytes
    }

    /// Decodes a whole message; anything inconsistent is `DNSError.malformed`.
    public init(decoding bytes: [UInt8]) throws {
        var r = DNSReader(bytes)
        guard bytes.count >= 12 else { throw DNSError.malformed("message shorter than its 12-byte header") }
        id = try r.u16()
        let b1 = try r.u8(), b2 = try r.u8()
        flags.qr = b1 & 0x80 != 0; opcode = (b1 >> 3) & 0xF; flags.aa = b1 & 0x04 != 0; flags.tc = b1 & 0x02 != 0; flags.rd = b1 & 0x01 != 0
        flags.ra = b2 & 0x80 != 0; flags.z = b2 & 0x40 != 0; flags.ad = b2 & 0x20 != 0; flags.cd = b2 & 0x10 != 0
        rcode = Int(b2 & 0xF)
        let qd = Int(try r.u16()), an = Int(try r.u16()), ns = Int(try r.u16()), ar = Int(try r.u16())
        // Each question needs ≥ 5 bytes and each record ≥ 11: reject impossible counts early.
        guard qd * 5 + (an + ns + ar) * 11 <= bytes.count - 12 else { throw DNSError.malformed("section counts exceed the message size") }
        for _ in 0..<qd {
            let n = try r.name()
            questions.append(DNSQuestion(n, DNSType(try r.u16()), DNSClass(try r.u16())))
        }
        for _ in 0..<an { answers.append(try DNSRecord.decode(&r)) }
        for _ in 0..<ns { authority.append(try DNSRecord.decode(&r)) }
        for i in 0..<ar {
            let rec = try DNSRecord.decode(&r)
            if rec.type == .TSIG && i == ar - 1 {
                tsig = rec
            } else if rec.type == .OPT {
                guard edns == nil, rec.name.isRoot else { throw DNSError.malformed("more than one OPT record, or one not at the root") }
                var e = DNSEDNS(udpSize: rec.klass.rawValue, extendedRcode: UInt8(rec.ttl >> 24), version: UInt8((rec.ttl >> 16) & 0xFF),
                                dnssecOK: rec.ttl & 0x8000 != 0)
                guard case .opaque(let od) = rec.data else { continue }
                var or = DNSReader(od)
                while !or.atEnd {
                    let code = try or.u16(), len = Int(try or.u16())
                    e.options.append(DNSEDNSOption(code: code, data: try or.take(len)))
                }
                rcode |= Int(e.extendedRcode) << 4
                edns = e
            } else { additional.append(rec) }
        }
        // Trailing bytes are tolerated (some servers pad), as dig does.
    }

    /// The rcode's mnemonic (`NXDOMAIN`), or `RCODE<n>` for an unassigned one.
    public var rcodeName: String { DNSRcode.name(rcode) }

    /// The message as dig prints it: header, flags, then each section.
    public func text(querySize: Int? = nil) -> String {
        var s = ";; ->>HEADER<<- opcode: \(DNSOpcode.name(opcode)), status: \(rcodeName), id: \(id)\n"
        s += ";; flags: \(flags.names.joined(separator: " ")); QUERY: \(questions.count), ANSWER: \(answers.count), AUTHORITY: \(authority.count), ADDITIONAL: \(additionalCount)\n"
        if let e = edns { s += "\n;; OPT PSEUDOSECTION:\n\(e.description)\n" }
        if !questions.isEmpty { s += "\n;; QUESTION SECTION:\n" + questions.map(\.description).joined(separator: "\n") + "\n" }
        for (title, recs) in [("ANSWER", answers), ("AUTHORITY", authority), ("ADDITIONAL", additional)] where !recs.isEmpty {
            s += "\n;; \(title) SECTION:\n" + recs.map(\.description).joined(separator: "\n") + "\n"
        }
        if let t = tsig { s += "\n;; TSIG PSEUDOSECTION:\n" + DNSTSIG.presentation(t) + "\n" }
        return s
    }
}
