import Foundation
import NetKit
import OrderedCollections

/// `dns.message` and `dns.send`: one DNS message built (and edited) by hand, sent as built, its
/// answer shown as received — the single-message form a learner uses to see one exchange.
enum DNSMessageBuiltins {
    static func register(in r: Interpreter) {
        r.register("dns.message", min: 1, max: 2, options: ["id", "rd", "cd", "ad", "class", "edns", "dnssec", "opcode", "udp"],
                   usage: "dns.message NAME [TYPE] [id: N] [rd: true] [cd: false] [ad: false] [class: \"IN\"] [edns: true] [dnssec: false] [opcode: \"QUERY\"] [udp: 1232] | dns.message BYTES | dns.message RESPONSE",
                   summary: "A DNS message to edit and send with dns.send: a query for NAME of TYPE (default A) with a fresh id, or one decoded from BYTES (a datagram), or a copy of a response's message. Its fields can be read and set: id, opcode, rcode, flags (a list such as [\"rd\"]) and each flag as a bool (qr aa tc rd ra ad cd), question (a record, or set it to \"NAME TYPE [CLASS]\" or nil), answer, authority and additional (lists of records: dns.parse values or zone-file lines), edns (nil for none, or set true or {udp: 1232, do: false}); wire and size give its bytes. It prints as dig would show it. Assigning a message to another variable shares it: dns.message M makes a copy.",
                   example: "m = dns.message \"example.test\" \"MX\" rd: false\nm.id = 7\nr = dns.send m server: \"127.0.0.1:5300\"") { a in
            try make(a)
        }
        r.register("dns.send", min: 1, max: 1, options: ["server", "tcp", "timeout"],
                   usage: "dns.send MESSAGE server: \"HOST[:PORT]\" [tcp: false] [timeout: 5]",
                   summary: "Sends a dns.message exactly as built (over UDP, or TCP with tcp: true) and returns the first answer carrying its id, exactly as received: a dns_response with rcode, flags, answer, authority, additional, shown in dig's form. No retries, no switch to TCP when the answer is truncated (look at the tc flag), and an rcode such as NXDOMAIN or REFUSED is a field to read, not an error. Errors: dns.timeout (sent once, no answer), refused, dns.malformed (an answer that does not decode). trace on shows the message and the answer; trace explain says what they mean.",
                   example: "r = dns.send (dns.message \"www.example.test\" rd: false) server: \"127.0.0.1:5302\"\nprint r.rcode r.flags (len r.authority)") { a in
            guard case .native(let n) = a[0], let m = n as? DNSMessageValue else {
                throw Diagnostic.type("dns.send: argument 1 must be a dns_message (made by dns.message), not \(a[0].typeName.withArticle)")
            }
            guard let text = try a.optionString("server") else { throw Diagnostic.value("dns.send: needs server: \"HOST[:PORT]\"") }
            let srv: DNSServer
            do { srv = try DNSServer.resolving(text, client: DNSBuiltins.client(a)) } catch { throw dnsDiagnostic(error, server: text) }
            let timeout = try a.timeout(5, max: 3600)
            let tcp = a.optionBool("tcp") ?? false
            let msg = m.message
            let question = msg.questions.first.map { "\($0.name) \($0.type)" } ?? "message \(msg.id)"
            do {
                let c = DNSBuiltins.client(a)
                let resp = try blockingCall { try c.send(msg, server: srv, tcp: tcp, timeout: timeout) }
                return .native(DNSResponseValue(resp, asReceived: true))
            } catch {
                throw dnsDiagnostic(error, question: question, server: srv.description)
            }
        }
    }

    static func make(_ a: Args) throws -> Value {
        if a.count == 1 {
            switch a[0] {
            case .bytes(let b):
                do { return .native(DNSMessageValue(try DNSMessage(decoding: b))) } catch { throw dnsDiagnostic(error) }
            case .native(let n as DNSMessageValue): return .native(DNSMessageValue(n.message))
            case .native(let n as DNSResponseValue): return .native(DNSMessageValue(n.message))
            default: break
            }
        }
        let name = try a.string(0)
        let type = a.count > 1 ? try DNSBuiltins.type(try a.string(1), "dns.message") : DNSType.A
        var klass = DNSClass.IN
        if let c = try a.optionString("class") {
            guard let k = DNSClass(c) else { throw Diagnostic.value("dns.message: unknown class '\(c)' (IN, CH, HS, ANY or CLASSn)") }
            klass = k
        }
        let q: DNSQuestion
        do { q = DNSQuestion(try DNSName(name), type, klass) } catch { throw dnsDiagnostic(error) }
        let dnssec = a.optionBool("dnssec") ?? false
        var edns: DNSEDNS? = nil
        if a.optionBool("edns") ?? true || dnssec {
            var e = DNSEDNS(dnssecOK: dnssec)
            if let u = try a.optionInt("udp") {
                guard u >= 512, u <= 65535 else { throw Diagnostic.value("dns.message: udp: must be between 512 and 65535") }
                e.udpSize = UInt16(u)
            }
            edns = e
        }
        var m = DNSMessage.query(q, id: 0, rd: a.optionBool("rd") ?? true, edns: edns, cd: a.optionBool("cd") ?? false,
                                 ad: a.optionBool("ad") ?? dnssec)
        m.id = try a.optionInt("id").map { try DNSMessageValue.id($0) } ?? DNSClient.newID()
        if let o = a.option("opcode") { m.opcode = try DNSMessageValue.opcode(o) }
        return .native(DNSMessageValue(m))
    }
}

/// A DNS message being built: every header field and section can be read and set.
final class DNSMessageValue: NativeObject {
    var message: DNSMessage
    init(_ m: DNSMessage) { message = m }
    override var typeName: String { "dns_message" }
    static let flagNames = ["qr", "aa", "tc", "rd", "ra", "ad", "cd"]
    static let names = ["id", "opcode", "rcode", "flags"] + flagNames + ["question", "answer", "authority", "additional", "edns", "wire", "size"]
    override var fieldNames: [String] { DNSMessageValue.names }
    override var description: String {
        var s = message.text()
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
    override func isEqual(to other: NativeObject) -> Bool { (other as? DNSMessageValue)?.message == message }
    override func hash(into h: inout Hasher) { h.combine(message) }

    func flag(_ name: String) -> Bool {
        let f = message.flags
        switch name {
        case "qr": return f.qr
        case "aa": return f.aa
        case "tc": return f.tc
        case "rd": return f.rd
        case "ra": return f.ra
        case "ad": return f.ad
        default: return f.cd
        }
    }

    func setFlag(_ name: String, _ on: Bool) {
        switch name {
        case "qr": message.flags.qr = on
        case "aa": message.flags.aa = on
        case "tc": message.flags.tc = on
        case "rd": message.flags.rd = on
        case "ra": message.flags.ra = on
        case "ad": message.flags.ad = on
        default: message.flags.cd = on
        }
    }

    override func field(_ name: String) throws -> Value? {
        switch name {
        case "id": return .int(Int(message.id))
        case "opcode": return .string(DNSOpcode.name(message.opcode))
        case "rcode": return .string(message.rcodeName)
        case "flags": return .list(message.flags.names.map { .string($0) })
        case _ where DNSMessageValue.flagNames.contains(name): return .bool(flag(name))
        case "question":
            guard let q = message.questions.first else { return .nil }
            return .native(RecordObject("dns_question", ["name": .string(q.name.description), "type": .string(q.type.description),
                                                         "class": .string(q.klass.description)]))
        case "answer": return DNSResponseValue.records(message.answers)
        case "authority": return DNSResponseValue.records(message.authority)
        case "additional": return DNSResponseValue.records(message.additional)
        case "edns":
            guard let e = message.edns else { return .nil }
            return .native(RecordObject("edns", ["version": .int(Int(e.version)), "udp": .int(Int(e.udpSize)), "do": .bool(e.dnssecOK)]))
        case "wire":
            do { return .bytes(try message.encode()) } catch { throw dnsDiagnostic(error) }
        case "size":
            do { return .int(try message.encode().count) } catch { throw dnsDiagnostic(error) }
        default: return nil
        }
    }

    static func id(_ v: Int) throws -> UInt16 {
        guard v >= 0, v <= 65535 else { throw Diagnostic.value("dns_message: id must be between 0 and 65535, not \(v)") }
        return UInt16(v)
    }

    static func opcode(_ v: Value) throws -> UInt8 {
        switch v {
        case .int(let n) where n >= 0 && n <= 15: return UInt8(n)
        case .string(let s): if let c = DNSOpcode.code(s) { return c }
        default: break
        }
        throw Diagnostic.value("dns_message: opcode must be QUERY, IQUERY, STATUS, NOTIFY, UPDATE or a number 0 to 15, not \(Value.repr(v))")
    }

    /// A section from a list of records (dns.parse values, answers) or zone-file lines.
    static func records(_ v: Value, _ section: String) throws -> [DNSRecord] {
        let items: [Value]
        switch v {
        case .nil: return []
        case .list(let l): items = l.items
        case .string, .native: items = [v]
        default: throw Diagnostic.type("dns_message: \(section) must be a list of records or zone-file lines, not \(v.typeName.withArticle)")
        }
        guard items.count <= 4096 else { throw Diagnostic.value("dns_message: \(section): at most 4096 records") }
        return try items.map { item in
            switch item {
            case .native(let n as DNSRecordValue): return n.record
            case .string(let s):
                do { return try DNSRecord(s) } catch { throw dnsDiagnostic(error) }
            default: throw Diagnostic.type("dns_message: \(section): items must be records or zone-file lines, not \(item.typeName.withArticle)")
            }
        }
    }

    /// A question from "NAME TYPE [CLASS]", or a record/map with name, type and class.
    static func question(_ v: Value) throws -> DNSQuestion {
        var name = "", type = "A", klass = "IN"
        switch v {
        case .string(let s):
            let w = s.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard (1...3).contains(w.count) else { throw Diagnostic.value("dns_message: question must read \"NAME TYPE [CLASS]\", not \"\(s)\"") }
            name = w[0]
            if w.count > 1 { type = w[1] }
            if w.count > 2 { klass = w[2] }
        case .native(let n):
            func text(_ f: String) throws -> String? { if case .string(let s)? = try n.field(f) { return s }; return nil }
            guard let nm = try text("name") else { throw Diagnostic.type("dns_message: question needs a name") }
            name = nm; type = try text("type") ?? type; klass = try text("class") ?? klass
        case .map(let m):
            guard case .string(let nm)? = m["name"] else { throw Diagnostic.type("dns_message: question needs a name") }
            name = nm
            if case .string(let t)? = m["type"] { type = t }
            if case .string(let c)? = m["class"] { klass = c }
        default:
            throw Diagnostic.type("dns_message: question must be \"NAME TYPE [CLASS]\", a map or nil, not \(v.typeName.withArticle)")
        }
        let t = try DNSBuiltins.type(type, "dns_message")
        guard let c = DNSClass(klass) else { throw Diagnostic.value("dns_message: unknown class '\(klass)'") }
        do { return DNSQuestion(try DNSName(name), t, c) } catch { throw dnsDiagnostic(error) }
    }

    override func setField(_ name: String, _ value: Value) throws {
        switch name {
        case "id":
            guard case .int(let n) = value else { throw Diagnostic.type("dns_message: id must be an int") }
            message.id = try DNSMessageValue.id(n)
        case "opcode": message.opcode = try DNSMessageValue.opcode(value)
        case "rcode":
            var code: Int? = nil
            if case .int(let n) = value, n >= 0, n <= 0xFFF { code = n }
            if case .string(let s) = value { code = DNSRcode.code(s) }
            guard let c = code else { throw Diagnostic.value("dns_message: rcode must be a name (NOERROR, NXDOMAIN, …) or a number 0 to 4095") }
            if c > 15 && message.edns == nil { throw Diagnostic.value("dns_message: rcode \(c) needs EDNS (set edns first): the header holds 4 bits") }
            message.rcode = c
        case "flags":
            let items: [Value]
            if case .list(let l) = value { items = l.items } else if case .string = value { items = [value] } else {
                throw Diagnostic.type("dns_message: flags must be a list of names such as [\"rd\", \"cd\"]")
            }
            var set: [String] = []
            for i in items {
                guard case .string(let s) = i, DNSMessageValue.flagNames.contains(s.lowercased()) else {
                    throw Diagnostic.value("dns_message: unknown flag \(Value.repr(i)) (qr aa tc rd ra ad cd)")
                }
                set.append(s.lowercased())
            }
            for f in DNSMessageValue.flagNames { setFlag(f, set.contains(f)) }
        case _ where DNSMessageValue.flagNames.contains(name):
            guard case .bool(let b) = value else { throw Diagnostic.type("dns_message: \(name) must be true or false") }
            setFlag(name, b)
        case "question":
            if case .nil = value { message.questions = [] } else { message.questions = [try DNSMessageValue.question(value)] }
        case "answer": message.answers = try DNSMessageValue.records(value, name)
        case "authority": message.authority = try DNSMessageValue.records(value, name)
        case "additional": message.additional = try DNSMessageValue.records(value, name)
        case "edns":
            switch value {
            case .nil, .bool(false): message.edns = nil
            case .bool(true): message.edns = message.edns ?? DNSEDNS()
            case .map(let m):
                var e = message.edns ?? DNSEDNS()
                if let u = m["udp"] {
                    guard case .int(let n) = u, n >= 0, n <= 65535 else { throw Diagnostic.value("dns_message: edns udp must be 0 to 65535") }
                    e.udpSize = UInt16(n)
                }
                if let d = m["do"] { e.dnssecOK = d.isTruthy }
                if let v = m["version"] {
                    guard case .int(let n) = v, n >= 0, n <= 255 else { throw Diagnostic.value("dns_message: edns version must be 0 to 255") }
                    e.version = UInt8(n)
                }
                message.edns = e
            default: throw Diagnostic.type("dns_message: edns must be nil, true or a map {udp:, do:, version:}")
            }
        case "wire", "size":
            throw Diagnostic.type("dns_message: \(name) is computed from the other fields; dns.message BYTES decodes a whole message")
        default:
            throw Diagnostic("name", "dns_message has no field '\(name)' (fields: \(DNSMessageValue.names.joined(separator: " ")))")
        }
    }
}
