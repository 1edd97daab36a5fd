import Foundation
import XCTest
@testable import NetKit

/// Differential tests against Python's netaddr (Tests/oracles/netaddr_oracle.py): thousands of
/// inputs from a fixed seed, answered by both sides, compared after normalising text forms
/// (netaddr's answers are parsed back into NetKit values). Fails, never skips, when python3 or
/// netaddr is missing.
final class AddressOracleTests: XCTestCase {
    typealias Check = (_ answer: Any?, _ error: String?) -> String?

    struct Case {
        let request: [String: Any]
        let check: Check
    }

    var rng = SplitMix64(seed: 0x5eed_2024)

    // MARK: - Random inputs

    func rand(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    func randomV4CIDR() -> String {
        let base: UInt32 = rand(4) == 0 ? UInt32(truncatingIfNeeded: rng.next()) : 0x0a00_0000 | UInt32(rand(1 << 18))
        let prefix = rand(5) == 0 ? rand(33) : 14 + rand(19)
        return "\(IPAddress(v4: base))/\(prefix)"
    }

    func randomV6Value() -> UInt128 {
        switch rand(4) {
        case 0: return UInt128(rng.next()) << 64 | UInt128(rng.next())
        case 1: return UInt128(0x2001_0db8) << 96 | UInt128(rand(1 << 20)) << 8
        default: return UInt128(0x2001_0db8) << 96 | UInt128(rand(1 << 12))
        }
    }

    func randomV6CIDR() -> String {
        let prefix = rand(5) == 0 ? rand(129) : 100 + rand(29)
        return "\(IPAddress(v6: randomV6Value()))/\(prefix)"
    }

    func randomCIDR() -> String { rand(3) == 0 ? randomV6CIDR() : randomV4CIDR() }

    func randomAddress() -> IPAddress {
        if rand(2) == 0 {
            let special: [UInt32] = [0x7f00_0001, 0x0a00_0001, 0xc0a8_0101, 0xa9fe_0101, 0xe000_0001, 0xc000_0209,
                                     0xc000_02aa, 0x6440_0001, 0xf000_0001, 0xffff_ffff, 0xc058_6301, 0xe9fc_0001, 0]
            return IPAddress(v4: rand(3) == 0 ? special[rand(special.count)] : UInt32(truncatingIfNeeded: rng.next()))
        }
        let special: [UInt128] = [1, 0, 0xffff_0102_0304, UInt128(0xfe80) << 112 | 1, UInt128(0xff02) << 112 | 1,
                                  UInt128(0xfd00) << 112 | 5, UInt128(0x2001_0001) << 96 | 1, UInt128(0x2001_0004_0112) << 80 | 9,
                                  UInt128(0x2002) << 112, UInt128(0x0064_ff9b) << 96 | 7, UInt128(0x2001_0020) << 96]
        return IPAddress(v6: rand(3) == 0 ? special[rand(special.count)] : randomV6Value())
    }

    // MARK: - Normalisation

    func cidrTexts(_ answer: Any?) -> [String]? {
        guard let list = answer as? [String] else { return nil }
        return list.map { (try? CIDR($0))?.cidr.description ?? "unparsable:\($0)" }
    }

    func same(_ ours: [String], _ answer: Any?) -> String? {
        let theirs = cidrTexts(answer)
        return ours == theirs ? nil : "ours \(ours) netaddr \(theirs ?? [])"
    }

    func ip(_ s: String) -> IPAddress? { try? IPAddress(s) }

    // MARK: - Cases

    func buildCases() -> [Case] {
        var cases: [Case] = []
        for _ in 0..<300 {
            let list = (0..<(1 + rand(40))).map { _ in randomCIDR() }
            cases.append(Case(request: ["op": "summarize", "cidrs": list]) { a, _ in
                self.same(cidrMerge(list.map { try! CIDR($0) }).map { $0.description }, a)
            })
        }
        for _ in 0..<300 {
            let target = randomCIDR()
            let t = try! CIDR(target)
            let inner: String
            if rand(4) == 0 { inner = randomCIDR() } else {
                let extra = rand(max(1, t.version.bitWidth - t.prefixLength + 1))
                let v = t.firstValue | (t.version == .v4 ? UInt128(UInt32(truncatingIfNeeded: rng.next())) : UInt128(rng.next())) & t.hostmaskBits
                inner = "\(IPAddress(unchecked: v, t.version))/\(t.prefixLength + extra)"
            }
            cases.append(Case(request: ["op": "exclude", "target": target, "exclude": inner]) { a, _ in
                self.same(cidrExclude(t, try! CIDR(inner)).map { $0.description }, a)
            })
        }
        for _ in 0..<300 {
            let v6 = rand(3) == 0
            var x = v6 ? randomV6Value() : UInt128(UInt32(truncatingIfNeeded: rng.next()))
            var y = v6 ? x &+ UInt128(rng.next() >> UInt64(rand(64))) : UInt128(UInt32(truncatingIfNeeded: rng.next()))
            if y < x { swap(&x, &y) }
            let a = IPAddress(unchecked: x, v6 ? .v6 : .v4), b = IPAddress(unchecked: y, v6 ? .v6 : .v4)
            cases.append(Case(request: ["op": "range", "first": a.description, "last": b.description]) { ans, _ in
                self.same(try! iprangeToCIDRs(a, b).map { $0.description }, ans)
            })
        }
        for _ in 0..<200 {
            let v6 = rand(2) == 0
            // Addresses only: for networks netaddr spans the lowest network's first address to
            // the highest-sorting network's last, which can miss a wider earlier network; NetKit
            // spans every network's full extent.
            let list = (0..<(2 + rand(5))).map { _ in (try! CIDR(v6 ? randomV6CIDR() : randomV4CIDR())).ip.description }
            cases.append(Case(request: ["op": "span", "cidrs": list]) { a, _ in
                let ours = try! spanningCIDR(list.map { try! IPAddress($0) }).description
                return (a as? String).flatMap { try? CIDR($0) }?.cidr.description == ours ? nil : "ours \(ours) netaddr \(a ?? "nil")"
            })
        }
        for how in ["union", "intersection", "difference", "symdiff"] {
            for _ in 0..<100 {
                let la = (0..<rand(12)).map { _ in randomCIDR() }, lb = (0..<rand(12)).map { _ in randomCIDR() }
                cases.append(Case(request: ["op": "set", "a": la, "b": lb, "how": how]) { ans, _ in
                    let a = IPSet(la.map { try! CIDR($0) }), b = IPSet(lb.map { try! CIDR($0) })
                    let r = ["union": a | b, "intersection": a & b, "difference": a - b, "symdiff": a ^ b][how]!
                    guard let d = ans as? [String: Any] else { return "bad answer \(ans ?? "nil")" }
                    if let m = self.same(r.cidrs.map { $0.description }, d["cidrs"]) { return m }
                    if r.size.description != d["size"] as? String { return "size \(r.size) vs \(d["size"] ?? "")" }
                    if a.isSubset(of: b) != d["subset"] as? Bool { return "subset differs" }
                    if a.isDisjoint(with: b) != d["disjoint"] as? Bool { return "disjoint differs" }
                    return nil
                })
            }
        }
        for _ in 0..<400 {
            let glob = (0..<(rand(10) == 0 ? 3 : 4)).map { _ -> String in
                switch rand(6) {
                case 0, 1: return "*"
                case 2: let a = rand(256); return "\(a)-\(rand(5) == 0 ? rand(256) : min(255, a + 1 + rand(40)))"
                case 3 where rand(10) == 0: return String(256 + rand(100))
                default: return String(rand(256))
                }
            }.joined(separator: ".")
            cases.append(Case(request: ["op": "glob", "glob": glob]) { ans, _ in
                guard let d = ans as? [String: Any], let valid = d["valid"] as? Bool else { return "bad answer" }
                if validGlob(glob) != valid { return "validity ours \(validGlob(glob)) netaddr \(valid)" }
                guard valid else { return nil }
                return self.same(try! globToCIDRs(glob).map { $0.description }, d["cidrs"])
            })
        }
        for _ in 0..<300 {
            var spec: String
            if rand(4) == 0 {
                spec = "\(IPAddress(v4: UInt32(truncatingIfNeeded: rng.next())))/\(rand(8) == 0 ? [0, 33, 34, 40, 99][rand(5)] : 22 + rand(11))"
            } else {
                spec = (0..<4).map { k -> String in
                    if k < 2 || rand(3) == 0 { return String(rand(256)) }
                    return (0..<(1 + rand(3))).map { _ -> String in
                        switch rand(6) {
                        case 0: let a = rand(256); return "\(a)-\(rand(8) == 0 ? rand(256) : min(255, a + rand(6)))"
                        case 1: return "-\(rand(4))"
                        case 2: return "\(252 + rand(4))-"
                        case 3 where rand(8) == 0: return String(250 + rand(10))
                        default: return String(rand(256))
                        }
                    }.joined(separator: ",")
                }.joined(separator: ".")
            }
            cases.append(Case(request: ["op": "nmap", "spec": spec]) { ans, _ in
                guard let d = ans as? [String: Any], let valid = d["valid"] as? Bool else { return "bad answer" }
                if validNmapRange(spec) != valid { return "validity ours \(validNmapRange(spec)) netaddr \(valid)" }
                guard valid else { return nil }
                let ours = try! iterNmapRange([spec]).map { $0.description }
                let theirs = (d["addrs"] as? [String] ?? []).map { self.ip($0)?.description ?? "?" }
                return ours == theirs ? nil : "ours \(ours.count) addresses, netaddr \(theirs.count)"
            })
        }
        for _ in 0..<300 {
            let eui64 = rand(4) == 0
            let value = eui64 ? rng.next() : rng.next() >> 16
            let e = try! EUI(value, width: eui64 ? 64 : 48)
            let mac = e.format(EUIDialect.allCases[rand(EUIDialect.allCases.count)])
            let prefix = IPAddress(v6: UInt128(rng.next()) << 64)
            cases.append(Case(request: ["op": "eui", "mac": mac, "prefix": prefix.description]) { ans, _ in
                guard let d = ans as? [String: Any], let parsed = try? EUI(mac) else { return "bad answer or unparsable \(mac)" }
                if parsed.description != d["canonical"] as? String { return "canonical \(parsed) vs \(d["canonical"] ?? "")" }
                if parsed.modifiedEUI64.description != d["modified"] as? String { return "modified EUI-64 differs" }
                if parsed.eui64.description != d["eui64"] as? String { return "EUI-64 differs" }
                if parsed.width == 48 {
                    if parsed.ipv6LinkLocal != self.ip(d["linklocal"] as? String ?? "") { return "link-local differs" }
                    if (try? parsed.ipv6(prefix: prefix)) != self.ip(d["slaac"] as? String ?? "") { return "SLAAC differs" }
                }
                return nil
            })
        }
        for _ in 0..<300 {
            let a = randomAddress()
            cases.append(Case(request: ["op": "rdns", "ip": a.description]) { ans, _ in
                a.reverseDNS == ans as? String ? nil : "ours \(a.reverseDNS) netaddr \(ans ?? "nil")"
            })
        }
        let alphabet = Array("0123456789abcdefABCDEF:.:.x/ ")
        for _ in 0..<600 {
            var chars = Array(randomAddress().description)
            for _ in 0..<rand(3) {
                let k = rand(chars.count + 1)
                switch rand(3) {
                case 0 where k < chars.count: chars.remove(at: k)
                case 1 where k < chars.count: chars[k] = alphabet[rand(alphabet.count)]
                default: chars.insert(alphabet[rand(alphabet.count)], at: k)
                }
            }
            let text = String(chars)
            cases.append(Case(request: ["op": "parse", "ip": text]) { ans, err in
                let ours = try? IPAddress(text)
                if err != nil { return ours == nil ? nil : "netaddr rejects, ours accepts as \(ours!)" }
                guard let d = ans as? [String: Any], let v = d["value"] as? String else { return "bad answer" }
                guard let o = ours else { return "ours rejects, netaddr accepts \(v)" }
                return String(o.value) == v && o.version.rawValue == d["version"] as? Int ? nil : "value differs"
            })
        }
        for _ in 0..<300 {
            var text = randomCIDR()
            if rand(4) == 0, let c = try? CIDR(text), c.version == .v4 {
                text = "\(c.ip)/\(rand(2) == 0 ? c.netmask : c.hostmask)"
            }
            cases.append(Case(request: ["op": "cidr", "cidr": text]) { ans, _ in
                guard let d = ans as? [String: Any], let c = try? CIDR(text) else { return "bad answer" }
                var problems: [String] = []
                if c.network != self.ip(d["network"] as? String ?? "") { problems.append("network") }
                if c.prefixLength != d["prefix"] as? Int { problems.append("prefix") }
                if c.netmask != self.ip(d["netmask"] as? String ?? "") { problems.append("netmask") }
                if c.hostmask != self.ip(d["hostmask"] as? String ?? "") { problems.append("hostmask") }
                if c.size.description != d["size"] as? String { problems.append("size") }
                if c.broadcast?.description != (d["broadcast"] as? String).flatMap(self.ip)?.description { problems.append("broadcast") }
                return problems.isEmpty ? nil : "differs in \(problems)"
            })
        }
        for _ in 0..<600 {
            let a = randomAddress()
            cases.append(Case(request: ["op": "classify", "ip": a.description]) { ans, _ in
                guard let d = ans as? [String: Any] else { return "bad answer" }
                // Registry entries newer than netaddr 1.3 (RFC 9637, RFC 9602) are ours alone.
                let newer = (try! CIDR("3fff::/20")).contains(a) || (try! CIDR("5f00::/16")).contains(a)
                let ours: [String: Bool] = [
                    "global": a.isGlobal, "loopback": a.isLoopback, "link_local": a.isLinkLocal,
                    "multicast": a.isMulticast, "reserved": a.isReserved, "private_use": a.isIPv4PrivateUse,
                    "unique_local": a.isIPv6UniqueLocal, "mapped": a.isIPv4Mapped, "compat": a.isIPv4Compatible,
                ]
                let bad = ours.filter { $0.key != "global" || !newer }.filter { d[$0.key] as? Bool != $0.value }.map { $0.key }
                return bad.isEmpty ? nil : "differs in \(bad.sorted())"
            })
        }
        // Indexing and slicing a network (netaddr's IPNetwork[i] and [lo:hi]): indexes near
        // both ends, past them, and at the extremes of Int, on networks up to ::/0.
        func interestingIndex(_ size: UInt128) -> Int {
            switch rand(6) {
            case 0: return rand(5) - 2
            case 1: return -(1 + rand(4))
            case 2: return [Int.min, Int.max, Int.min + 1][rand(3)]
            case 3: return Int(truncatingIfNeeded: size) &+ (rand(5) - 2)
            case 4: return 0 &- Int(truncatingIfNeeded: size) &+ (rand(5) - 2)
            default: return Int(truncatingIfNeeded: rng.next() >> UInt64(rand(64)))
            }
        }
        for k in 0..<400 {
            let text = k < 4 ? ["::/0", "0.0.0.0/0", "192.0.2.7/32", "2001:db8::/64"][k] : randomCIDR()
            let n = try! CIDR(text)
            let size = n.lastValue - n.firstValue
            let indexes = (0..<6).map { _ in interestingIndex(size &+ 1) }
            cases.append(Case(request: ["op": "index", "cidr": text, "indexes": indexes]) { ans, _ in
                let ours = indexes.map { n.address(at: $0)?.description ?? "IndexError" }
                guard let theirs = ans as? [String] else { return "bad answer \(ans ?? "nil")" }
                let norm = theirs.map { $0 == "IndexError" ? $0 : (try? IPAddress($0))?.description ?? $0 }
                return ours == norm ? nil : "ours \(ours) netaddr \(norm)"
            })
            let lo: Int? = rand(4) == 0 ? nil : interestingIndex(size &+ 1)
            let hi: Int? = rand(4) == 0 ? nil : interestingIndex(size &+ 1)
            cases.append(Case(request: ["op": "slice", "cidr": text, "lo": lo.map { $0 as Any } ?? NSNull(), "hi": hi.map { $0 as Any } ?? NSNull()]) { ans, _ in
                guard let d = ans as? [String: Any] else { return "bad answer \(ans ?? "nil")" }
                let r = n.slice(lo, hi)
                if (r?.size.description ?? "0") != d["count"] as? String { return "count \(r?.size.description ?? "0") vs \(d["count"] ?? "")" }
                if let r {
                    if r.first != (d["first"] as? String).flatMap(self.ip) || r.last != (d["last"] as? String).flatMap(self.ip) {
                        return "ours \(r) netaddr \(d["first"] ?? "")-\(d["last"] ?? "")"
                    }
                }
                if let list = d["list"] as? [String] {
                    let ours = r.map { Array($0).map(\.description) } ?? []
                    if ours != list.compactMap(self.ip).map(\.description) { return "list \(ours) vs \(list)" }
                }
                return nil
            })
        }
        return cases
    }

    // MARK: - Running the oracle

    func runOracle(_ requests: [[String: Any]]) throws -> [[String: Any]] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("oracles/netaddr_oracle.py")
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("netaddr-oracle-\(getpid()).jsonl")
        var body = Data()
        for r in requests {
            body.append(try JSONSerialization.data(withJSONObject: r))
            body.append(10)
        }
        try body.write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        process.standardInput = try FileHandle(forReadingFrom: input)
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
        guard let hello = objects.first, hello["ready"] != nil else {
            let why = objects.first?["fatal"] as? String ?? "python3 oracle produced no output (exit \(process.terminationStatus))"
            throw AddressError("netaddr oracle", why + " — run: pip install netaddr")
        }
        return Array(objects.dropFirst())
    }

    func testAgainstNetaddr() throws {
        let cases = buildCases()
        let answers = try runOracle(cases.map { $0.request })
        XCTAssertEqual(answers.count, cases.count, "oracle answered \(answers.count) of \(cases.count) requests")
        var failures: [String] = []
        for (c, a) in zip(cases, answers) {
            if let problem = c.check(a["ok"], a["error"] as? String) {
                failures.append("\(c.request): \(problem)")
            }
        }
        var byOp: [String: Int] = [:]
        for f in failures { byOp[String(f.split(separator: "\"op\": \"").last?.prefix(9) ?? ""), default: 0] += 1 }
        for f in failures.prefix(25) { XCTFail(f) }
        if !failures.isEmpty { XCTFail("failures by op: \(byOp)") }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) of \(cases.count) differential cases differ from netaddr")
    }
}
