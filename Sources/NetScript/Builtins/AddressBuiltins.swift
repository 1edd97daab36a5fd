import Foundation
import NetKit

/// `ip`, `cidr`, `iprange`, `ipset`, `mac`: address arithmetic as in Python's netaddr.
enum AddressBuiltins {
    static func toIP(_ v: Value, _ what: String) throws -> IPAddress {
        switch v {
        case .native(let o as IPValue): return o.ip
        case .string(let s): return try addr { try IPAddress(s) }
        case .int(let i) where i >= 0: return i <= Int(UInt32.max) ? IPAddress(v4: UInt32(i)) : IPAddress(v6: UInt128(i))
        default: throw Diagnostic.type("\(what): needs an address (text or ip), not \(v.typeName.withArticle)")
        }
    }

    static func toCIDR(_ v: Value, _ what: String) throws -> CIDR {
        switch v {
        case .native(let o as CIDRValue): return o.cidr
        case .native(let o as IPValue): return try addr { try CIDR(o.ip.withoutZone, prefixLength: o.ip.version.bitWidth) }
        case .string(let s): return try addr { try CIDR(s) }
        default: throw Diagnostic.type("\(what): needs a network (text or cidr), not \(v.typeName.withArticle)")
        }
    }

    static func toSet(_ v: Value) throws -> IPSet {
        switch v {
        case .native(let o as IPSetValue): return o.ipset
        case .native(let o as CIDRValue): return IPSet([o.cidr])
        case .native(let o as IPRangeValue): return IPSet([o.range])
        case .native(let o as IPValue): return IPSet([o.ip])
        case .string(let s):
            if s.contains("-"), let r = try? IPRange(s) { return IPSet([r]) }
            return IPSet([try addr { try CIDR(s) }])
        case .list(let l): return try IPSet(l.items.map { try toSetPart($0) }.reduce(into: [CIDR]()) { $0 += $1 })
        default: throw Diagnostic.type("ipset: cannot make a set from \(v.typeName.withArticle)")
        }
    }

    static func toSetPart(_ v: Value) throws -> [CIDR] {
        switch v {
        case .native(let o as IPRangeValue): return o.range.cidrs
        case .native(let o as IPSetValue): return o.ipset.cidrs
        case .string(let s) where s.contains("-"): return try addr { try IPRange(s) }.cidrs
        default: return [try toCIDR(v, "ipset")]
        }
    }

    /// Many CIDRs from a list (of text or values) — the fast path for big lists of text.
    static func cidrList(_ v: Value, _ what: String, interp: Interpreter) throws -> [CIDR] {
        // `lines FILE` straight from its bytes; on any bad line the item-by-item path below
        // reports it exactly.
        if case .list(let l) = v, let lazy = l.lazyLines {
            var out: [CIDR] = []
            out.reserveCapacity(lazy.count)
            var ok = true
            lazy.forEachLine { line in
                guard let c = try? CIDR(utf8: line) else { ok = false; return false }
                out.append(c)
                return true
            }
            if ok { return out }
        }
        let items = try interp.iterateToArray(v, what: what)
        var out: [CIDR] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            do { out.append(try toCIDR(item, what)) } catch var d as Diagnostic {
                if items.count > 1 { d.message = "\(what): item \(i + 1): " + d.message }
                throw d
            }
        }
        return out
    }

    static func cidrs(_ xs: [CIDR]) -> Value { .list(xs.map { .native(CIDRValue($0)) }) }

    /// Address literals in source text: `192.0.2.1`, `10.0.0.0/8`, `2001:db8::1`, `2001:db8::/32`.
    static func register(in r: Interpreter) {
        registerIP(r)
        registerCIDR(r)
        registerRangesAndSets(r)
        registerMAC(r)
    }

    static func registerIP(_ r: Interpreter) {
        r.namespace("ip", summary: "IPv4 and IPv6 addresses: parsing, arithmetic, classification, globs and nmap target lists.")
        r.register("ip", min: 1, max: 1, options: ["version"], usage: "ip TEXT|INT [version: 6]",
                   summary: "An address from text (any usual notation, zone ids too) or an int (above 2^32-1 an IPv6 one, as netaddr); written bare as a literal too (192.0.2.1, 2001:db8::1, ::1). int a gives the int back (an IPv6 value above 2^63-1 is an overflow error: a.int is its decimal text). Fields: version int exploded reverse_dns packed is_private is_global iana special …",
                   example: "(ip \"2001:db8::1\").reverse_dns") { a in
            if case .int(let i) = a[0], let v = try a.optionNumber("version"), v == 6 {
                guard i >= 0 else { throw Diagnostic.value("ip: \(i) is negative") }
                return .native(IPValue(IPAddress(v6: UInt128(i))))
            }
            if case .int(let i) = a[0], i < 0 { throw Diagnostic.value("ip: \(i) is negative") }
            return .native(IPValue(try toIP(a[0], "ip")))
        }
        r.register("ip.valid", min: 1, max: 1, usage: "ip.valid TEXT", summary: "Whether the text is an IPv4 or IPv6 address.",
                   example: "ip.valid \"10.0.0.256\"     # false") { a in .bool(IPAddress.isValid(try a.string(0))) }
        r.register("ip.glob", min: 1, max: 1, usage: "ip.glob PATTERN", summary: "The addresses of an IPv4 glob (`192.0.2.*`, `10.0.1-3.*`), lazily; fields: cidrs range size.",
                   example: "for a in ip.glob \"192.0.2.1-3\" { print a }") { a in
            let g = try addr { try IPGlob(try a.string(0)) }
            return .native(GlobValue(g))
        }
        r.register("ip.valid_glob", min: 1, max: 1, usage: "ip.valid_glob PATTERN", summary: "Whether the text is a valid IPv4 glob.",
                   example: "ip.valid_glob \"192.0.2.*\"") { a in .bool(validGlob(try a.string(0))) }
        r.register("ip.nmap", min: 1, max: nil, usage: "ip.nmap SPEC…", summary: "The addresses of nmap target specs (`192.168.0-1.1-254`, `10.0.0.1,3,5-7`, `10.0.0.0/30`), lazily.",
                   example: "for a in ip.nmap \"192.168.0-1.1-3\" { print a }") { a in
            let specs = try (0..<a.count).map { try a.string($0) }
            let targets = try addr { try specs.map { try NmapTarget($0) } }
            let total = targets.reduce(0) { $0 &+ $1.count }
            return .native(AddressSequence("nmap", targets.joined(), size: AddressCount(UInt128(total))))
        }
        r.register("ip.valid_nmap", min: 1, max: 1, usage: "ip.valid_nmap SPEC", summary: "Whether the text is a valid nmap target spec.",
                   example: "ip.valid_nmap \"10.0.0.1-5\"") { a in .bool(validNmapRange(try a.string(0))) }
        r.register("ip.reverse", min: 1, max: 1, usage: "ip.reverse ADDRESS", summary: "The reverse-DNS name (in-addr.arpa / ip6.arpa).",
                   example: "ip.reverse \"192.0.2.1\"    # \"1.2.0.192.in-addr.arpa.\"") { a in
            .string(try toIP(a[0], "ip.reverse").reverseDNS)
        }
    }

    static func registerCIDR(_ r: Interpreter) {
        r.namespace("cidr", summary: "Networks in CIDR form: properties, subnetting, and netaddr's merge/span/exclude/range algorithms.")
        r.register("cidr", min: 1, max: 1, usage: "cidr TEXT", summary: "A network (`10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `2001:db8::/32`; bare literals 10.0.0.0/8 and 2001:db8::/32 too); fields: network broadcast netmask hostmask prefixlen size first last first_host last_host hosts glob. n[i] is an address (n[-1] the last; past the ends an index error), n[lo:hi] a list of addresses (at most 2^24; more is a value error — walk n with for).",
                   example: "n = cidr \"192.168.7.0/22\"; print n.network n.broadcast n.netmask n.size n[1] n[-1] n[0:2]") { a in
            .native(CIDRValue(try toCIDR(a[0], "cidr")))
        }
        r.register("cidr.valid", min: 1, max: 1, usage: "cidr.valid TEXT", summary: "Whether the text is a valid network.",
                   example: "cidr.valid \"10.0.0.0/33\"   # false") { a in .bool(CIDR.isValid(try a.string(0))) }
        let summarize: (Args) throws -> Value = { a in cidrs(cidrMerge(try cidrList(a[0], "cidr summarize", interp: a.interp))) }
        r.register("cidr.summarize", min: 1, max: 1, usage: "cidr summarize LIST", summary: "Merges and collapses networks and addresses into the fewest CIDRs (netaddr's cidr_merge); IPv4 and IPv6 mixed, IPv4 first.",
                   example: "cidr summarize [\"10.0.0.0/24\", \"10.0.1.0/24\", \"10.0.3.0/24\"]   # [10.0.0.0/23, 10.0.3.0/24]", summarize)
        r.register("cidr.merge", min: 1, max: 1, usage: "cidr merge LIST", summary: "The same as cidr summarize (netaddr's name).",
                   example: "cidr merge nets", summarize)
        r.register("cidr.span", min: 1, max: 1, usage: "cidr span LIST", summary: "The smallest single network covering every network and address given.",
                   example: "cidr span [\"192.0.2.1\", \"192.0.2.200\"]   # 192.0.2.0/24") { a in
            .native(CIDRValue(try addr { try spanningCIDR(try cidrList(a[0], "cidr span", interp: a.interp)) }))
        }
        r.register("cidr.exclude", min: 2, max: 2, usage: "cidr exclude NET SUB", summary: "NET without SUB, as the fewest CIDRs (netaddr's cidr_exclude).",
                   example: "cidr exclude \"10.0.0.0/8\" \"10.1.2.0/24\"") { a in
            cidrs(cidrExclude(try toCIDR(a[0], "cidr exclude"), try toCIDR(a[1], "cidr exclude")))
        }
        r.register("cidr.range", min: 2, max: 2, usage: "cidr range FIRST LAST", summary: "The fewest CIDRs covering the addresses FIRST..LAST (netaddr's iprange_to_cidrs).",
                   example: "cidr range \"10.0.0.1\" \"10.0.0.50\"") { a in
            cidrs(try addr { try iprangeToCIDRs(try toIP(a[0], "cidr range"), try toIP(a[1], "cidr range")) })
        }
        r.register("cidr.subnet", min: 2, max: 2, usage: "cidr subnet NET PREFIXLEN", summary: "NET split into networks of PREFIXLEN, lazily (a /8 into /32s costs nothing until walked).",
                   example: "for s in cidr subnet \"10.0.0.0/22\" 24 { print s }") { a in
            let net = try toCIDR(a[0], "cidr subnet")
            return .native(SubnetSequence(try addr { try net.subnets(prefixLength: try a.int(1)) }))
        }
        r.register("cidr.supernet", min: 2, max: 2, usage: "cidr supernet NET PREFIXLEN", summary: "The network of PREFIXLEN that contains NET.",
                   example: "cidr supernet \"10.1.2.0/24\" 16   # 10.1.0.0/16") { a in
            let net = try toCIDR(a[0], "cidr supernet")
            return .native(CIDRValue(try addr { try net.supernet(prefixLength: try a.int(1)) }))
        }
        r.register("cidr.hosts", min: 1, max: 1, usage: "cidr hosts NET", summary: "The usable host addresses of NET, lazily (no network or broadcast address for IPv4 below /31).",
                   example: "for h in cidr hosts \"192.0.2.0/30\" { print h }") { a in
            .native(AddressSequence("hosts", try toCIDR(a[0], "cidr hosts").hosts))
        }
        r.register("cidr.glob", min: 1, max: 1, usage: "cidr glob NET", summary: "An IPv4 network as a glob pattern.",
                   example: "cidr glob \"192.0.2.0/24\"   # \"192.0.2.*\"") { a in
            .string(try addr { try cidrToGlob(try toCIDR(a[0], "cidr glob")) })
        }
        r.register("cidr.load", min: 1, max: 1, usage: "cidr load FILE", summary: "Reads networks from a file, one a line (blank lines and # comments skipped) — fast for millions of lines.",
                   example: "nets = cidr load \"prefixes.txt\"") { a in
            let path = try a.string(0)
            let data = try CoreBuiltins.readData(path)
            let parsed = try addr { try data.withUnsafeBytes { raw in try parseCIDRLines(bytes: raw.bindMemory(to: UInt8.self)) } }
            return cidrs(parsed)
        }
    }

    static func registerRangesAndSets(_ r: Interpreter) {
        r.namespace("iprange", summary: "Arbitrary address ranges (`10.0.0.1-10.0.0.50`).")
        r.register("iprange", min: 1, max: 2, usage: "iprange \"FIRST-LAST\"  |  iprange FIRST LAST", summary: "An address range; fields: first last size cidrs; iterates its addresses lazily; r[i] and r[lo:hi] index it as a network.",
                   example: "(iprange \"10.0.0.1-10.0.0.50\").cidrs") { a in
            if a.count == 2 { return .native(IPRangeValue(try addr { try IPRange(try toIP(a[0], "iprange"), try toIP(a[1], "iprange")) })) }
            switch a[0] {
            case .native(let c as CIDRValue): return .native(IPRangeValue(IPRange(c.cidr)))
            default: return .native(IPRangeValue(try addr { try IPRange(try a.string(0)) }))
            }
        }
        r.register("iprange.globs", min: 1, max: 1, usage: "iprange.globs RANGE", summary: "An IPv4 range as the fewest glob patterns.",
                   example: "iprange.globs \"192.0.2.0-192.0.3.255\"") { a in
            let range: IPRange
            if case .native(let x as IPRangeValue) = a[0] { range = x.range } else { range = try addr { try IPRange(try a.string(0)) } }
            return .list(try addr { try iprangeToGlobs(range.first, range.last) }.map { .string($0) })
        }

        r.namespace("ipset", summary: "Sets of addresses: union (+), difference (-), intersection (&), symmetric difference (^), membership (in).")
        r.register("ipset", min: 0, max: 1, usage: "ipset [LIST]", summary: "A set of networks, ranges and addresses; iterates as its minimal list of CIDRs; fields: size cidrs ranges contiguous.",
                   example: "s = ipset [\"10.0.0.0/24\", \"10.0.1.0/24\"]; print s.cidrs") { a in
            a.count == 0 ? .native(IPSetValue(IPSet())) : .native(IPSetValue(try toSet(a[0])))
        }
        r.register("ipset.add", min: 2, max: 2, usage: "ipset.add SET NET", summary: "Adds a network, range or address to the set (in place); returns the set.",
                   example: "ipset.add s \"192.0.2.0/24\"") { a in
            guard case .native(let s as IPSetValue) = a[0] else { throw Diagnostic.type("ipset.add: needs an ipset, not \(a[0].typeName.withArticle)") }
            s.ipset = s.ipset.union(try toSet(a[1]))
            return a[0]
        }
        r.register("ipset.remove", min: 2, max: 2, usage: "ipset.remove SET NET", summary: "Removes a network, range or address from the set (in place); returns the set.",
                   example: "ipset.remove s \"192.0.2.128/25\"") { a in
            guard case .native(let s as IPSetValue) = a[0] else { throw Diagnostic.type("ipset.remove: needs an ipset, not \(a[0].typeName.withArticle)") }
            s.ipset = s.ipset.subtracting(try toSet(a[1]))
            return a[0]
        }
        for (name, op, summary) in [("union", "+", "Addresses in either."), ("intersection", "&", "Addresses in both."),
                                    ("difference", "-", "Addresses in the first but not the second."),
                                    ("symmetric_difference", "^", "Addresses in exactly one.")] {
            r.register("ipset.\(name)", min: 2, max: 2, usage: "ipset.\(name) A B", summary: summary + " (the same as A \(op) B)",
                       example: "ipset.\(name) a b") { a in
                try IPSetValue.setOperation(op, try toSet(a[0]), a[1]) ?? .nil
            }
        }
        r.register("ipset.disjoint", min: 2, max: 2, usage: "ipset.disjoint A B", summary: "Whether the two sets share no address.",
                   example: "ipset.disjoint a b") { a in .bool(try toSet(a[0]).isDisjoint(with: try toSet(a[1]))) }
        r.register("ipset.subset", min: 2, max: 2, usage: "ipset.subset A B", summary: "Whether every address of A is in B.",
                   example: "ipset.subset a b") { a in .bool(try toSet(a[0]).isSubset(of: try toSet(a[1]))) }
        r.register("ipset.load", min: 1, max: 1, usage: "ipset.load FILE", summary: "A set from a file of networks, one a line (fast for millions of lines).",
                   example: "blocked = ipset.load \"blocklist.txt\"") { a in
            let data = try CoreBuiltins.readData(try a.string(0))
            let parsed = try addr { try data.withUnsafeBytes { raw in try parseCIDRLines(bytes: raw.bindMemory(to: UInt8.self)) } }
            return .native(IPSetValue(IPSet(parsed)))
        }
    }

    static func registerMAC(_ r: Interpreter) {
        r.namespace("mac", summary: "MAC addresses (EUI-48 and EUI-64): every notation, OUI and organisation (Debian's ieee-data), EUI-64 and IPv6 derivation.")
        r.register("mac", min: 1, max: 1, usage: "mac TEXT", summary: "A MAC/EUI from colon, dash, Cisco-dot, bare-hex or Unix notation; fields: oui ei org is_local is_multicast eui64 modified_eui64 ipv6_link_local, and the dialects eui48 unix unix_expanded cisco bare pgsql.",
                   example: "(mac \"00-1B-77-49-54-FD\").ipv6_link_local   # fe80::21b:77ff:fe49:54fd") { a in
            switch a[0] {
            case .native(let e as EUIValue): return .native(e)
            case .int(let i) where i >= 0: return .native(EUIValue(try addr { try EUI(UInt64(i), width: i > 0xFFFF_FFFF_FFFF ? 64 : 48) }))
            default: return .native(EUIValue(try addr { try EUI(try a.string(0)) }))
            }
        }
        r.register("mac.valid", min: 1, max: 1, usage: "mac.valid TEXT", summary: "Whether the text is a MAC/EUI in any known notation.",
                   example: "mac.valid \"00:1b:77:49:54:fd\"") { a in .bool(EUI.isValid(try a.string(0))) }
        r.register("mac.format", min: 2, max: 2, usage: "mac.format MAC DIALECT", summary: "The MAC written in a dialect: " + EUIDialect.allCases.map(\.scriptName).joined(separator: ", ") + ".",
                   example: "mac.format \"00:1b:77:49:54:fd\" \"cisco\"   # \"001b.7749.54fd\"") { a in
            let e = try eui(a[0])
            guard let d = EUIDialect(scriptName: try a.string(1)) else {
                throw Diagnostic.value("mac.format: unknown dialect \(try a.string(1)) (\(EUIDialect.allCases.map(\.scriptName).joined(separator: ", ")))")
            }
            return .string(e.format(d))
        }
        r.register("mac.ipv6", min: 2, max: 2, usage: "mac.ipv6 MAC PREFIX", summary: "The SLAAC address a host with this MAC takes in an IPv6 /64 (modified EUI-64).",
                   example: "mac.ipv6 \"00:1b:77:49:54:fd\" \"2001:db8::/64\"") { a in
            let e = try eui(a[0])
            if case .native(let ipv as IPValue) = a[1] { return .native(IPValue(try addr { try e.ipv6(prefix: ipv.ip) })) }
            return .native(IPValue(try addr { try e.ipv6(network: try toCIDR(a[1], "mac.ipv6")) }))
        }
        r.register("mac.lookup", min: 1, max: 1, usage: "mac.lookup MAC", summary: "The IEEE registration (MA-L, MA-M, MA-S or IAB) of the MAC's block, longest match first; nil when unassigned.",
                   example: "(mac.lookup \"00:1b:77:49:54:fd\").organization") { a in
            try EUIValue(try eui(a[0])).field("registration") ?? .nil
        }
    }

    static func eui(_ v: Value) throws -> EUI {
        switch v {
        case .native(let e as EUIValue): return e.eui
        case .string(let s): return try addr { try EUI(s) }
        default: throw Diagnostic.type("mac: needs a MAC address, not \(v.typeName.withArticle)")
        }
    }
}

/// `ip.glob "192.0.2.*"`: its addresses lazily, plus the range and CIDRs it stands for.
final class GlobValue: NativeObject {
    let glob: IPGlob
    init(_ g: IPGlob) { glob = g }
    override var typeName: String { "glob" }
    override var description: String { glob.description }
    override var count: Int? { glob.size.intValue }
    override var fieldNames: [String] { ["cidrs", "range", "size"] }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "cidrs": return AddressBuiltins.cidrs(glob.cidrs)
        case "range": return .native(IPRangeValue(glob.range))
        case "size": return countValue(glob.size)
        default: return nil
        }
    }
    override func makeIterator() -> (() throws -> Value?)? {
        var it = glob.makeIterator()
        return { it.next().map { .native(IPValue($0)) } }
    }
    override func index(_ key: Value) throws -> Value? { try indexAddresses(glob.range, key, glob.description) }
    override func slice(_ lo: Value, _ hi: Value) throws -> Value? { try sliceAddresses(glob.range, lo, hi, glob.description) }
    override func contains(_ value: Value) throws -> Bool? {
        guard case .native(let ip as IPValue) = value else { return try glob.contains(AddressBuiltins.toIP(value, "in")) }
        return glob.contains(ip.ip)
    }
}
