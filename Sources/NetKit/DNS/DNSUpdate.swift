/// The records of a dynamic update (RFC 2136 §2.4–2.5) from short text forms.
public enum DNSUpdate {
    /// `NAME [TTL] TYPE DATA`: add this record (relative names are in `zone`).
    public static func add(_ text: String, zone: DNSName) throws -> DNSRecord {
        try DNSRecord(text, origin: zone)
    }

    /// `NAME` deletes every RRset at the name; `NAME TYPE` one RRset; `NAME TYPE DATA` one record.
    public static func delete(_ text: String, zone: DNSName) throws -> DNSRecord {
        let toks = try DNSText.tokenize(text)
        guard let first = toks.first else { throw DNSError.syntax("delete: needs a name") }
        let name = try DNSName(first.raw, origin: zone)
        if toks.count == 1 { return DNSRecord(name: name, type: .ANY, klass: .ANY, ttl: 0, data: .opaque([])) }
        guard let type = DNSType(toks[1].raw) else { throw DNSError.syntax("delete: unknown type '\(toks[1].raw)'") }
        if toks.count == 2 { return DNSRecord(name: name, type: type, klass: .ANY, ttl: 0, data: .opaque([])) }
        let data = try DNSRData.parse(type, tokens: Array(toks.dropFirst(2)), origin: zone)
        return DNSRecord(name: name, type: type, klass: .NONE, ttl: 0, data: data)
    }

    /// Prerequisite that something exists: `NAME` (the name is in use), `NAME TYPE` (the
    /// RRset exists), `NAME TYPE DATA` (the RRset exists and holds this record).
    public static func exists(_ text: String, zone: DNSName) throws -> DNSRecord {
        let toks = try DNSText.tokenize(text)
        guard let first = toks.first else { throw DNSError.syntax("exists: needs a name") }
        let name = try DNSName(first.raw, origin: zone)
        if toks.count == 1 { return DNSRecord(name: name, type: .ANY, klass: .ANY, ttl: 0, data: .opaque([])) }
        guard let type = DNSType(toks[1].raw) else { throw DNSError.syntax("exists: unknown type '\(toks[1].raw)'") }
        if toks.count == 2 { return DNSRecord(name: name, type: type, klass: .ANY, ttl: 0, data: .opaque([])) }
        let data = try DNSRData.parse(type, tokens: Array(toks.dropFirst(2)), origin: zone)
        return DNSRecord(name: name, type: type, klass: .IN, ttl: 0, data: data)
    }

    /// Prerequisite that something is absent: `NAME` (not in use) or `NAME TYPE` (no such RRset).
    public static func absent(_ text: String, zone: DNSName) throws -> DNSRecord {
        let toks = try DNSText.tokenize(text)
        guard let first = toks.first, toks.count <= 2 else { throw DNSError.syntax("absent: takes NAME or NAME TYPE") }
        let name = try DNSName(first.raw, origin: zone)
        if toks.count == 1 { return DNSRecord(name: name, type: .ANY, klass: .NONE, ttl: 0, data: .opaque([])) }
        guard let type = DNSType(toks[1].raw) else { throw DNSError.syntax("absent: unknown type '\(toks[1].raw)'") }
        return DNSRecord(name: name, type: type, klass: .NONE, ttl: 0, data: .opaque([]))
    }

    /// A prerequisite as the user wrote it: `exists: "www A"`, `absent: "old"`.
    public static func describe(prerequisite r: DNSRecord) -> String {
        let name = r.name.description
        switch (r.klass, r.type) {
        case (.ANY, .ANY): return "exists: \"\(name)\""
        case (.ANY, let t): return "exists: \"\(name) \(t)\""
        case (.NONE, .ANY): return "absent: \"\(name)\""
        case (.NONE, let t): return "absent: \"\(name) \(t)\""
        default: return "exists: \"\(name) \(r.type) \(r.dataText)\""
        }
    }

    /// An update's rcode as an error in update terms (RFC 2136 §3): which prerequisite did not
    /// hold and why, or why the server would not apply it; nil for NOERROR.
    public static func error(_ m: DNSMessage, zone: DNSName, server: DNSServer, prerequisites: [DNSRecord],
                             updates: [DNSRecord]) -> DNSError? {
        let of = "update of \(zone) at \(server)"
        func failed(_ match: (DNSRecord) -> Bool, _ why: String) -> String {
            let cands = prerequisites.filter(match).map(describe(prerequisite:))
            switch cands.count {
            case 0: return "a prerequisite does not hold: \(why)"
            case 1: return "the prerequisite \(cands[0]) does not hold: \(why)"
            default: return "one of the prerequisites \(cands.joined(separator: ", ")) does not hold: \(why)"
            }
        }
        switch m.rcode {
        case 0: return nil
        case 1: return DNSError(.formerr, "FORMERR: \(server) could not parse the \(of)")
        case 2: return DNSError(.servfail, "SERVFAIL: \(server) failed to apply the \(of)")
        case 3: return DNSError(.nxdomain, "NXDOMAIN: \(of) not applied: " + failed({ $0.klass == .ANY && $0.type == .ANY }, "the name does not exist"))
        case 4: return DNSError(.notimp, "NOTIMP: \(server) does not do dynamic updates (RFC 2136) for \(zone)")
        case 5: return DNSError(.refused, "REFUSED: \(server) refused the \(of) (not allowed from this client, or without a key it accepts)")
        case 6: return DNSError(.yxdomain, "YXDOMAIN: \(of) not applied: " + failed({ $0.klass == .NONE && $0.type == .ANY }, "the name exists"))
        case 7: return DNSError(.yxrrset, "YXRRSET: \(of) not applied: " + failed({ $0.klass == .NONE && $0.type != .ANY }, "records of that type exist"))
        case 8: return DNSError(.nxrrset, "NXRRSET: \(of) not applied: " + failed({ $0.klass != .NONE && $0.type != .ANY }, "no such records (or not with that data)"))
        case 9: return DNSError(.notauth, "NOTAUTH: \(server) is not authoritative for \(zone), or did not accept the key")
        case 10:
            let outside = (prerequisites + updates).map(\.name).filter { !$0.isSubdomain(of: zone) }.map(\.description)
            return DNSError(.notzone, "NOTZONE: \(of) not applied: " + (outside.isEmpty ? "a name in it is outside the zone" : "outside the zone: \(outside.joined(separator: ", "))"))
        default: return DNSError(.rcode, "\(DNSRcode.name(m.rcode)): \(of) not applied")
        }
    }
}
