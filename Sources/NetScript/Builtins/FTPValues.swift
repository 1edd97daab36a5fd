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
    override var fieldNames: [String] { ["host", "port", "user", "cwd", "welcome", "features", "last_reply", "tls", "passive", "closed"] }
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

/// A progress bar on standard error, only when it is a terminal; redrawn at most ten times
/// a second and erased at the end.
final class FTPProgressBar {
    let label: String
    var last = Date.distantPast
    let start = Date()
    var drawn = false
    init(_ label: String) { self.label = label }

    static func make(_ label: String, enabled: Bool?) -> FTPProgressBar? {
        if enabled == false || isatty(2) != 1 { return nil }
        return FTPProgressBar(label)
    }

    func update(_ done: Int64, _ total: Int64?) {
        let now = Date()
        guard now.timeIntervalSince(last) >= 0.1 else { return }
        last = now
        let t = now.timeIntervalSince(start)
        let rate = t > 0 ? Double(done) / t / 1_048_576 : 0
        var line = "\r\u{1B}[K" + String(label.suffix(30))
        if let total, total > 0 {
            let frac = min(1, Double(done) / Double(total))
            let width = 24
            let fill = Int(frac * Double(width))
            line += " [" + String(repeating: "#", count: fill) + String(repeating: ".", count: width - fill) + "]"
            line += String(format: " %3d%% %@ of %@", Int(frac * 100), FTPProgressBar.size(done), FTPProgressBar.size(total))
        } else {
            line += " " + FTPProgressBar.size(done)
        }
        line += String(format: " %.1f MiB/s", rate)
        FileHandle.standardError.write(line.data(using: .utf8)!)
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!) }
    }

    static func size(_ n: Int64) -> String {
        let d = Double(n)
        if d >= Double(1 << 30) { return String(format: "%.2f GiB", d / Double(1 << 30)) }
        if d >= Double(1 << 20) { return String(format: "%.1f MiB", d / Double(1 << 20)) }
        if d >= Double(1 << 10) { return String(format: "%.1f KiB", d / Double(1 << 10)) }
        return "\(n) B"
    }
}
