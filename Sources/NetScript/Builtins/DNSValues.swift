import Foundation
import NetKit
import OrderedCollections

/// DNS responses and records as language values. NetKit decodes; these only present.

/// A DNSError as a Diagnostic of kind `dns.*`, with the question and server as fields.
func dnsDiagnostic(_ e: Error, question: String? = nil, server: String? = nil) -> Error {
    guard let d = e as? DNSError else { return e }
    switch d.kind {
    case .interrupted: return Interpreter.interrupted()
    case .syntax: return Diagnostic("value", d.message)
    default:
        var fields: [(String, Value)] = []
        if let question { fields.append(("question", .string(question))) }
        if let server { fields.append(("server", .string(server))) }
        return Diagnostic(d.kind.rawValue, d.message, fields: fields)
    }
}

/// The value of one field of record data.
func dnsFieldValue(_ f: DNSField, _ spec: DNSFieldSpec, _ type: DNSType) -> Value {
    switch f {
    case .int(let v): return .int(Int(v))
    case .name(let n): return .string(n.description)
    case .address(let a): return .native(IPValue(a))
    case .text(let t): return .string(String(decoding: t, as: UTF8.self))
    case .texts(let ts): return .list(ts.map { .string(String(decoding: $0, as: UTF8.self)) })
    case .data:
        // Binary fields read as they print (hex, base64, base32).
        guard let schema = DNSRData.schema(type) else { return .nil }
        let one = DNSRData.fields(schema.map { $0.name == spec.name ? f : DNSRecordValue.placeholder($0) })
        let parts = one.text(type)
        return .string(DNSRecordValue.pick(parts, schema, spec.name))
    case .types(let ts):
        if case .type16 = spec.kind { return .string(ts.first?.description ?? "") }
        return .list(ts.map { .string($0.description) })
    case .params(let ps):
        let m = MapRef()
        for p in ps {
            let text = DNSRData.fields([.int(1), .name(.root), .params([p])]).text(.SVCB)
            let kv = String(text.dropFirst(4))
            if let eq = kv.firstIndex(of: "=") {
                var v = String(kv[kv.index(after: eq)...])
                if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
                m[String(kv[..<eq])] = .string(v)
            } else { m[kv] = .bool(true) }
        }
        return .map(m)
    }
}

final class DNSRecordValue: NativeObject {
    let record: DNSRecord
    init(_ r: DNSRecord) { record = r }
    override var typeName: String { "dns_record" }
    override var description: String { record.description }
    override var fieldNames: [String] {
        var names = ["name", "ttl", "type", "class", "data"] + record.fieldNames
        if record.type == .TXT || record.type == .SPF { names.append("text") }
        return names
    }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "name": return .string(record.name.description)
        case "ttl": return .int(Int(record.ttl))
        case "type": return .string(record.type.description)
        case "class": return .string(record.klass.description)
        case "data": return .string(record.dataText)
        case "text" where record.type == .TXT || record.type == .SPF:
            guard case .texts(let ts)? = record.field("strings") else { return .string("") }
            return .string(String(decoding: ts.joined(), as: UTF8.self))
        default:
            guard let f = record.field(name), let spec = DNSRData.schema(record.type)?.first(where: { $0.name == name }) else { return nil }
            return dnsFieldValue(f, spec, record.type)
        }
    }
    override func isEqual(to other: NativeObject) -> Bool { (other as? DNSRecordValue)?.record == record }
    override func hash(into h: inout Hasher) { h.combine(record) }
    override var jsonValue: Value? {
        let m = MapRef()
        for n in fieldNames { if let v = try? field(n) { m[n] = v.dnsJSONValue } }
        return .map(m)
    }

    /// A harmless stand-in for the other fields when printing one binary field.
    static func placeholder(_ spec: DNSFieldSpec) -> DNSField {
        switch spec.kind {
        case .name: return .name(.root)
        case .ipv4: return .address(IPAddress(v4: 0))
        case .ipv6: return .address(IPAddress(v6: 0))
        case .string, .caaTag, .caaValue: return .text([])
        case .strings: return .texts([])
        case .base64Rest, .hexRest, .hexLen8, .base32Len8: return .data([])
        case .bitmap, .type16: return .types([])
        case .svcParams: return .params([])
        default: return .int(0)
        }
    }

    /// The text of one binary field out of a data line where the other fields are placeholders.
    static func pick(_ text: String, _ schema: [DNSFieldSpec], _ name: String) -> String {
        // Binary fields are last, except the NSEC3 salt/next: drop the fixed fields before them.
        guard let idx = schema.firstIndex(where: { $0.name == name }) else { return text }
        var words = text.split(separator: " ").map(String.init)
        let before = schema[..<idx].count
        words.removeFirst(min(before, words.count))
        switch schema[idx].kind {
        case .hexLen8, .base32Len8: return words.first ?? ""
        default: return words.joined()
        }
    }
}

extension Value {
    /// Native values as their JSON text form.
    var dnsJSONValue: Value {
        switch self {
        case .native(let n): return n.jsonValue ?? .string(n.description)
        default: return self
        }
    }
}

final class DNSResponseValue: NativeObject {
    let response: DNSResponse
    /// From dns.send: the message as received, whose question may be missing or differ.
    let asReceived: Bool
    init(_ r: DNSResponse, asReceived: Bool = false) { response = r; self.asReceived = asReceived }
    var message: DNSMessage { response.message }
    override var typeName: String { "dns_response" }
    override var count: Int? { message.answers.count }
    override var isTruthy: Bool { !message.answers.isEmpty }
    static let names = ["rcode", "flags", "answer", "authority", "additional", "question", "server", "elapsed",
                        "id", "tcp", "tls", "size", "edns", "opcode", "tsig"]
    override var fieldNames: [String] { DNSResponseValue.names }
    static func records(_ rs: [DNSRecord]) -> Value { .list(rs.map { .native(DNSRecordValue($0)) }) }

    override func field(_ name: String) throws -> Value? {
        switch name {
        case "rcode": return .string(message.rcodeName)
        case "flags": return .list(message.flags.names.map { .string($0) })
        case "answer": return DNSResponseValue.records(message.answers)
        case "authority": return DNSResponseValue.records(message.authority)
        case "additional": return DNSResponseValue.records(message.additional)
        case "question":
            if asReceived && message.questions.isEmpty { return .nil }
            let q = asReceived ? message.questions[0] : response.question
            return .native(RecordObject("dns_question", ["name": .string(q.name.description), "type": .string(q.type.description),
                                                         "class": .string(q.klass.description)]))
        case "server": return .string(response.server.description)
        case "elapsed": return .float(response.elapsed)
        case "id": return .int(Int(message.id))
        case "tcp": return .bool(response.overTCP)
        case "tls": return .bool(response.overTLS)
        case "size": return .int(response.size)
        case "opcode": return .string(DNSOpcode.name(message.opcode))
        case "tsig": return message.tsig.map { .native(DNSRecordValue($0)) } ?? .nil
        case "edns":
            guard let e = message.edns else { return .nil }
            return .native(RecordObject("edns", ["version": .int(Int(e.version)), "udp": .int(Int(e.udpSize)),
                                                 "do": .bool(e.dnssecOK),
                                                 "options": .list(e.options.map { .native(RecordObject("edns_option", ["code": .int(Int($0.code)), "data": .bytes($0.data)])) })]))
        default: return nil
        }
    }

    override func makeIterator() -> (() throws -> Value?)? {
        var i = 0
        let answers = message.answers
        return {
            guard i < answers.count else { return nil }
            defer { i += 1 }
            return .native(DNSRecordValue(answers[i]))
        }
    }
    override func index(_ key: Value) throws -> Value? {
        guard case .int(let i) = key else { return nil }
        let n = message.answers.count
        let j = i < 0 ? i + n : i
        guard j >= 0, j < n else { throw Diagnostic("index", "answer index \(i) out of range (\(n) records)") }
        return .native(DNSRecordValue(message.answers[j]))
    }

    /// dig's layout, with the server and time at the end.
    override var description: String {
        var s = message.text()
        s += "\n;; Query time: \(Int(response.elapsed * 1000)) msec\n;; SERVER: \(response.server) (\(response.overTLS ? "TLS" : response.overTCP ? "TCP" : "UDP"))\n;; MSG SIZE  rcvd: \(response.size)"
        return s
    }
    override var tableRows: (columns: [String], rows: [[Value]])? {
        (["name", "ttl", "class", "type", "data"], message.answers.map {
            [.string($0.name.description), .int(Int($0.ttl)), .string($0.klass.description), .string($0.type.description), .string($0.dataText)]
        })
    }
    override var jsonValue: Value? {
        let m = MapRef()
        for n in ["rcode", "flags", "question", "server", "elapsed", "id", "tcp"] { m[n] = (try? field(n))??.dnsJSONValue ?? .nil }
        for n in ["answer", "authority", "additional"] {
            if case .list(let l)? = try? field(n) { m[n] = .list(l.items.map { $0.dnsJSONValue }) }
        }
        return .map(m)
    }
}
