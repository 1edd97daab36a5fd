/// A question: name, type, class.
public struct DNSQuestion: Hashable, Sendable, CustomStringConvertible {
    public var name: DNSName
    public var type: DNSType
    public var klass: DNSClass
    public init(_ name: DNSName, _ type: DNSType, _ klass: DNSClass = .IN) { self.name = name; self.type = type; self.klass = klass }
    /// `;example.test.		IN	MX`, as dig shows the question section.
    public var description: String { DNSRecord.columns([";" + name.description, klass.description, type.description], [32, 40]) }
}

/// A resource record.
public struct DNSRecord: Hashable, Sendable, CustomStringConvertible {
    public var name: DNSName
    public var type: DNSType
    public var klass: DNSClass
    public var ttl: UInt32
    public var data: DNSRData

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

    /// The field layout of the data (nil for types shown in generic form).
    public var fieldNames: [String] { DNSRData.schema(type)?.map(\.name) ?? [] }

    /// A data field by name (`exchange`, `address`…).
    public func field(_ name: String) -> DNSField? {
        guard case .fields(let fs) = data, let schema = DNSRData.schema(type) else { return nil }
        guard let i = schema.firstIndex(where: { $0.name == name }), i < fs.count else { return nil }
        return fs[i]
    }

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
    public var udpSize: UInt16
    /// The upper 8 bits of the 12-bit rcode.
    public var extendedRcode: UInt8
    public var version: UInt8
    public var dnssecOK: Bool
    public var options: [DNSEDNSOption]
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

public struct DNSEDNSOption: Hashable, Sendable {
    public var code: UInt16
    public var data: [UInt8]
    public init(code: UInt16, data: [UInt8]) { self.code = code; self.data = data }
    static let names: [UInt16: String] = [3: "NSID", 8: "CLIENT-SUBNET", 10: "COOKIE", 11: "TCP-KEEPALIVE", 12: "PADDING", 15: "EDE"]
}

/// Header flags (all but the opcode and rcode, which are fields of the message).
public struct DNSFlags: Hashable, Sendable {
    public var qr = false, aa = false, tc = false, rd = false, ra = false, z = false, ad = false, cd = false
    public init() {}
    public var names: [String] {
        var n: [String] = []
        if qr { n.append("qr") }; if aa { n.append("aa") }; if tc { n.append("tc") }; if rd { n.append("rd") }
        if ra { n.append("ra") }; if ad { n.append("ad") }; if cd { n.append("cd") }
        return n
    }
}

/// A DNS message (RFC 1035 §4), with EDNS split out of the additional section.
public struct DNSMessage: Hashable, Sendable {
    public var id: UInt16 = 0
    public var flags = DNSFlags()
    public var opcode: UInt8 = 0
    /// The full rcode (header bits plus the EDNS extension).
    public var rcode: Int = 0
    public var questions: [DNSQuestion] = []
    public var answers: [DNSRecord] = []
    public var authority: [DNSRecord] = []
    /// Additional records without the OPT record and the TSIG record.
    public var additional: [DNSRecord] = []
    public var edns: DNSEDNS?
    /// The TSIG record (RFC 8945), last in the additional section: it signs the message rather
    /// than adding to it, so it is kept apart (and dig shows it in its own pseudosection).
    public var tsig: DNSRecord?

    /// The additional section's count on the wire: records, OPT and TSIG.
    public var additionalCount: Int { additional.count + (edns == nil ? 0 : 1) + (tsig == nil ? 0 : 1) }

    public init() {}

    /// A query message for one question.
    public static func query(_ q: DNSQuestion, id: UInt16, rd: Bool = true, edns: DNSEDNS? = DNSEDNS(), cd: Bool = false, ad: Bool = false) -> DNSMessage {
        var m = DNSMessage()
        m.id = id; m.flags.rd = rd; m.flags.cd = cd; m.flags.ad = ad
        m.questions = [q]; m.edns = edns
        return m
    }

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
