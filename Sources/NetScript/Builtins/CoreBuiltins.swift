import Foundation
import NetKit

/// The language's own commands: output, conversion, collections, bytes and hex, files, time.
/// Builtins/Library.swift lists every family and registers them.
enum CoreBuiltins {
    static func registerBasics(_ r: Interpreter) {
        r.register("print", min: 0, max: nil, options: ["sep", "end"], usage: "print VALUE… [sep: \" \"] [end: \"\\n\"]",
                   summary: "Writes values to standard output, separated by spaces, then a newline.",
                   example: "print \"x =\" 42          # x = 42",
                   unary: { v, interp in interp.output.write(v.displayString, newline: true); return .nil }) { a in
            let sep = try a.optionString("sep") ?? " "
            let end = try a.optionString("end") ?? "\n"
            a.interp.output.write(a.positional.map { $0.displayString }.joined(separator: sep) + end)
            return .nil
        }
        r.register("len", min: 1, max: 1, usage: "len VALUE", summary: "The number of items in a list, map, range or set, characters in a string, or bytes in bytes.",
                   example: "len [1, 2, 3]            # 3", unary: { v, _ in
            switch v {
            case .string(let s): return .int(s.unicodeScalars.count)
            case .bytes(let b): return .int(b.count)
            case .list(let l): return .int(l.count)
            case .map(let m): return .int(m.dict.count)
            case .native(let n):
                if let c = n.count { return .int(c) }
                if let c = n.itemCount { throw Diagnostic("overflow", "len: \(n.typeName.withArticle) of \(c.text) items is longer than the largest int") }
                if let names = n.entryNames { return .int(names.count) }
            default: break
            }
            throw Diagnostic.type("len: \(v.typeName.withArticle) has no length")
        })
        r.register("type", min: 1, max: 1, usage: "type VALUE", summary: "The name of a value's type: nil, bool, int, float, string, bytes, list, map, function, or a native type such as cidr.",
                   example: "type 1.5                 # \"float\"",
                   unary: { v, _ in .string(v.typeName) })
        r.register("repr", min: 1, max: 1, usage: "repr VALUE", summary: "The value as it would be written in the language (strings quoted).",
                   example: "repr \"a\\n\"               # \"\\\"a\\\\n\\\"\"") { a in .string(Value.repr(a[0])) }
        r.register("str", min: 1, max: 1, usage: "str VALUE", summary: "Converts a value to its text form (the same text print writes).",
                   example: "str 42 + \"!\"             # \"42!\"",
                   unary: { v, _ in .string(v.displayString) })
        r.register("int", min: 1, max: 1, options: ["base"], usage: "int VALUE [base: N]", summary: "Converts a string, float, bool, ip or mac to an int. Strings may use base: 2–36 (or a 0x/0b/0o prefix). An IPv6 address above 2^63-1 is an overflow error: its .int field gives the decimal text.",
                   example: "int \"ff\" base: 16        # 255") { a in
            switch a[0] {
            case .int: return a[0]
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let d):
                guard d.isFinite, abs(d) < 9.223372036854775e18 else { throw Diagnostic.value("int: \(Value.formatFloat(d)) does not fit in an int") }
                return .int(Int(d))
            case .string(let s0):
                var s = s0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
                var base = try a.optionInt("base") ?? 10
                guard (2...36).contains(base) else { throw Diagnostic.value("int: base must be 2 to 36, not \(base)") }
                var neg = false
                if s.hasPrefix("-") { neg = true; s.removeFirst() } else if s.hasPrefix("+") { s.removeFirst() }
                let lower = s.lowercased()
                if a.option("base") == nil {
                    if lower.hasPrefix("0x") { base = 16; s.removeFirst(2) }
                    else if lower.hasPrefix("0b") { base = 2; s.removeFirst(2) }
                    else if lower.hasPrefix("0o") { base = 8; s.removeFirst(2) }
                }
                guard let v = Int(neg ? "-" + s : s, radix: base) else {
                    throw Diagnostic.value("int: \(Value.quote(s0)) is not an integer" + (base != 10 ? " in base \(base)" : ""))
                }
                return .int(v)
            case .native(let n):
                if let v = try n.intValue() { return .int(v) }
                throw Diagnostic.type("int: cannot convert \(a[0].typeName.withArticle) to an int")
            default: throw Diagnostic.type("int: cannot convert \(a[0].typeName.withArticle) to an int")
            }
        }
        r.register("float", min: 1, max: 1, usage: "float VALUE", summary: "Converts an int or a string to a float.",
                   example: "float \"2.5\"              # 2.5") { a in
            switch a[0] {
            case .float: return a[0]
            case .int(let i): return .float(Double(i))
            case .bool(let b): return .float(b ? 1 : 0)
            case .string(let s):
                let t = s.trimmingCharacters(in: .whitespaces)
                if let d = Double(t) { return .float(d) }
                switch t.lowercased() {
                case "inf", "+inf", "infinity": return .float(.infinity)
                case "-inf", "-infinity": return .float(-.infinity)
                case "nan": return .float(.nan)
                default: throw Diagnostic.value("float: \(Value.quote(s)) is not a number")
                }
            default: throw Diagnostic.type("float: cannot convert \(a[0].typeName.withArticle) to a float")
            }
        }
        r.register("bool", min: 1, max: 1, usage: "bool VALUE", summary: "Whether a value is true: nil, false, 0, empty strings and empty collections are false.",
                   example: "bool []                  # false") { a in .bool(a[0].isTruthy) }
        r.register("fail", min: 1, max: 1, options: ["kind"], usage: "fail MESSAGE [kind: \"name\"]  |  fail ERROR",
                   summary: "Raises an error (kind \"fail\" unless given); `fail e` re-raises a caught error.",
                   example: "try { fail \"boom\" } catch e { print e.message }   # boom") { a in
            if case .native(let e as ErrorObject) = a[0] { throw e.diagnostic }
            let kind = try a.optionString("kind") ?? "fail"
            throw Diagnostic(kind, a[0].displayString)
        }
        r.register("assert", min: 1, max: 2, usage: "assert CONDITION [MESSAGE]",
                   summary: "Raises an error of kind \"assert\" when the condition is false.",
                   example: "assert ((len xs) > 0) \"no items\"") { a in
            if !a[0].isTruthy {
                throw Diagnostic("assert", a.count > 1 ? a[1].displayString : "assertion failed")
            }
            return .nil
        }
        r.register("abs", min: 1, max: 1, usage: "abs NUMBER", summary: "The absolute value.", example: "abs -3                   # 3") { a in
            switch a[0] {
            case .int(let i):
                guard i != Int.min else { throw Diagnostic("overflow", "integer overflow: abs(\(i))") }
                return .int(abs(i))
            case .float(let d): return .float(abs(d))
            default: throw Diagnostic.type("abs: needs a number, not \(a[0].typeName.withArticle)")
            }
        }
        r.register("round", min: 1, max: 2, usage: "round NUMBER [DIGITS]", summary: "Rounds half to even; with DIGITS, to that many decimals (a float).",
                   example: "round 2.675 2            # 2.67") { a in
            let d = try a.number(0)
            if a.count > 1 {
                let p = Foundation.pow(10.0, Double(try a.int(1)))
                return .float((d * p).rounded(.toNearestOrEven) / p)
            }
            let r = d.rounded(.toNearestOrEven)
            guard r.isFinite, abs(r) < 9.2e18 else { throw Diagnostic.value("round: \(Value.formatFloat(d)) does not fit in an int") }
            return .int(Int(r))
        }
    }

    static func notMapLike(_ name: String, _ v: Value) -> Diagnostic {
        Diagnostic.type("\(name): needs a map or a record, not \(v.typeName.withArticle)")
    }

    static func registerCollections(_ r: Interpreter) {
        r.register("range", min: 1, max: 3, usage: "range [START] STOP [STEP]", summary: "The ints from START (default 0) up to but not including STOP; lazy, so huge ranges cost nothing.",
                   example: "for i in range 1 4 { print i }   # 1 2 3") { a in
            let start = a.count > 1 ? try a.int(0) : 0
            let stop = a.count > 1 ? try a.int(1) : try a.int(0)
            let step = a.count > 2 ? try a.int(2) : 1
            guard step != 0 else { throw Diagnostic.value("range: step must not be 0") }
            return .native(RangeObject(start, stop, step))
        }
        r.register("list", min: 0, max: 1, usage: "list [ITERABLE]", summary: "Makes a new list from anything iterable (a range, a string, a map's keys, a set); more than 30 million items is an error of kind memory.",
                   example: "list (range 3)           # [0, 1, 2]") { a in
            a.count == 0 ? .list([]) : .list(try a.interp.iterateToArray(a[0], what: "list"))
        }
        r.register("keys", min: 1, max: 1, usage: "keys MAP", summary: "A map's keys, in insertion order; for a record (headers, a response, a DNS record, an error…) its field names.", example: "keys {a: 1, b: 2}        # [\"a\", \"b\"]") { a in
            if case .map(let m) = a[0] { return .list(Array(m.dict.keys)) }
            guard case .native(let n) = a[0], let names = n.entryNames else { throw notMapLike("keys", a[0]) }
            return .list(names.map { .string($0) })
        }
        r.register("values", min: 1, max: 1, usage: "values MAP", summary: "A map's values, in insertion order; for a record its fields' values.", example: "values {a: 1, b: 2}      # [1, 2]") { a in
            if case .map(let m) = a[0] { return .list(Array(m.dict.values)) }
            guard case .native(let n) = a[0], let pairs = try n.entryPairs() else { throw notMapLike("values", a[0]) }
            return .list(pairs.map { $0.1 })
        }
        r.register("items", min: 1, max: 1, usage: "items MAP", summary: "A map's [key, value] pairs, in order; for a record its [field, value] pairs.", example: "for k, v in items m { print k v }") { a in
            if case .map(let m) = a[0] { return .list(m.dict.map { .list([$0.key, $0.value]) }) }
            guard case .native(let n) = a[0], let pairs = try n.entryPairs() else { throw notMapLike("items", a[0]) }
            return .list(pairs.map { .list([.string($0.0), $0.1]) })
        }
        r.register("fields", min: 1, max: 1, usage: "fields VALUE", summary: "The field names of a native value (or a map's keys): what you can write after a dot.",
                   example: "fields (cidr \"10.0.0.0/8\")") { a in
            switch a[0] {
            case .native(let n): return .list(n.fieldNames.map { .string($0) })
            case .map(let m): return .list(Array(m.dict.keys))
            case .function(let ns as Namespace): return .list(ns.members.keys.map { .string($0) })
            default: return .list([])
            }
        }
        r.register("sort", min: 1, max: 1, options: ["key", "reverse"], usage: "sort ITEMS [key: FN] [reverse: true]",
                   summary: "A new sorted list (stable). key: computes the value to compare by. At most 30 million items (else an error of kind memory).",
                   example: "sort [\"bb\", \"a\"] key: len   # [\"a\", \"bb\"]") { a in
            var items = try a.list(0)
            let reverse = a.optionBool("reverse") ?? false
            var keys = items
            if let key = a.option("key") { keys = try items.map { try a.interp.call(key, [$0]) } }
            var idx = Array(items.indices)
            var failure: Diagnostic? = nil
            idx.sort { x, y in
                if failure != nil { return false }
                guard let c = Value.compare(keys[x], keys[y]) else {
                    failure = Diagnostic.type("sort: cannot compare \(keys[x].typeName.withArticle) with \(keys[y].typeName.withArticle)")
                    return false
                }
                return c != 0 ? (reverse ? c > 0 : c < 0) : x < y
            }
            if let failure { throw failure }
            items = idx.map { items[$0] }
            return .list(items)
        }
        r.register("reverse", min: 1, max: 1, usage: "reverse ITEMS", summary: "A new list (or string) in reverse order (at most 30 million items).", example: "reverse [1, 2, 3]        # [3, 2, 1]") { a in
            if case .string(let s) = a[0] { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .list(Array(try a.list(0).reversed()))
        }
        r.register("map", min: 2, max: 2, usage: "map FN ITEMS", summary: "Applies FN to each item, giving a new list.",
                   example: "map fn(x) { x * 2 } [1, 2, 3]   # [2, 4, 6]") { a in
            var out: [Value] = []
            try Limits.checkItems(of: a[1], what: "map")
            try a.interp.iterate(a[1], what: "map") { x in out.append(try a.interp.call(a[0], [x])); return true }
            return .list(out)
        }
        r.register("filter", min: 2, max: 2, usage: "filter FN ITEMS", summary: "The items for which FN returns a true value.",
                   example: "filter fn(x) { x > 1 } [1, 2, 3]   # [2, 3]") { a in
            var out: [Value] = []
            try a.interp.iterate(a[1], what: "filter") { x in
                if try a.interp.call(a[0], [x]).isTruthy {
                    if out.count >= Limits.maxItems { throw Limits.tooManyItems("filter", nil) }
                    out.append(x)
                }
                return true
            }
            return .list(out)
        }
        r.register("reduce", min: 2, max: 3, usage: "reduce FN ITEMS [INITIAL]", summary: "Folds the items with FN(accumulator, item).",
                   example: "reduce fn(a, b) { a + b } [1, 2, 3]   # 6") { a in
            var acc: Value? = a.count > 2 ? a[2] : nil
            try a.interp.iterate(a[1], what: "reduce") { x in
                acc = acc == nil ? x : try a.interp.call(a[0], [acc!, x]); return true
            }
            guard let acc else { throw Diagnostic.value("reduce: empty list and no initial value") }
            return acc
        }
        r.register("sum", min: 1, max: 1, usage: "sum ITEMS", summary: "The sum of numbers.", example: "sum [1, 2, 3]            # 6") { a in
            var acc: Value = .int(0)
            try a.interp.iterate(a[0], what: "sum") { x in acc = try Ops.add(acc, x); return true }
            return acc
        }
        for (name, want) in [("min", -1), ("max", 1)] {
            r.register(name, min: 1, max: nil, options: ["key"], usage: "\(name) ITEMS  |  \(name) A B…", summary: "The \(name == "min" ? "smallest" : "largest") item.",
                       example: "\(name) [3, 1, 2]            # \(name == "min" ? 1 : 3)") { a in
                let items = a.count == 1 ? try a.list(0) : a.positional
                guard var best = items.first else { throw Diagnostic.value("\(name): no items") }
                let key = a.option("key")
                var bestKey = try key.map { try a.interp.call($0, [best]) } ?? best
                for x in items.dropFirst() {
                    let k = try key.map { try a.interp.call($0, [x]) } ?? x
                    guard let c = Value.compare(k, bestKey) else { throw Diagnostic.type("\(name): cannot compare \(k.typeName.withArticle) with \(bestKey.typeName.withArticle)") }
                    if c == want { best = x; bestKey = k }
                }
                return best
            }
        }
        r.register("any", min: 1, max: 1, usage: "any ITEMS", summary: "Whether any item is true.", example: "any [false, 1]           # true") { a in
            var r = false
            try a.interp.iterate(a[0], what: "any") { x in if x.isTruthy { r = true; return false }; return true }
            return .bool(r)
        }
        r.register("all", min: 1, max: 1, usage: "all ITEMS", summary: "Whether every item is true.", example: "all [1, true]            # true") { a in
            var r = true
            try a.interp.iterate(a[0], what: "all") { x in if !x.isTruthy { r = false; return false }; return true }
            return .bool(r)
        }
        r.register("enumerate", min: 1, max: 1, options: ["start"], usage: "enumerate ITEMS [start: 0]", summary: "[index, item] pairs.",
                   example: "for i, x in enumerate [\"a\", \"b\"] { print i x }") { a in
            var next: Int? = try a.optionInt("start") ?? 0
            var out: [Value] = []
            try Limits.checkItems(of: a[0], what: "enumerate")
            try a.interp.iterate(a[0], what: "enumerate") { x in
                guard let i = next else { throw Diagnostic("overflow", "enumerate: the index passed the largest int") }
                out.append(.list([.int(i), x])); next = i == Int.max ? nil : i + 1; return true
            }
            return .list(out)
        }
        r.register("zip", min: 2, max: nil, usage: "zip A B…", summary: "Lists of items taken in step from each list, as long as the shortest.",
                   example: "zip [1, 2] [\"a\", \"b\"]     # [[1, \"a\"], [2, \"b\"]]") { a in
            let lists = try (0..<a.count).map { try a.list($0) }
            let n = lists.map(\.count).min() ?? 0
            return .list((0..<n).map { i in .list(lists.map { $0[i] }) })
        }
        r.register("append", min: 2, max: 2, usage: "append LIST VALUE", summary: "Adds a value to the end of a list (in place) and returns the list.",
                   example: "append xs 4") { a in
            guard case .list(let l) = a[0] else { throw Diagnostic.type("append: needs a list, not \(a[0].typeName.withArticle)") }
            l.items.append(a[1])
            return a[0]
        }
        r.register("pop", min: 1, max: 2, usage: "pop LIST [INDEX]  |  pop MAP KEY", summary: "Removes and returns the last item (or the one at INDEX, or a map's KEY).",
                   example: "pop xs") { a in
            switch a[0] {
            case .list(let l):
                guard !l.items.isEmpty else { throw Diagnostic("index", "pop: the list is empty") }
                let i = a.count > 1 ? try Interpreter.normalizeIndex(try a.int(1), l.items.count, "list") : l.items.count - 1
                return l.items.remove(at: i)
            case .map(let m):
                guard a.count > 1 else { throw Diagnostic.type("pop: a map needs a KEY") }
                guard let v = m.dict.removeValue(forKey: a[1]) else { throw Diagnostic("key", "pop: map has no key \(Value.repr(a[1]))") }
                return v
            default: throw Diagnostic.type("pop: needs a list or a map, not \(a[0].typeName.withArticle)")
            }
        }
        r.register("remove", min: 2, max: 2, usage: "remove MAP KEY  |  remove LIST VALUE", summary: "Deletes a map key, or the first equal item of a list; true when something was removed.",
                   example: "remove m \"a\"") { a in
            switch a[0] {
            case .map(let m): return .bool(m.dict.removeValue(forKey: a[1]) != nil)
            case .list(let l):
                if let i = l.items.firstIndex(of: a[1]) { l.items.remove(at: i); return .bool(true) }
                return .bool(false)
            default: throw Diagnostic.type("remove: needs a map or a list, not \(a[0].typeName.withArticle)")
            }
        }
        r.register("unique", min: 1, max: 1, usage: "unique ITEMS", summary: "The items without repeats, first occurrence kept.", example: "unique [1, 2, 1]         # [1, 2]") { a in
            var seen = Set<Value>()
            var out: [Value] = []
            try a.interp.iterate(a[0], what: "unique") { x in
                if seen.insert(x).inserted {
                    if out.count >= Limits.maxItems { throw Limits.tooManyItems("unique", nil) }
                    out.append(x)
                }
                return true
            }
            return .list(out)
        }
    }

    static func registerData(_ r: Interpreter) {
        r.register("hex", min: 1, max: 1, usage: "hex VALUE", summary: "Hex text of an int (0x…), or of bytes / a string's UTF-8 (two digits a byte).",
                   example: "hex 255                  # \"0xff\"") { a in
            switch a[0] {
            case .int(let i): return .string((i < 0 ? "-0x" : "0x") + String(i.magnitude, radix: 16))
            case .bytes(let b): return .string(hexString(b))
            case .string(let s): return .string(hexString(Array(s.utf8)))
            default: throw Diagnostic.type("hex: needs an int, bytes or a string, not \(a[0].typeName.withArticle)")
            }
        }
        r.namespace("hex", summary: "Hex text: `hex VALUE` encodes ints, bytes and strings, `hex.decode TEXT` gives bytes back.")
        r.register("hex.decode", min: 1, max: 1, usage: "hex.decode TEXT", summary: "The bytes written as hex digits (spaces and colons allowed between bytes).",
                   example: "hex.decode \"de:ad:be:ef\"   # b\"\\xde\\xad\\xbe\\xef\"") { a in
            let s = try a.string(0).filter { !" :-\n\t".contains($0) }
            guard s.count % 2 == 0 else { throw Diagnostic.value("hex.decode: odd number of hex digits") }
            var out: [UInt8] = []
            var it = s.makeIterator()
            while let h = it.next(), let l = it.next() {
                guard let v = UInt8(String([h, l]), radix: 16) else { throw Diagnostic.value("hex.decode: '\(h)\(l)' is not a hex byte") }
                out.append(v)
            }
            return .bytes(out)
        }
        r.register("bytes", min: 1, max: 1, usage: "bytes VALUE", summary: "Bytes from a string (UTF-8) or from a list of ints 0–255.",
                   example: "bytes \"hi\"               # b\"hi\"") { a in
            switch a[0] {
            case .bytes: return a[0]
            case .string(let s): return .bytes(Array(s.utf8))
            case .list(let l):
                return .bytes(try l.items.map { v in
                    guard case .int(let i) = v, (0...255).contains(i) else { throw Diagnostic.value("bytes: list items must be ints 0 to 255, got \(Value.repr(v))") }
                    return UInt8(i)
                })
            default: throw Diagnostic.type("bytes: needs a string or a list of ints, not \(a[0].typeName.withArticle)")
            }
        }
        r.register("decode", min: 1, max: 2, usage: "decode BYTES [\"utf-8\"|\"latin-1\"|\"ascii\"]", summary: "Turns bytes into a string; invalid UTF-8 is an error naming the offset.",
                   example: "decode b\"hi\"              # \"hi\"") { a in
            guard case .bytes(let b) = a[0] else { throw Diagnostic.type("decode: needs bytes, not \(a[0].typeName.withArticle)") }
            let enc = a.count > 1 ? try a.string(1).lowercased() : "utf-8"
            switch enc {
            case "utf-8", "utf8":
                if let s = String(validating: b, as: UTF8.self) { return .string(s) }
                var off = 0
                var it = b.makeIterator()
                var dec = UTF8()
                loop: while true {
                    switch dec.decode(&it) {
                    case .scalarValue(let s): off += String(s).utf8.count
                    case .emptyInput: break loop
                    case .error: break loop
                    }
                }
                throw Diagnostic.value("decode: invalid UTF-8 at byte \(off)")
            case "latin-1", "latin1", "iso-8859-1":
                return .string(String(String.UnicodeScalarView(b.map { UnicodeScalar($0) })))
            case "ascii":
                if let i = b.firstIndex(where: { $0 >= 0x80 }) { throw Diagnostic.value("decode: byte \(i) (0x\(String(b[i], radix: 16))) is not ASCII") }
                return .string(String(decoding: b, as: UTF8.self))
            default: throw Diagnostic.value("decode: unknown encoding \(enc) (utf-8, latin-1, ascii)")
            }
        }
        r.register("chr", min: 1, max: 1, usage: "chr CODEPOINT", summary: "The one-character string for a Unicode code point: 0 to 0x10FFFF, except the surrogates 0xD800–0xDFFF (an error of kind value).", example: "chr 65                   # \"A\"") { a in
            let n = try a.int(0)
            guard (0...0x10FFFF).contains(n), let u = UnicodeScalar(UInt32(n)) else {
                throw Diagnostic.value("chr: \(n) is not a Unicode scalar value (0 to 0x10FFFF, not a surrogate 0xD800–0xDFFF)")
            }
            return .string(String(u))
        }
        r.register("ord", min: 1, max: 1, usage: "ord CHARACTER", summary: "The code point of a one-character string.", example: "ord \"A\"                  # 65") { a in
            let s = try a.string(0)
            guard s.unicodeScalars.count == 1 else { throw Diagnostic.value("ord: needs exactly one character, got \(s.unicodeScalars.count)") }
            return .int(Int(s.unicodeScalars.first!.value))
        }
    }

    static func hexString(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(b.count * 2)
        for x in b { out.append(digits[Int(x >> 4)]); out.append(digits[Int(x & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
