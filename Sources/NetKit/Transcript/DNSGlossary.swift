import Foundation

/// A DNS message as the trace shows it (dig's text: header, flags, OPT, sections), read back so
/// `trace explain` can say what kind of exchange it is. The trace keeps text, not messages, so
/// a saved or replayed transcript is explained the same way.
struct DNSTraceMessage {
    struct Record {
        var name: String
        var ttl: Int
        var type: String
        var data: String
    }
    var opcode = ""
    var status = ""
    var flags: [String] = []
    var ednsUDP: Int? = nil
    var ednsDO = false
    var question: (name: String, type: String, klass: String)? = nil
    var sections: [String: [Record]] = [:]

    /// Nil when the text holds no DNS header (a note, a retry line, a transfer summary).
    init?(_ text: String) {
        var section = ""
        var sawHeader = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(raw)
            if line.hasPrefix(";; ->>HEADER<<-") {
                sawHeader = true
                opcode = DNSTraceMessage.field(line, "opcode: ") ?? ""
                status = DNSTraceMessage.field(line, "status: ") ?? ""
            } else if line.hasPrefix(";; flags:") {
                let f = line.dropFirst(9).prefix { $0 != ";" }
                flags = f.split(separator: " ").map(String.init)
            } else if line.hasPrefix(";; ") && line.hasSuffix(" SECTION:") {
                section = String(line.dropFirst(3).dropLast(9))
            } else if line.hasPrefix(";; OPT PSEUDOSECTION:") {
                section = "OPT"
            } else if section == "OPT", line.hasPrefix("; EDNS:") {
                ednsDO = line.contains("flags: do")
                if let r = line.range(of: "udp: ") { ednsUDP = Int(line[r.upperBound...].prefix { $0.isNumber }) }
            } else if section == "QUESTION", line.hasPrefix(";") {
                let f = line.dropFirst().split(whereSeparator: { $0 == "\t" || $0 == " " }).map(String.init)
                if f.count >= 3 { question = (f[0], f[2], f[1]) }
            } else if ["ANSWER", "AUTHORITY", "ADDITIONAL"].contains(section), !line.hasPrefix(";") {
                let f = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).map(String.init)
                guard f.count >= 4, let ttl = Int(f[1]) else { continue }
                sections[section, default: []].append(Record(name: f[0], ttl: ttl, type: f[3], data: f.dropFirst(4).joined(separator: " ")))
            }
        }
        guard sawHeader else { return nil }
    }

    static func field(_ line: String, _ key: String) -> String? {
        guard let r = line.range(of: key) else { return nil }
        return String(line[r.upperBound...].prefix { $0.isLetter || $0.isNumber })
    }

    func records(_ section: String) -> [Record] { sections[section] ?? [] }
    var isResponse: Bool { flags.contains("qr") }
    var authoritative: Bool { flags.contains("aa") }
}

extension ProtocolGlossary {
    static let dnsFlags: [(String, String)] = [
        ("qr", "qr = a response (without it, a query)"),
        ("aa", "aa = authoritative answer: from a server of the zone itself, not from a cache"),
        ("tc", "tc = truncated: the answer did not fit in the UDP message; ask again over TCP"),
        ("rd", "rd = recursion desired: the asker wants the whole answer found for it"),
        ("ra", "ra = recursion available: this server would resolve names for us"),
        ("ad", "ad = authentic data: the server validated the records with DNSSEC"),
        ("cd", "cd = checking disabled: the asker will validate DNSSEC itself"),
    ]

    /// What a DNS step means: the kind of query or answer (query, answer, referral, NODATA,
    /// NXDOMAIN, other rcodes), then its flags, sections, glue, TTLs and EDNS (RFC 1035, 2308, 6891).
    static func dnsGlosses(_ text: String, _ direction: TranscriptDirection) -> [String] {
        guard let m = DNSTraceMessage(text) else { return [] }
        var out: [String] = []
        let q = m.question
        let asked = q.map { "\($0.type) records of \($0.name)" } ?? "nothing (no question)"
        let response = m.isResponse || direction == .server
        if !response {
            if m.opcode == "UPDATE" {
                out.append("UPDATE: asks the server to change records in the zone \(q?.name ?? "?") (RFC 2136)")
            } else if let q, q.type == "AXFR" || q.type == "IXFR" {
                out.append("\(q.type): asks for the zone \(q.name) to be transferred (RFC 5936/1995)")
            } else {
                out.append("query: asks for the \(asked)" + (q.map { $0.klass == "IN" ? "" : " (class \($0.klass))" } ?? ""))
                out.append(m.flags.contains("rd")
                    ? "rd on: recursion desired — a resolver should find the answer for us, asking other servers if it must"
                    : "rd off: no recursion — the server answers only from what it holds itself (its own zones), as a resolver asks each server on the way down")
            }
        } else {
            out.append(dnsKind(m, asked: asked))
        }
        // A query's rd has its own line above; a response's rd is the query's, copied back.
        var present = dnsFlags.filter { m.flags.contains($0.0) && (response || $0.0 != "rd") }.map(\.1)
        if response, let i = present.firstIndex(where: { $0.hasPrefix("rd ") }) { present[i] += " (copied from the query)" }
        if response && !m.flags.contains("ra") && m.flags.contains("qr") {
            present.append("no ra: this server does not resolve names for others; it answers only from its own zones")
        }
        if !present.isEmpty { out.append("flags: " + present.joined(separator: "; ")) }
        if response { out += dnsSections(m) }
        if let udp = m.ednsUDP {
            let who = response ? "the server" : "the asker"
            out.append("EDNS(0) (RFC 6891): \(who) takes UDP messages up to \(udp) bytes (without EDNS, 512)"
                       + (m.ednsDO ? "; DO bit set: DNSSEC records (RRSIG, NSEC) \(response ? "may be included" : "wanted")"
                                   : "; DO bit off: \(response ? "no DNSSEC records included" : "no DNSSEC records asked for")"))
        }
        return out
    }

    /// What kind of response this is.
    static func dnsKind(_ m: DNSTraceMessage, asked: String) -> String {
        let answer = m.records("ANSWER"), authority = m.records("AUTHORITY")
        let soa = authority.first { $0.type == "SOA" }
        let ns = authority.filter { $0.type == "NS" }
        func negativeTTL(_ r: DNSTraceMessage.Record) -> String {
            guard let minimum = Int(r.data.split(separator: " ").last ?? "") else { return "" }
            return "; the SOA of \(r.name) in AUTHORITY says how long that may be cached: \(min(r.ttl, minimum)) s (RFC 2308)"
        }
        switch m.status {
        case "NXDOMAIN":
            return "NXDOMAIN: the name does not exist — no records of any type"
                + (m.authoritative ? ", said with authority by a server of the zone" : "") + (soa.map(negativeTTL) ?? "")
        case "NOERROR":
            if !answer.isEmpty {
                let cname = answer.contains { $0.type == "CNAME" } && m.question?.type != "CNAME"
                return "answer: \(answer.count) record\(answer.count == 1 ? "" : "s") answering the question (\(m.question.map { "\($0.name) \($0.type)" } ?? "?"))"
                    + (m.authoritative ? ", from a server of the zone (authoritative)" : ", not authoritative (from a resolver's cache or a copy)")
                    + (cname ? "; the name is an alias (CNAME) and the answer follows it to its target" : "")
            }
            if !m.authoritative, let zone = ns.first?.name {
                return "referral: the server does not know; it points to the servers of \(zone) (the NS records in AUTHORITY: "
                    + ns.map(\.data).joined(separator: ", ") + ") — ask one of them next"
            }
            if let soa {
                return "NODATA: the name exists but has no \(m.question?.type ?? "such") records (NOERROR with an empty answer)" + negativeTTL(soa)
            }
            return "an empty answer with neither an SOA (NODATA) nor NS records (a referral): this server has nothing to say about it"
        default:
            let gloss = dnsStatus[m.status] ?? "an unknown response code"
            return "\(m.status): \(gloss)"
        }
    }

    /// The sections, glue and TTLs of a response.
    static func dnsSections(_ m: DNSTraceMessage) -> [String] {
        var out: [String] = []
        let answer = m.records("ANSWER"), authority = m.records("AUTHORITY"), additional = m.records("ADDITIONAL")
        var parts: [String] = []
        if m.question != nil { parts.append("QUESTION: what was asked, echoed") }
        if !answer.isEmpty { parts.append("ANSWER (\(answer.count)): the records that answer it") }
        if !authority.isEmpty {
            if authority.contains(where: { $0.type == "SOA" }) { parts.append("AUTHORITY (\(authority.count)): the zone's SOA, standing for the negative answer") }
            else if authority.contains(where: { $0.type == "NS" }) && answer.isEmpty { parts.append("AUTHORITY (\(authority.count)): the name servers of the zone the name is delegated to") }
            else { parts.append("AUTHORITY (\(authority.count)): the servers authoritative for the answer") }
        }
        if !additional.isEmpty { parts.append("ADDITIONAL (\(additional.count)): records the asker will likely need next") }
        if !parts.isEmpty { out.append("sections: " + parts.joined(separator: "; ")) }
        let nsTargets = Set(authority.filter { $0.type == "NS" }.map { $0.data.lowercased() })
        let glue = additional.filter { ($0.type == "A" || $0.type == "AAAA") && nsTargets.contains($0.name.lowercased()) }
        let listed = glue.map { "\($0.name) \($0.type) \($0.data)" }.joined(separator: ", ")
        if !glue.isEmpty && answer.isEmpty && !m.authoritative {
            out.append("glue: \(listed) — the addresses of the name servers referred to, given because their names lie inside the zone they serve (without them the asker could not reach them)")
        } else if !glue.isEmpty {
            out.append("additional addresses: \(listed) — of the name servers named in AUTHORITY, saving the asker a lookup")
        }
        if let first = answer.first {
            out.append("TTL \(first.ttl): the seconds a resolver may keep \(answer.count == 1 ? "this record" : "these records") in its cache")
        } else if let ns = authority.first(where: { $0.type == "NS" }), !m.authoritative {
            out.append("TTL \(ns.ttl): the seconds a resolver may remember this delegation")
        }
        return out
    }
}
