import Foundation
import NetKit
import OrderedCollections

/// A value of the language. Lists and maps are shared references (assigning a list does not
/// copy it), everything else behaves as a plain value.
public enum Value {
    case `nil`
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list(ListRef)
    case map(MapRef)
    case function(Callable)
    case native(NativeObject)

    public var typeName: String {
        switch self {
        case .nil: return "nil"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "string"
        case .bytes: return "bytes"
        case .list: return "list"
        case .map: return "map"
        case .function(let f): return f is Namespace ? "namespace" : "function"
        case .native(let n): return n.typeName
        }
    }

    /// Whether the value holds no reference (nil, bool, int, float): overwriting it needs no release.
    @inline(__always)
    var isTrivial: Bool {
        switch self {
        case .nil, .bool, .int, .float: return true
        default: return false
        }
    }

    public var isTruthy: Bool {
        switch self {
        case .nil: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .bytes(let b): return !b.isEmpty
        case .list(let l): return !l.items.isEmpty
        case .map(let m): return !m.dict.isEmpty
        case .function: return true
        case .native(let n): return n.isTruthy
        }
    }

    public static func list(_ items: [Value]) -> Value { .list(ListRef(items)) }
    public static func map(_ pairs: [(String, Value)]) -> Value {
        let m = MapRef()
        for (k, v) in pairs { m.dict[.string(k)] = v }
        return .map(m)
    }
}

/// A list: shared and mutable.
public final class ListRef {
    private var storage: [Value]
    /// A file's lines not yet made into strings (`lines FILE`): commands that can read the
    /// bytes directly (`cidr summarize`) never pay for a million strings; anything else
    /// that touches `items` turns them into strings first, once.
    public private(set) var lazyLines: LazyLines?

    public init(_ items: [Value] = []) { storage = items }
    init(lines: LazyLines) { storage = []; lazyLines = lines }

    public var items: [Value] {
        _read {
            if lazyLines != nil { materialize() }
            yield storage
        }
        _modify {
            if lazyLines != nil { materialize() }
            yield &storage
        }
    }

    /// The number of items, without making lazy lines into strings.
    public var count: Int { lazyLines?.count ?? storage.count }

    private func materialize() {
        guard let lines = lazyLines else { return }
        lazyLines = nil
        storage = lines.strings()
    }
}

/// The bytes of a text file (already checked to be UTF-8) and how many lines they hold; lines
/// end at `\n`, a `\r` before it is dropped, and a last line needs no newline.
public final class LazyLines {
    public let bytes: [UInt8]
    public let count: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var n = 0
        LazyLines.walk(bytes) { _ in n += 1; return true }
        count = n
    }

    /// Calls `body` with each line's bytes until it returns false.
    public func forEachLine(_ body: (UnsafeBufferPointer<UInt8>) -> Bool) {
        LazyLines.walk(bytes, body)
    }

    static func walk(_ data: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> Bool) {
        data.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return }
            let n = bytes.count
            var start = 0
            while start < n {
                let end = memchr(base + start, 0x0A, n - start).map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - base } ?? n
                var stop = end
                if stop > start, bytes[stop - 1] == 0x0D { stop -= 1 }
                if !body(UnsafeBufferPointer(rebasing: bytes[start..<stop])) { return }
                start = end + 1
            }
        }
    }

    func strings() -> [Value] {
        var out: [Value] = []
        out.reserveCapacity(count)
        forEachLine { out.append(.string(String(decoding: $0, as: UTF8.self))); return true }
        return out
    }
}

/// A map: shared, mutable, and ordered by insertion.
public final class MapRef {
    public var dict: OrderedDictionary<Value, Value>
    public init(_ dict: OrderedDictionary<Value, Value> = [:]) { self.dict = dict }
    public subscript(_ key: String) -> Value? {
        get { dict[.string(key)] }
        set { dict[.string(key)] = newValue }
    }
}

/// Base class of every value the protocol families add: sockets, sessions, responses,
/// addresses, DNS records. A native value has a type name, fields, and a readable form.
open class NativeObject {
    public init() {}
    open var typeName: String { "native" }
    /// The names shown by completion and `fields x`.
    open var fieldNames: [String] { [] }
    /// A field's value, or nil when there is no such field.
    open func field(_ name: String) throws -> Value? { nil }
    /// Assigns a field; the default refuses.
    open func setField(_ name: String, _ value: Value) throws {
        throw Diagnostic.type("cannot set field '\(name)' of \(typeName.withArticle)")
    }
    open var description: String { "<\(typeName)>" }
    open var isTruthy: Bool { true }
    /// An iterator when the value can be walked by `for`, nil otherwise.
    open func makeIterator() -> (() throws -> Value?)? { nil }
    /// The number of items, for `len`, when the value has one.
    open var count: Int? { nil }
    /// How many items `for` walks, when known without walking — past Int.max too (an IPv6 /0
    /// has 2^128 addresses), as a number and its exact decimal text. `list`, `sort` and the
    /// other builtins that build a list check it first, to refuse a huge sequence at once.
    open var itemCount: (value: Double, text: String)? { count.map { (Double($0), String($0)) } }
    /// Equality with another native value (identity unless overridden).
    open func isEqual(to other: NativeObject) -> Bool { self === other }
    /// Ordering with another native value, for `<` and `sort`; nil when not ordered.
    open func compare(to other: NativeObject) -> Int? { nil }
    open func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
    /// `a + b`, `a - b`, `a & b`… where this is the left operand; nil when not supported.
    open func binary(_ op: String, _ rhs: Value) throws -> Value? { nil }
    /// `self[key]`; nil when not supported.
    open func index(_ key: Value) throws -> Value? { nil }
    /// `self[lo:hi]` (either bound may be nil); nil when not supported.
    open func slice(_ lo: Value, _ hi: Value) throws -> Value? { nil }
    /// The value as an int, for `int x`; nil when it has none.
    open func intValue() throws -> Int? { nil }
    /// `x in self`; nil when not supported.
    open func contains(_ value: Value) throws -> Bool? { nil }
    /// Rows for the REPL's table view: column names and cell values.
    open var tableRows: (columns: [String], rows: [[Value]])? { nil }
    /// The value as JSON-compatible data, for `json`; nil: its entries as a JSON object when
    /// it has entries, else its text.
    open var jsonValue: Value? { nil }
    /// The names under which the value reads as a map (`keys`, `values`, `items`,
    /// `for k, v in`, `x["name"]`, `"name" in x`, `json`): its data fields by default; nil when
    /// it is not map-like. Values whose fields include commands (sessions) list only the data.
    open var entryNames: [String]? { let f = fieldNames; return f.isEmpty ? nil : f }
    /// The value of one entry, nil when it has none. Reading every entry (`values`, `items`,
    /// `json`) must not fail on one that does not apply: such an entry reads as nil.
    open func entry(_ name: String) throws -> Value? { try field(name) }
}

extension NativeObject {
    /// The entries as ordered (name, value) pairs, for `items`, `values` and `json`.
    public func entryPairs() throws -> [(String, Value)]? {
        guard let names = entryNames else { return nil }
        return try names.map { ($0, try entry($0) ?? .nil) }
    }
}

/// A lazy integer range, so `for i in range 1 10000001` allocates nothing per step.
public final class RangeObject: NativeObject {
    public let start: Int, stop: Int, step: Int
    public init(_ start: Int, _ stop: Int, _ step: Int) { self.start = start; self.stop = stop; self.step = step }
    public override var typeName: String { "range" }
    /// The number of items: up to 2^64 - 1, which need not fit in an Int.
    public var size: UInt {
        if step == 0 { return 0 }
        if step > 0 { return stop > start ? (UInt(bitPattern: stop &- start) - 1) / UInt(step) + 1 : 0 }
        return start > stop ? (UInt(bitPattern: start &- stop) - 1) / step.magnitude + 1 : 0
    }
    public override var count: Int? { Int(exactly: size) }
    public override var itemCount: (value: Double, text: String)? { (Double(size), String(size)) }
    public override var description: String {
        step == 1 ? "range(\(start), \(stop))" : "range(\(start), \(stop), \(step))"
    }
    public override func makeIterator() -> (() throws -> Value?)? {
        var i = start
        let stop = stop, step = step
        return {
            if step > 0 ? i >= stop : i <= stop { return nil }
            defer { let (n, o) = i.addingReportingOverflow(step); i = o ? stop : n }
            return .int(i)
        }
    }
    public override func contains(_ value: Value) throws -> Bool? {
        guard case .int(let v) = value else { return false }
        // The distance from start may exceed Int.max; as an unsigned number it cannot.
        if step > 0 { return v >= start && v < stop && UInt(bitPattern: v &- start) % UInt(step) == 0 }
        return v <= start && v > stop && UInt(bitPattern: start &- v) % step.magnitude == 0
    }
    public override func isEqual(to other: NativeObject) -> Bool {
        guard let o = other as? RangeObject else { return false }
        return o.start == start && o.stop == stop && o.step == step
    }
    public override var fieldNames: [String] { ["start", "stop", "step"] }
    public override func field(_ name: String) throws -> Value? {
        switch name {
        case "start": return .int(start)
        case "stop": return .int(stop)
        case "step": return .int(step)
        default: return nil
        }
    }
}

/// A record: a native value that is just named fields, printed as a table in the REPL.
public final class RecordObject: NativeObject {
    public let name: String
    public var fields: OrderedDictionary<String, Value>
    public init(_ name: String, _ fields: OrderedDictionary<String, Value>) { self.name = name; self.fields = fields }
    public override var typeName: String { name }
    public override var fieldNames: [String] { Array(fields.keys) }
    public override func field(_ name: String) throws -> Value? { fields[name] }
    public override var description: String {
        "\(name){" + fields.map { "\($0.key): \(Value.repr($0.value))" }.joined(separator: ", ") + "}"
    }
    public override var jsonValue: Value? {
        let m = MapRef()
        for (k, v) in fields { m.dict[.string(k)] = v }
        return .map(m)
    }
}

// MARK: equality, hashing, ordering

extension Value: Hashable {
    public static func == (a: Value, b: Value) -> Bool {
        switch (a, b) {
        case (.nil, .nil): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y
        case (.int(let x), .float(let y)), (.float(let y), .int(let x)): return Double(x) == y && Double(exactly: y) != nil && Int(exactly: y) == x
        case (.string(let x), .string(let y)): return x == y
        case (.bytes(let x), .bytes(let y)): return x == y
        case (.list(let x), .list(let y)): return x === y || x.items == y.items
        case (.map(let x), .map(let y)):
            if x === y { return true }
            guard x.dict.count == y.dict.count else { return false }
            for (k, v) in x.dict { guard let w = y.dict[k], w == v else { return false } }
            return true
        case (.function(let x), .function(let y)): return x === y
        case (.native(let x), .native(let y)): return x.isEqual(to: y)
        default: return false
        }
    }

    public func hash(into h: inout Hasher) {
        switch self {
        case .nil: h.combine(0)
        case .bool(let b): h.combine(b)
        case .int(let i): h.combine(i)
        case .float(let d): if let i = Int(exactly: d) { h.combine(i) } else { h.combine(d) }
        case .string(let s): h.combine(s)
        case .bytes(let b): h.combine(b)
        case .list(let l): h.combine(l.items)
        case .map(let m): h.combine(m.dict.count)
        case .function(let f): h.combine(ObjectIdentifier(f))
        case .native(let n): n.hash(into: &h)
        }
    }

    /// Whether the value may be a map key (mutable lists and maps may not).
    public var isHashableKey: Bool {
        switch self {
        case .list, .map: return false
        default: return true
        }
    }

    /// Ordering for `<` and `sort`: numbers with numbers, strings with strings, lists
    /// element-wise, natives by their own rule. Nil when the two cannot be ordered.
    public static func compare(_ a: Value, _ b: Value) -> Int? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.float(let x), .float(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.int(let x), .float(let y)): let dx = Double(x); return dx < y ? -1 : (dx > y ? 1 : 0)
        case (.float(let x), .int(let y)): let dy = Double(y); return x < dy ? -1 : (x > dy ? 1 : 0)
        case (.string(let x), .string(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.bytes(let x), .bytes(let y)): return x.lexicographicallyPrecedes(y) ? -1 : (x == y ? 0 : 1)
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        case (.list(let x), .list(let y)):
            for (p, q) in zip(x.items, y.items) {
                guard let c = compare(p, q) else { return nil }
                if c != 0 { return c }
            }
            return x.items.count < y.items.count ? -1 : (x.items.count > y.items.count ? 1 : 0)
        case (.native(let x), .native(let y)): return x.compare(to: y)
        default: return nil
        }
    }
}

// MARK: text forms

extension Value {
    /// The form `print` and `str` use: strings as they are, everything else as `repr`.
    public var displayString: String {
        switch self {
        case .string(let s): return s
        default: return Value.repr(self)
        }
    }

    /// The form inside lists and maps and in the REPL: strings quoted and escaped.
    public static func repr(_ v: Value, depth: Int = 0) -> String {
        if depth > 50 { return "…" }
        switch v {
        case .nil: return "nil"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d): return formatFloat(d)
        case .string(let s): return literal(s)
        case .bytes(let b): return "b\"" + escapeBytes(b) + "\""
        case .list(let l):
            return "[" + l.items.map { repr($0, depth: depth + 1) }.joined(separator: ", ") + "]"
        case .map(let m):
            return "{" + m.dict.map { k, val in
                let key: String
                if case .string(let s) = k, isPlainKey(s) { key = s } else { key = repr(k, depth: depth + 1) }
                return key + ": " + repr(val, depth: depth + 1)
            }.joined(separator: ", ") + "}"
        case .function(let f): return f.description
        case .native(let n): return n.description
        }
    }

    static func isPlainKey(_ s: String) -> Bool {
        guard let f = s.utf8.first, Lexer.isIdentStart(f), !Lexer.keywords.contains(s) else { return false }
        return s.utf8.allSatisfy(Lexer.isIdentChar)
    }

    public static func formatFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == d.rounded(), abs(d) < 1e16 { return String(format0: d) }
        return "\(d)"
    }

    /// A string as a literal that reads back to it, with the fewest escapes: single quotes
    /// when it has braces or double quotes but nothing single quotes would need to escape
    /// (`'{"a": 1}'` rather than `"\{\"a\": 1}"`), double quotes otherwise.
    public static func literal(_ s: String) -> String {
        var noisy = false
        for u in s.unicodeScalars {
            switch u {
            case "{", "\"": noisy = true
            case "'", "\\": return quote(s)
            default: if u.value < 0x20 || u.value == 0x7F { return quote(s) }
            }
        }
        return noisy ? "'" + s + "'" : quote(s)
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "{": out += "\\{"
            default:
                if u.value < 0x20 || u.value == 0x7F { out += "\\u{\(String(u.value, radix: 16))}" }
                else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    /// Bytes as a `b"…"` literal's body: the escaping the transcript uses, never elided.
    public static func escapeBytes(_ b: [UInt8]) -> String { Transcript.escape(b, limit: .max) }
}

extension String {
    /// `3.0` rather than `3` for whole floats, so a float always reads as one.
    init(format0 d: Double) {
        let i = Int(d)
        self = "\(i).0"
    }
}

extension String {
    /// "an int", "a list": a type name with its indefinite article, for error messages.
    var withArticle: String {
        guard let f = first else { return self }
        return ("aeiou".contains(f) ? "an " : "a ") + self
    }
}
