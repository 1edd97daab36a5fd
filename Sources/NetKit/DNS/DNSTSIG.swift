import Foundation

/// A TSIG key (RFC 8945): its name, algorithm and shared secret.
public struct DNSTSIGKey: Sendable {
    /// The MAC algorithms supported: HMAC-SHA256 (the one RFC 8945 §6 requires) and HMAC-MD5 (older
    /// BIND keys). The raw value is the name as dig and BIND write it.
    public enum Algorithm: String, Sendable {
        case hmacSHA256 = "hmac-sha256", hmacMD5 = "hmac-md5"
        var wireName: DNSName { try! DNSName(self == .hmacSHA256 ? "hmac-sha256." : "hmac-md5.sig-alg.reg.int.") }
        func mac(_ key: [UInt8], _ msg: [UInt8]) -> [UInt8] {
            self == .hmacSHA256 ? Digests.hmacSHA256(key: key, message: msg) : Digests.hmacMD5(key: key, message: msg)
        }
    }
    /// The key's name; it must be the name the server knows the key by (BIND's `key "NAME"`).
    public var name: DNSName
    /// The MAC algorithm, which the server's key must use too.
    public var algorithm: Algorithm
    /// The shared secret as raw bytes (already base64-decoded).
    public var secret: [UInt8]

    /// A key from its parts; HMAC-SHA256 unless given.
    public init(name: DNSName, algorithm: Algorithm = .hmacSHA256, secret: [UInt8]) {
        self.name = name; self.algorithm = algorithm; self.secret = secret
    }

    /// dig's `-y` form: `[ALGORITHM:]NAME:BASE64SECRET`. Without an algorithm it is hmac-md5,
    /// as dig takes it (BIND 9.18 sends hmac-md5.sig-alg.reg.int. for `-y NAME:SECRET`), so
    /// the same string works with both.
    public init(_ text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3 else { throw DNSError.syntax("a TSIG key is [ALGORITHM:]NAME:BASE64SECRET") }
        var alg = Algorithm.hmacMD5
        if parts.count == 3 {
            guard let a = Algorithm(rawValue: parts[0].lowercased()) else { throw DNSError.syntax("TSIG algorithm must be hmac-sha256 or hmac-md5, not '\(parts[0])'") }
            alg = a
        }
        name = try DNSName(parts[parts.count - 2])
        algorithm = alg
        secret = try DNSText.fromBase64(parts[parts.count - 1])
    }
}

/// Signing and checking of messages with TSIG.
public enum DNSTSIG {
    /// A TSIG record as dig prints it: `NAME 0 ANY TSIG ALGORITHM. TIME FUDGE MACSIZE MAC
    /// ORIGINAL-ID ERROR OTHER-LEN [OTHER]` (RFC 8945 §4.2); undecodable data in RFC 3597 form.
    public static func presentation(_ rec: DNSRecord) -> String {
        var text = rec.dataText
        if case .opaque(let d) = rec.data {
            var r = DNSReader(d)
            if let alg = try? r.name(), let hi = try? r.u16(), let lo = try? r.u32(), let fudge = try? r.u16(),
               let macSize = try? r.u16(), let mac = try? r.take(Int(macSize)), let orig = try? r.u16(),
               let err = try? r.u16(), let otherLen = try? r.u16(), let other = try? r.take(Int(otherLen)), r.atEnd {
                let time = UInt64(hi) << 32 | UInt64(lo)
                // TSIG's own error codes (RFC 8945 §4.3): 16 is BADSIG here, not EDNS's BADVERS.
                let tsigErrors: [UInt16: String] = [16: "BADSIG", 17: "BADKEY", 18: "BADTIME", 19: "BADMODE", 20: "BADNAME", 21: "BADALG", 22: "BADTRUNC"]
                text = "\(alg) \(time) \(fudge) \(macSize) \(DNSText.base64(mac)) \(orig) \(tsigErrors[err] ?? DNSRcode.name(Int(err))) \(otherLen)"
                if !other.isEmpty { text += " " + DNSText.base64(other) }
            }
        }
        return DNSRecord.columns([rec.name.description, String(rec.ttl), rec.klass.description, rec.type.description, text], [24, 32, 40, 48])
    }

    static func canonical(_ n: DNSName) -> [UInt8] {
        var out: [UInt8] = []
        for l in n.lowercased.labels { out.append(UInt8(l.count)); out += l }
        return out + [0]
    }
    static func u16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func u48(_ v: UInt64) -> [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: v >> (40 - 8 * UInt64($0))) } }

    /// Appends a TSIG record to `wire`; returns the signed message and its MAC (which the
    /// response's MAC covers).
    public static func sign(_ wire: [UInt8], key: DNSTSIGKey, time: UInt64 = UInt64(Date().timeIntervalSince1970),
                            fudge: UInt16 = 300, requestMAC: [UInt8]? = nil) -> (wire: [UInt8], mac: [UInt8]) {
        let alg = canonical(key.algorithm.wireName)
        var digest: [UInt8] = []
        if let r = requestMAC { digest += u16(UInt16(r.count)) + r }
        digest += wire
        digest += canonical(key.name) + u16(255) + [0, 0, 0, 0] + alg + u48(time) + u16(fudge) + u16(0) + u16(0)
        let mac = key.algorithm.mac(key.secret, digest)
        let rdata = alg + u48(time) + u16(fudge) + u16(UInt16(mac.count)) + mac + Array(wire[0..<2]) + u16(0) + u16(0)
        var out = wire
        out += canonical(key.name) + u16(250) + u16(255) + [0, 0, 0, 0] + u16(UInt16(rdata.count)) + rdata
        let ar = (UInt16(out[10]) << 8 | UInt16(out[11])) + 1
        out[10] = UInt8(ar >> 8); out[11] = UInt8(ar & 0xFF)
        return (out, mac)
    }

    /// Where each resource record starts (after the questions), and where the message ends.
    static func recordOffsets(_ bytes: [UInt8]) throws -> [Int] {
        var r = DNSReader(bytes)
        r.pos = 4
        let qd = Int(try r.u16()), total = Int(try r.u16()) + Int(try r.u16()) + Int(try r.u16())
        for _ in 0..<qd { _ = try r.name(); _ = try r.take(4) }
        var offsets: [Int] = []
        for _ in 0..<total {
            offsets.append(r.pos)
            _ = try r.name(); _ = try r.take(8)
            let len = Int(try r.u16())
            _ = try r.take(len)
        }
        offsets.append(r.pos)
        return offsets
    }

    /// Checks the TSIG record that ends a response. `timersOnly` is for the second and later
    /// messages of a transfer, whose MAC covers the previous MAC, any unsigned messages in
    /// between (`unsigned`), this message and only the time fields. Returns the MAC, or nil
    /// when the message is not signed (allowed inside a transfer only).
    public static func verify(_ bytes: [UInt8], key: DNSTSIGKey, requestMAC: [UInt8], unsigned: [UInt8] = [],
                              timersOnly: Bool = false, now: UInt64 = UInt64(Date().timeIntervalSince1970)) throws -> [UInt8]? {
        let offsets = try recordOffsets(bytes)
        guard offsets.count >= 2 else { return nil }
        let start = offsets[offsets.count - 2]
        var r = DNSReader(bytes, pos: start)
        let name = try r.name()
        guard DNSType(try r.u16()) == .TSIG else { return nil }
        _ = try r.u16(); _ = try r.u32(); _ = try r.u16()
        let alg = try r.name()
        let timeHi = UInt64(try r.u16()), timeLo = UInt64(try r.u32())
        let time = timeHi << 32 | timeLo
        let fudge = try r.u16()
        let mac = try r.take(Int(try r.u16()))
        let originalID = try r.u16()
        let error = try r.u16()
        let other = try r.take(Int(try r.u16()))
        guard name == key.name else { throw DNSError(.tsig, "TSIG: the answer is signed with key \(name), not \(key.name)") }
        if error != 0 {
            let names: [UInt16: String] = [16: "BADSIG (wrong secret)", 17: "BADKEY (unknown key)", 18: "BADTIME (clocks differ)", 22: "BADTRUNC"]
            throw DNSError(.tsig, "TSIG: the server says \(names[error] ?? "error \(error)") for key \(key.name)")
        }
        guard alg == key.algorithm.wireName else { throw DNSError(.tsig, "TSIG: the answer uses algorithm \(alg)") }
        var stripped = Array(bytes[0..<start])
        stripped[0] = UInt8(originalID >> 8); stripped[1] = UInt8(originalID & 0xFF)
        let ar = (UInt16(stripped[10]) << 8 | UInt16(stripped[11])) - 1
        stripped[10] = UInt8(ar >> 8); stripped[11] = UInt8(ar & 0xFF)
        var digest = u16(UInt16(requestMAC.count)) + requestMAC + unsigned + stripped
        if timersOnly {
            digest += u48(time) + u16(fudge)
        } else {
            digest += canonical(name) + u16(255) + [0, 0, 0, 0] + canonical(alg) + u48(time) + u16(fudge) + u16(error) + u16(UInt16(other.count)) + other
        }
        guard key.algorithm.mac(key.secret, digest) == mac else { throw DNSError(.tsig, "TSIG: bad signature on the answer (key \(key.name))") }
        guard (time > now ? time - now : now - time) <= UInt64(fudge) else { throw DNSError(.tsig, "TSIG: the answer's time is off by more than \(fudge) s") }
        return mac
    }
}
