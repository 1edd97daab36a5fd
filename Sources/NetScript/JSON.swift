import Foundation

/// JSON both ways. Maps keep their key order; ints stay ints; natives encode through their
/// `jsonValue`.
enum JSON {
    static func encode(_ v: Value, indent: Int? = nil) throws -> String {
        var out = ""
        try write(v, into: &out, indent: indent, level: 0, depth: 0)
        return out
    }

    static func write(_ v: Value, into out: inout String, indent: Int?, level: Int, depth: Int) throws {
        if depth > 200 { throw Diagnostic.value("json: value is nested too deeply (a list containing itself?)") }
        func newline(_ l: Int) {
            if let indent { out += "\n" + String(repeating: " ", count: indent * l) }
        }
        switch v {
        case .nil: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let d):
            guard d.isFinite else { throw Diagnostic.value("json: \(Value.formatFloat(d)) has no JSON form") }
            out += Value.formatFloat(d)
        case .string(let s): out += quote(s)
        case .bytes(let b): out += quote(String(decoding: b, as: UTF8.self))
        case .list(let l):
            if l.items.isEmpty { out += "[]"; return }
            out += "["
            for (i, x) in l.items.enumerated() {
                if i > 0 { out += indent == nil ? "," : "," }
                newline(level + 1)
                try write(x, into: &out, indent: indent, level: level + 1, depth: depth + 1)
            }
            newline(level)
            out += "]"
        case .map(let m):
            if m.dict.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (k, x)) in m.dict.enumerated() {
                if i > 0 { out += "," }
                newline(level + 1)
                let key: String
                switch k {
                case .string(let s): key = s
                case .int, .float, .bool, .nil: key = k.displayString
                default: key = k.displayString
                }
                out += quote(key) + (indent == nil ? ":" : ": ")
                try write(x, into: &out, indent: indent, level: level + 1, depth: depth + 1)
            }
            newline(level)
            out += "}"
        case .function(let f): throw Diagnostic.value("json: a function (\(f.name)) has no JSON form")
        case .native(let n):
            if let j = n.jsonValue { try write(j, into: &out, indent: indent, level: level, depth: depth + 1) }
            else if let pairs = try n.entryPairs() { try write(.map(pairs), into: &out, indent: indent, level: level, depth: depth + 1) }
            else { out += quote(n.description) }
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    /// Parses JSON text; errors name the line and column of the fault.
    static func parse(_ text: String) throws -> Value {
        var p = JSONParser(bytes: Array(text.utf8))
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.bytes.count else { throw p.error("unexpected text after the JSON value") }
        return v
    }
}

struct JSONParser {
    let bytes: [UInt8]
    var i = 0

    func error(_ msg: String) -> Diagnostic {
        var line = 1, col = 1
        for b in bytes[..<min(i, bytes.count)] { if b == 0x0A { line += 1; col = 1 } else { col += 1 } }
        return Diagnostic.value("json: \(msg) at line \(line), column \(col)")
    }

    mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    mutating func expect(_ word: String) throws {
        for c in word.utf8 {
            guard i < bytes.count, bytes[i] == c else { throw error("invalid literal") }
            i += 1
        }
    }

    mutating func value(depth: Int) throws -> Value {
        guard depth < 500 else { throw error("nesting is too deep") }
        guard i < bytes.count else { throw error("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            let m = MapRef()
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .map(m) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let k = try string()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
                i += 1
                skipSpace()
                m.dict[.string(k)] = try value(depth: depth + 1)
                skipSpace()
                guard i < bytes.count else { throw error("unexpected end of input in an object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .map(m) }
                throw error("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [Value] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .list(ListRef(items)) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw error("unexpected end of input in an array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .list(ListRef(items)) }
                throw error("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .nil
        default: return try number()
        }
    }

    mutating func number() throws -> Value {
        let start = i
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        var isFloat = false
        while i < bytes.count {
            let c = bytes[i]
            if Lexer.isDigit(c) { i += 1 }
            else if c == UInt8(ascii: ".") || c | 0x20 == UInt8(ascii: "e") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { isFloat = true; i += 1 }
            else { break }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if text.isEmpty || text == "-" { i = start; throw error("unexpected character") }
        if !isFloat, let v = Int(text) { return .int(v) }
        guard let d = Double(text) else { throw error("malformed number \(text)") }
        return .float(d)
    }

    mutating func string() throws -> String {
        i += 1
        var buf: [UInt8] = []
        while true {
            guard i < bytes.count else { throw error("unterminated string") }
            let c = bytes[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c < 0x20 { throw error("control character in a string") }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < bytes.count else { throw error("unterminated string") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): buf.append(0x0A)
                case UInt8(ascii: "t"): buf.append(0x09)
                case UInt8(ascii: "r"): buf.append(0x0D)
                case UInt8(ascii: "b"): buf.append(0x08)
                case UInt8(ascii: "f"): buf.append(0x0C)
                case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "\""): buf.append(e)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("invalid surrogate pair") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let s = UnicodeScalar(code) else { throw error("invalid \\u escape") }
                    buf += Array(String(s).utf8)
                default: throw error("invalid escape")
                }
                continue
            }
            buf.append(c)
            i += 1
        }
        return String(decoding: buf, as: UTF8.self)
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
            throw error("\\u needs four hex digits")
        }
        i += 4
        return v
    }
}
