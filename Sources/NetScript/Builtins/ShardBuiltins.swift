import Foundation

/// `shard` and `emit`: running one script over a list too large for one process, as N
/// processes (GNU parallel, a Kubernetes Indexed Job), each keeping its own share and writing
/// JSON Lines that concatenate.
enum ShardBuiltins {
    /// Shard K of N (K from 1), from `--shard K/N` (which the front end passes as
    /// NETSCRIPT_SHARD), NETSCRIPT_SHARD=K/N, or JOB_COMPLETION_INDEX (from 0) with
    /// NETSCRIPT_SHARDS=N; 1 of 1 when none is set.
    static func configured(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> (k: Int, n: Int) {
        if let s = env["NETSCRIPT_SHARD"], !s.isEmpty { return try parse(s, from: "NETSCRIPT_SHARD") }
        if let idx = env["JOB_COMPLETION_INDEX"], !idx.isEmpty {
            guard let i = Int(idx), i >= 0 else { throw Diagnostic.value("shard: JOB_COMPLETION_INDEX must be a number from 0, not \"\(idx)\"") }
            guard let ns = env["NETSCRIPT_SHARDS"], let n = Int(ns), n >= 1 else {
                throw Diagnostic.value("shard: JOB_COMPLETION_INDEX is set but NETSCRIPT_SHARDS (the job's completions) is not a number from 1")
            }
            guard i < n else { throw Diagnostic.value("shard: JOB_COMPLETION_INDEX \(i) is not below NETSCRIPT_SHARDS \(n)") }
            return (i + 1, n)
        }
        return (1, 1)
    }

    static func parse(_ s: String, from: String) throws -> (k: Int, n: Int) {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 1, k <= n else {
            throw Diagnostic.value("shard: \(from) must be K/N with 1 <= K <= N (like 2/4), not \"\(s)\"")
        }
        return (k, n)
    }

    /// A hash that is the same in every process and run (Swift's Hasher is seeded per
    /// process): FNV-1a over the item's text, a string as itself, anything else as its JSON
    /// (or its printed form), tagged with its type.
    static func stableHash(_ v: Value) -> UInt64 {
        let text: String
        switch v {
        case .string(let s): text = "s:" + s
        case .int(let i): text = "i:\(i)"
        default: text = v.typeName + ":" + ((try? JSON.encode(v)) ?? Value.repr(v))
        }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        // FNV's low bits mix poorly for short keys: finish with a murmur-style avalanche.
        h ^= h >> 33; h = h &* 0xff51_afd7_ed55_8ccd; h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53; h ^= h >> 33
        return h
    }

    static func register(in r: Interpreter) {
        r.register("shard", min: 1, max: 1, options: ["of"],
                   usage: "shard ITEMS [of: \"K/N\"]",
                   summary: "This process's share of ITEMS (in their order): shard K of N from `netscript --shard K/N`, NETSCRIPT_SHARD=K/N, or a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (from 0) with NETSCRIPT_SHARDS=N; all of ITEMS when none is set. An item goes to the shard its stable hash names, the same in every process and run: the N shards are disjoint and together hold every item.",
                   example: "for h in shard (lines \"hosts.txt\") { emit {host: h, up: true} }") { a in
            let (k, n) = try a.optionString("of").map { try parse($0, from: "of:") } ?? configured()
            let items = try a.interp.iterateToArray(a[0], what: "shard")
            if n == 1 { return .list(items) }
            return .list(items.filter { stableHash($0) % UInt64(n) == UInt64(k - 1) })
        }
        r.register("emit", min: 1, max: 1,
                   usage: "emit VALUE",
                   summary: "Writes VALUE as one line of JSON to standard output (JSON Lines): shards' outputs concatenate, and jq, pandas or a database load them directly.",
                   example: "emit {host: \"127.0.0.1\", port: 25, banner: b}") { a in
            a.interp.output.write(try JSON.encode(a[0]), newline: true)
            return .nil
        }
    }
}
