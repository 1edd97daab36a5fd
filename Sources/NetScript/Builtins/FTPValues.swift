import Foundation
import NetKit
import OrderedCollections

/// An FTP session as a language value: fields for what the session knows, QUIT-less close
/// when the program drops it.
final class FTPSessionValue: NativeObject {
    let client: FTPClient
    init(_ client: FTPClient) { self.client = client }
    deinit { client.abandon() }
    override var typeName: String { "ftp_session" }
    override var description: String {
        "<ftp_session \(client.user ?? "(not logged in)")@\(client.address)\(client.isTLS ? " tls" : "")\(client.isClosed ? " closed" : "")>"
    }
    override var fieldNames: [String] { ["host", "port", "user", "cwd", "welcome", "features", "last_reply", "tls", "certificate", "passive", "closed"] }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "host": return .string(client.host)
        case "port": return .int(client.port)
        case "user": return client.user.map { .string($0) } ?? .nil
        case "cwd": return .string(try FTPBuiltins.run { try client.pwd() })
        case "welcome": return .string(client.welcome.text)
        case "features": return .list(client.features.map { .string($0) })
        case "last_reply": return client.lastReply.map { FTPValues.reply($0) } ?? .nil
        case "tls": return .bool(client.isTLS)
        case "certificate": return client.isTLS ? try CertificateValue.peer(of: client.controlConnection) : .nil
        case "passive": return .bool(client.passive)
        case "closed": return .bool(client.isClosed)
        default: return nil
        }
    }
    override var jsonValue: Value? {
        .map([("host", .string(client.host)), ("port", .int(client.port)), ("user", client.user.map { .string($0) } ?? .nil),
              ("tls", .bool(client.isTLS)), ("closed", .bool(client.isClosed))])
    }
}

enum FTPValues {
    static func reply(_ r: FTPReply) -> Value {
        .native(RecordObject("ftp_reply", ["code": .int(r.code), "text": .string(r.text)]))
    }

    static func entry(_ e: FTPEntry) -> Value {
        let facts = MapRef()
        for (k, v) in e.facts { facts[k] = .string(v) }
        return .native(RecordObject("ftp_entry", [
            "name": .string(e.name), "type": .string(e.type),
            "size": e.size.map { .int(Int($0)) } ?? .nil,
            "modify": e.modify.map { .string($0) } ?? .nil,
            "facts": .map(facts),
        ]))
    }

    static func transfer(_ t: FTPTransferResult, remote: String, local: String?) -> Value {
        var f: OrderedDictionary<String, Value> = ["remote": .string(remote)]
        if let local { f["local"] = .string(local) }
        f["bytes"] = .int(Int(t.bytes))
        f["offset"] = .int(Int(t.offset))
        f["seconds"] = .float((t.seconds * 1000).rounded() / 1000)
        f["mib_per_s"] = .float(t.seconds > 0 ? (Double(t.bytes) / t.seconds / 1_048_576 * 10).rounded() / 10 : 0)
        return .native(RecordObject("ftp_transfer", f))
    }

    static func mirror(_ m: FTPMirrorResult) -> Value {
        .native(RecordObject("ftp_mirror", ["files": .int(m.files), "directories": .int(m.directories),
                                            "bytes": .int(Int(m.bytes)), "skipped": .list(m.skipped.map { .string($0) })]))
    }
}
