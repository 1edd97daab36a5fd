import Foundation

/// String commands: the subject comes first (`split s ","`); in a pipeline use `_` to place
/// the piped value (`line | split _ ","`).
enum StringBuiltins {
    static func register(in r: Interpreter) {
        r.register("split", min: 1, max: 2, options: ["max"], usage: "split STRING [SEP] [max: N]",
                   summary: "Splits at SEP (default: runs of whitespace, ends trimmed); max: limits the number of splits.",
                   example: "split \"a,b,c\" \",\"        # [\"a\", \"b\", \"c\"]") { a in
            let s = try a.string(0)
            // A negative max: means no limit, as in Python.
            let maxSplits = try a.optionInt("max").map { $0 < 0 ? Int.max : $0 } ?? Int.max
            if a.count < 2 || a[1] == .nil {
                let parts = s.split(maxSplits: maxSplits, omittingEmptySubsequences: true, whereSeparator: { $0.isWhitespace })
                if parts.count > Limits.maxItems { throw Limits.tooManyItems("split", String(parts.count)) }
                return .list(parts.map { .string(String($0)) })
            }
            let sep = try a.string(1)
            guard !sep.isEmpty else { throw Diagnostic.value("split: the separator must not be empty") }
            var parts: [Value] = []
            var rest = Substring(s)
            while parts.count < maxSplits, let range = rest.range(of: sep) {
                if parts.count >= Limits.maxItems { throw Limits.tooManyItems("split", nil) }
                parts.append(.string(String(rest[..<range.lowerBound])))
                rest = rest[range.upperBound...]
            }
            parts.append(.string(String(rest)))
            return .list(parts)
        }
        r.register("join", min: 1, max: 2, usage: "join ITEMS [SEP]", summary: "Joins items' text with SEP between them (default \"\").",
                   example: "join [\"a\", \"b\"] \", \"      # \"a, b\"") { a in
            let sep = a.count > 1 ? try a.string(1) : ""
            return .string(try a.list(0).map { $0.displayString }.joined(separator: sep))
        }
        r.register("trim", min: 1, max: 2, usage: "trim STRING [CHARS]", summary: "Removes whitespace (or any of CHARS) from both ends.",
                   example: "trim \"  hi \\n\"            # \"hi\"") { a in
            let s = try a.string(0)
            if a.count > 1 {
                let set = Set(try a.string(1).unicodeScalars)
                var sc = Substring(s).unicodeScalars
                while let f = sc.first, set.contains(f) { sc.removeFirst() }
                while let l = sc.last, set.contains(l) { sc.removeLast() }
                return .string(String(sc))
            }
            return .string(s.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        r.register("upper", min: 1, max: 1, usage: "upper STRING", summary: "Upper-cases.", example: "upper \"ehlo\"             # \"EHLO\"") { a in .string(try a.string(0).uppercased()) }
        r.register("lower", min: 1, max: 1, usage: "lower STRING", summary: "Lower-cases.", example: "lower \"MX\"               # \"mx\"") { a in .string(try a.string(0).lowercased()) }
        r.register("replace", min: 3, max: 3, options: ["count"], usage: "replace STRING OLD NEW [count: N]", summary: "Replaces occurrences of OLD with NEW (all, or the first N).",
                   example: "replace \"a-b-c\" \"-\" \".\"   # \"a.b.c\"") { a in
            let s = try a.string(0), old = try a.string(1), new = try a.string(2)
            guard !old.isEmpty else { throw Diagnostic.value("replace: OLD must not be empty") }
            guard let n = try a.optionInt("count") else { return .string(s.replacingOccurrences(of: old, with: new)) }
            var out = "", rest = Substring(s), done = 0
            while done < n, let range = rest.range(of: old) {
                out += rest[..<range.lowerBound] + new
                rest = rest[range.upperBound...]
                done += 1
            }
            return .string(out + rest)
        }
        r.register("startswith", min: 2, max: 2, usage: "startswith STRING PREFIX", summary: "Whether STRING starts with PREFIX (bytes too).",
                   example: "startswith \"250 OK\" \"250\"  # true") { a in
            if case .bytes(let b) = a[0], case .bytes(let p) = a[1] { return .bool(b.starts(with: p)) }
            // Compared as bytes: hasPrefix works on graphemes, where "\r\n" does not start with "\r".
            return .bool(try a.string(0).utf8.starts(with: try a.string(1).utf8))
        }
        r.register("endswith", min: 2, max: 2, usage: "endswith STRING SUFFIX", summary: "Whether STRING ends with SUFFIX (bytes too).",
                   example: "endswith \"a.net\" \".net\"   # true") { a in
            if case .bytes(let b) = a[0], case .bytes(let p) = a[1] { return .bool(b.count >= p.count && Array(b.suffix(p.count)) == p) }
            return .bool(try a.string(0).utf8.reversed().starts(with: try a.string(1).utf8.reversed()))
        }
        r.register("contains", min: 2, max: 2, usage: "contains HAYSTACK NEEDLE", summary: "Whether a string contains a substring, or a list/map/set an item (the same as NEEDLE in HAYSTACK).",
                   example: "contains \"hello\" \"ell\"    # true") { a in .bool(try Ops.contains(a[0], a[1])) }
        r.register("find", min: 2, max: 2, usage: "find STRING SUB", summary: "The character index of the first SUB in STRING, or -1.",
                   example: "find \"a=b\" \"=\"            # 1") { a in
            let s = try a.string(0), sub = try a.string(1)
            guard let range = s.range(of: sub) else { return .int(-1) }
            return .int(s.unicodeScalars[..<range.lowerBound].count)
        }
        r.register("pad", min: 2, max: 2, options: ["align", "fill"], usage: "pad VALUE WIDTH [align: \"left\"|\"right\"|\"center\"] [fill: \" \"]",
                   summary: "The value's text padded to WIDTH characters (left-aligned unless align:); WIDTH is at most 1,000,000.",
                   example: "pad 42 6 align: \"right\"   # \"    42\"") { a in
            let s = a[0].displayString
            let width = try checkWidth(try a.int(1), "pad")
            let fill = try a.optionString("fill") ?? " "
            guard fill.count == 1 else { throw Diagnostic.value("pad: fill: must be one character") }
            return .string(try align(s, width: width, how: try a.optionString("align") ?? "left", fill: Character(fill)))
        }
        r.register("format", min: 1, max: nil, usage: "format TEMPLATE VALUE…",
                   summary: "Fills {} (or {0}, {1}) in TEMPLATE with values; a spec after a colon sets width, alignment and precision: {:>8} {:<8} {:^8} {:08.3f} {:x}. Widths go up to 1,000,000, float precisions up to 100.",
                   example: "format \"{:<6}|{:>5.1f}\" \"rtt\" 3.14159   # \"rtt   |  3.1\"") { a in
            try format(try a.string(0), Array(a.positional.dropFirst()))
        }
    }

    /// A field width within Limits.maxWidth (negative ones pad nothing, as before).
    static func checkWidth(_ width: Int, _ who: String) throws -> Int {
        guard width <= Limits.maxWidth else { throw Diagnostic.value("\(who): width \(width) is too large (at most \(Limits.maxWidth))") }
        return width
    }

    static func align(_ s: String, width: Int, how: String, fill: Character) throws -> String {
        let n = s.count
        guard width > n else { return s }
        let padding = width - n
        switch how {
        case "left", "<": return s + String(repeating: fill, count: padding)
        case "right", ">": return String(repeating: fill, count: padding) + s
        case "center", "^":
            let left = padding / 2
            return String(repeating: fill, count: left) + s + String(repeating: fill, count: padding - left)
        default: throw Diagnostic.value("pad: align: must be left, right or center, not \(how)")
        }
    }

    static func format(_ template: String, _ values: [Value]) throws -> Value {
        var out = ""
        var auto = 0
        var chars = Array(template)
        var i = 0
        chars.append("\0")
        while i < chars.count - 1 {
            let c = chars[i]
            if c == "{" && chars[i + 1] == "{" { out.append("{"); i += 2; continue }
            if c == "}" && chars[i + 1] == "}" { out.append("}"); i += 2; continue }
            if c != "{" { out.append(c); i += 1; continue }
            guard let close = chars[i...].firstIndex(of: "}") else { throw Diagnostic.value("format: unclosed '{' in the template") }
            let field = String(chars[(i + 1)..<close])
            i = close + 1
            let parts = field.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let indexText = parts.first.map(String.init) ?? ""
            let spec = parts.count > 1 ? String(parts[1]) : ""
            let idx: Int
            if indexText.isEmpty { idx = auto; auto += 1 }
            else if let n = Int(indexText) { idx = n }
            else { throw Diagnostic.value("format: {\(field)} — expected {} or {N}") }
            guard idx >= 0 && idx < values.count else { throw Diagnostic("index", "format: {\(field)} needs a value at index \(idx), only \(values.count) given") }
            out += try applySpec(values[idx], spec)
        }
        return .string(out)
    }

    /// A small subset of Python's format spec: [[fill]align][0][width][.precision][type].
    static func applySpec(_ v: Value, _ spec: String) throws -> String {
        if spec.isEmpty { return v.displayString }
        var s = Array(spec)
        var fill: Character = " ", alignChar: Character? = nil
        if s.count >= 2, "<>^".contains(s[1]) { fill = s[0]; alignChar = s[1]; s.removeFirst(2) }
        else if let f = s.first, "<>^".contains(f) { alignChar = f; s.removeFirst() }
        if s.first == "0" && alignChar == nil { fill = "0"; alignChar = "="; s.removeFirst() }
        var widthText = "", precText = "", type: Character? = nil
        var inPrec = false
        for ch in s {
            if ch == "." { inPrec = true }
            else if ch.isASCII && ch.isNumber { if inPrec { precText.append(ch) } else { widthText.append(ch) } }
            else if type == nil { type = ch }
            else { throw Diagnostic.value("format: bad spec ':\(spec)'") }
        }
        // Bounded: a width is a string to build, a precision goes to String(format:).
        guard widthText.isEmpty || Int(widthText) != nil else { throw Diagnostic.value("format: width \(widthText) in ':\(spec)' is too large (at most \(Limits.maxWidth))") }
        guard precText.isEmpty || Int(precText) != nil else { throw Diagnostic.value("format: precision \(precText) in ':\(spec)' is too large") }
        let width = try checkWidth(Int(widthText) ?? 0, "format")
        let prec = Int(precText)
        func floatPrecision() throws -> Int {
            let p = prec ?? 6
            guard p <= Limits.maxPrecision else { throw Diagnostic.value("format: precision \(p) in ':\(spec)' is too large (at most \(Limits.maxPrecision) for a float)") }
            return p
        }
        var body: String
        switch type {
        case "f":
            guard let d = v.asDouble else { throw Diagnostic.type("format: :\(spec) needs a number, not \(v.typeName.withArticle)") }
            body = String(format: "%.\(try floatPrecision())f", d)
        case "d":
            guard case .int(let i) = v else { throw Diagnostic.type("format: :\(spec) needs an int, not \(v.typeName.withArticle)") }
            body = String(i)
        case "x", "X", "o", "b":
            guard case .int(let i) = v else { throw Diagnostic.type("format: :\(spec) needs an int, not \(v.typeName.withArticle)") }
            let radix = type == "o" ? 8 : type == "b" ? 2 : 16
            body = (i < 0 ? "-" : "") + String(i.magnitude, radix: radix, uppercase: type == "X")
        case nil, "s":
            if prec != nil, case .float(let d) = v { body = String(format: "%.\(try floatPrecision())f", d) }
            else {
                body = v.displayString
                if let prec, type == "s" { body = String(body.prefix(prec)) }
            }
        default: throw Diagnostic.value("format: unknown type '\(type!)' in ':\(spec)'")
        }
        if alignChar == "=" {
            // Zero padding goes after the sign.
            let neg = body.hasPrefix("-")
            let digits = neg ? String(body.dropFirst()) : body
            let padCount = max(0, width - body.count)
            return (neg ? "-" : "") + String(repeating: fill, count: padCount) + digits
        }
        let how: String
        switch alignChar {
        case "<": how = "left"
        case "^": how = "center"
        case ">": how = "right"
        default:
            switch v { case .int, .float: how = "right"; default: how = "left" }
        }
        return try align(body, width: width, how: how, fill: fill)
    }
}
