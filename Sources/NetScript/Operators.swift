import Foundation

/// The arithmetic, comparison and membership operators. Ints are 64-bit and overflow is an
/// error; an int meeting a float becomes a float.
enum Ops {
    static func overflow(_ op: String, _ a: Int, _ b: Int) -> Diagnostic {
        Diagnostic("overflow", "integer overflow: \(a) \(op) \(b) does not fit in 64 bits")
    }

    static func mismatch(_ op: String, _ a: Value, _ b: Value) -> Diagnostic {
        Diagnostic.type("cannot apply '\(op)' to \(a.typeName.withArticle) and \(b.typeName.withArticle)")
    }

    @inline(__always)
    static func add(_ a: Value, _ b: Value) throws -> Value {
        if case .int(let x) = a, case .int(let y) = b {
            let (r, o) = x.addingReportingOverflow(y)
            if o { throw overflow("+", x, y) }
            return .int(r)
        }
        return try addSlow(a, b)
    }

    static func addSlow(_ a: Value, _ b: Value) throws -> Value {
        switch (a, b) {
        case (.float(let x), .float(let y)): return .float(x + y)
        case (.int(let x), .float(let y)): return .float(Double(x) + y)
        case (.float(let x), .int(let y)): return .float(x + Double(y))
        case (.string(let x), .string(let y)): return .string(x + y)
        case (.bytes(let x), .bytes(let y)): return .bytes(x + y)
        case (.list(let x), .list(let y)): return .list(ListRef(x.items + y.items))
        case (.map(let x), .map(let y)):
            let m = MapRef(x.dict)
            for (k, v) in y.dict { m.dict[k] = v }
            return .map(m)
        case (.native(let n), _):
            if let r = try n.binary("+", b) { return r }
        case (.string, _), (_, .string):
            throw Diagnostic.type("cannot add \(a.typeName.withArticle) and \(b.typeName.withArticle): convert with str, or use \"{…}\" interpolation")
        default: break
        }
        throw mismatch("+", a, b)
    }

    @inline(__always)
    static func sub(_ a: Value, _ b: Value) throws -> Value {
        if case .int(let x) = a, case .int(let y) = b {
            let (r, o) = x.subtractingReportingOverflow(y)
            if o { throw overflow("-", x, y) }
            return .int(r)
        }
        switch (a, b) {
        case (.float(let x), .float(let y)): return .float(x - y)
        case (.int(let x), .float(let y)): return .float(Double(x) - y)
        case (.float(let x), .int(let y)): return .float(x - Double(y))
        case (.native(let n), _): if let r = try n.binary("-", b) { return r }
        default: break
        }
        throw mismatch("-", a, b)
    }

    static func mul(_ a: Value, _ b: Value) throws -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            let (r, o) = x.multipliedReportingOverflow(by: y)
            if o { throw overflow("*", x, y) }
            return .int(r)
        case (.float(let x), .float(let y)): return .float(x * y)
        case (.int(let x), .float(let y)): return .float(Double(x) * y)
        case (.float(let x), .int(let y)): return .float(x * Double(y))
        case (.string(let s), .int(let n)), (.int(let n), .string(let s)):
            return .string(try repeatString(s, n))
        case (.list(let l), .int(let n)), (.int(let n), .list(let l)):
            return .list(ListRef(try repeatList(l.items, n)))
        case (.bytes(let s), .int(let n)):
            return .bytes(try repeatBytes(s, n))
        case (.native(let n), _): if let r = try n.binary("*", b) { return r }
        default: break
        }
        throw mismatch("*", a, b)
    }

    /// `s * n`: at most Limits.maxBytes of UTF-8, built by doubling rather than piece by piece.
    static func repeatString(_ s: String, _ n: Int) throws -> String {
        var s = s
        let total = try Limits.repetitionSize(n, unit: s.utf8.count, limit: Limits.maxBytes, what: "a string", unitName: "bytes")
        if total == 0 { return "" }
        return s.withUTF8 { piece in
            String(unsafeUninitializedCapacity: total) { buffer in
                Limits.repeatBytes(UnsafeRawBufferPointer(piece), n, into: UnsafeMutableRawBufferPointer(buffer))
                return total
            }
        }
    }

    static func repeatBytes(_ b: [UInt8], _ n: Int) throws -> [UInt8] {
        let total = try Limits.repetitionSize(n, unit: b.count, limit: Limits.maxBytes, what: "bytes", unitName: "bytes")
        return b.withUnsafeBytes { piece in
            [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
                Limits.repeatBytes(piece, n, into: UnsafeMutableRawBufferPointer(buffer))
                count = total
            }
        }
    }

    /// `xs * n`: at most Limits.maxItems items, reserved at once and filled by doubling.
    static func repeatList(_ items: [Value], _ n: Int) throws -> [Value] {
        let total = try Limits.repetitionSize(n, unit: items.count, limit: Limits.maxItems, what: "a list", unitName: "items")
        if total == 0 { return [] }
        if items.count == 1 { return Array(repeating: items[0], count: total) }
        return [Value](unsafeUninitializedCapacity: total) { buffer, count in
            let base = buffer.baseAddress!
            items.withUnsafeBufferPointer { base.initialize(from: $0.baseAddress!, count: items.count) }
            var filled = items.count
            while filled < total {
                let chunk = Swift.min(filled, total - filled)
                (base + filled).initialize(from: base, count: chunk)
                filled += chunk
            }
            count = total
        }
    }

    static func div(_ a: Value, _ b: Value) throws -> Value {
        func d(_ x: Double, _ y: Double) throws -> Value {
            if y == 0 { throw Diagnostic("zero", "division by zero") }
            return .float(x / y)
        }
        switch (a, b) {
        case (.int(let x), .int(let y)): return try d(Double(x), Double(y))
        case (.float(let x), .float(let y)): return try d(x, y)
        case (.int(let x), .float(let y)): return try d(Double(x), y)
        case (.float(let x), .int(let y)): return try d(x, Double(y))
        case (.native(let n), _): if let r = try n.binary("/", b) { return r }
        default: break
        }
        throw mismatch("/", a, b)
    }

    /// Floor division, as in Python: rounds toward negative infinity.
    static func floorDiv(_ a: Value, _ b: Value) throws -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            if y == 0 { throw Diagnostic("zero", "division by zero") }
            if x == Int.min && y == -1 { throw overflow("//", x, y) }
            var q = x / y
            if (x % y != 0) && ((x < 0) != (y < 0)) { q -= 1 }
            return .int(q)
        case (.int, .float), (.float, .int), (.float, .float):
            guard case .float(let r) = try div(a, b) else { break }
            return .float(r.rounded(.down))
        default: break
        }
        throw mismatch("//", a, b)
    }

    static func mod(_ a: Value, _ b: Value) throws -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            if y == 0 { throw Diagnostic("zero", "modulo by zero") }
            if y == -1 { return .int(0) }
            var r = x % y
            if r != 0 && ((r < 0) != (y < 0)) { r += y }
            return .int(r)
        case (.int, .float), (.float, .int), (.float, .float):
            let x = a.asDouble!, y = b.asDouble!
            if y == 0 { throw Diagnostic("zero", "modulo by zero") }
            var r = fmod(x, y)
            if r != 0 && ((r < 0) != (y < 0)) { r += y }
            return .float(r)
        default: break
        }
        throw mismatch("%", a, b)
    }

    static func pow(_ a: Value, _ b: Value) throws -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)) where y >= 0:
            var result = 1, base = x, e = y
            while e > 0 {
                if e & 1 == 1 {
                    let (r, o) = result.multipliedReportingOverflow(by: base)
                    if o { throw overflow("**", x, y) }
                    result = r
                }
                e >>= 1
                if e > 0 {
                    let (r, o) = base.multipliedReportingOverflow(by: base)
                    if o { throw overflow("**", x, y) }
                    base = r
                }
            }
            return .int(result)
        case (.int, .int), (.int, .float), (.float, .int), (.float, .float):
            return .float(Foundation.pow(a.asDouble!, b.asDouble!))
        default: break
        }
        throw mismatch("**", a, b)
    }

    static func compare(_ op: String, _ a: Value, _ b: Value) throws -> Bool {
        if case .int(let x) = a, case .int(let y) = b {
            switch op {
            case "<": return x < y
            case "<=": return x <= y
            case ">": return x > y
            default: return x >= y
            }
        }
        guard let c = Value.compare(a, b) else {
            throw Diagnostic.type("cannot compare \(a.typeName.withArticle) with \(b.typeName.withArticle) using '\(op)'")
        }
        switch op {
        case "<": return c < 0
        case "<=": return c <= 0
        case ">": return c > 0
        default: return c >= 0
        }
    }

    static func contains(_ container: Value, _ item: Value) throws -> Bool {
        switch container {
        case .list(let l): return l.items.contains(item)
        case .map(let m): return m.dict[item] != nil
        case .string(let s):
            guard case .string(let sub) = item else { throw Diagnostic.type("'in' a string needs a string on the left, not \(item.typeName.withArticle)") }
            return sub.isEmpty || s.contains(sub)
        case .bytes(let b):
            switch item {
            case .int(let i): return b.contains { Int($0) == i }
            case .bytes(let sub): return sub.isEmpty || b.firstRange(of: sub) != nil
            default: throw Diagnostic.type("'in' bytes needs an int or bytes on the left")
            }
        case .native(let n):
            if let r = try n.contains(item) { return r }
            // A record's field names are in it (`"answer" in resp`); a sequence also holds its items.
            if case .string(let k) = item, let names = n.entryNames, names.contains(k) { return true }
            if n.makeIterator() == nil, n.entryNames != nil { return false }
            if let next = n.makeIterator() {
                // A walk, perhaps a very long one (the hosts of an IPv6 network): Ctrl-C stops it.
                while let x = try next() {
                    if x == item { return true }
                    if interruptFlag.load(ordering: .relaxed) { throw Interpreter.interrupted() }
                }
                return false
            }
        default: break
        }
        throw Diagnostic.type("cannot use 'in' with \(container.typeName.withArticle) on the right")
    }

    static func negate(_ v: Value) throws -> Value {
        switch v {
        case .int(let x):
            if x == Int.min { throw Diagnostic("overflow", "integer overflow: -(\(x)) does not fit in 64 bits") }
            return .int(-x)
        case .float(let d): return .float(-d)
        default: throw Diagnostic.type("cannot negate \(v.typeName.withArticle)")
        }
    }

    static func binary(_ op: String, _ a: Value, _ b: Value) throws -> Value {
        switch op {
        case "+": return try add(a, b)
        case "-": return try sub(a, b)
        case "*": return try mul(a, b)
        case "/": return try div(a, b)
        case "//": return try floorDiv(a, b)
        case "%": return try mod(a, b)
        case "**": return try pow(a, b)
        case "&", "^":
            switch (a, b) {
            case (.int(let x), .int(let y)): return .int(op == "&" ? x & y : x ^ y)
            case (.bool(let x), .bool(let y)): return .bool(op == "&" ? x && y : x != y)
            case (.native(let n), _): if let r = try n.binary(op, b) { return r }
            default: break
            }
            throw mismatch(op, a, b)
        case "==": return .bool(a == b)
        case "!=": return .bool(a != b)
        case "<", "<=", ">", ">=": return .bool(try compare(op, a, b))
        case "in": return .bool(try contains(b, a))
        case "not in": return .bool(!(try contains(b, a)))
        default: throw Diagnostic.type("unknown operator \(op)")
        }
    }
}

extension Value {
    var asDouble: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .float(let d): return d
        default: return nil
        }
    }
}
