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
}
