/// One piece of a double-quoted string: literal text, or `{code}` to interpolate.
public enum StringPart: Equatable, Sendable {
    case text(String)
    /// The byte range of the code between the braces.
    case code(SourceRange)
}

/// The tokens with a fixed spelling: one case per keyword and per operator or punctuation mark
/// of `grammar.md` §1, the raw value being the spelling. The grammar-drift test checks that
/// every quoted terminal of the EBNF has a case here, and every case a place in the EBNF.
/// Names that start a form only where a rule of grammar.md says (`spawn` before `{`,
/// `parallel` before `for`) and are plain names everywhere else, so existing programs keep
/// them as variables and `spawn f x` stays a command. The lexer makes them NAME tokens; the
/// grammar-drift test counts them as terminals beside `TokenType`.
public enum ContextualWord: String, CaseIterable, Sendable {
    case spawn, parallel
}

public enum TokenType: String, CaseIterable, Sendable {
    // Keywords.
    case `if`, `else`, `while`, `for`, `in`, `fn`, `return`, `break`, `continue`
    case `try`, `catch`, `finally`, `import`, `global`, `true`, `false`, `nil`, `and`, `or`, `not`
    // Brackets and separators.
    case leftParen = "(", rightParen = ")", leftBracket = "[", rightBracket = "]"
    case leftBrace = "{", rightBrace = "}", comma = ",", colon = ":", semicolon = ";"
    case dot = ".", ellipsis = "..."
    // Operators.
    case plus = "+", minus = "-", star = "*", slash = "/", slashSlash = "//", percent = "%"
    case starStar = "**", amp = "&", caret = "^", pipe = "|", bang = "!", ampAmp = "&&", pipePipe = "||"
    case equalEqual = "==", bangEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    // Assignment.
    case equal = "=", plusEqual = "+=", minusEqual = "-=", starEqual = "*=", slashEqual = "/="
    case percentEqual = "%=", slashSlashEqual = "//=", starStarEqual = "**="

    /// Whether this is a keyword (spelled with letters) rather than an operator.
    public var isKeyword: Bool { rawValue.utf8.first.map(Lexer.isIdentStart) ?? false }

    /// The keywords, by spelling.
    static let keywordsBySpelling: [String: TokenType] = Dictionary(
        uniqueKeysWithValues: allCases.filter(\.isKeyword).map { ($0.rawValue, $0) })

    /// The assignment operators of `assignment`.
    public var isAssignment: Bool {
        switch self {
        case .equal, .plusEqual, .minusEqual, .starEqual, .slashEqual, .percentEqual, .slashSlashEqual, .starStarEqual: return true
        default: return false
        }
    }

    /// The operators of `comparison` (besides `in` and `not in`).
    public var isComparison: Bool {
        switch self {
        case .equalEqual, .bangEqual, .less, .lessEqual, .greater, .greaterEqual: return true
        default: return false
        }
    }
}

public enum TokenKind: Equatable, Sendable {
    case ident(String)
    /// `name:` directly followed by a colon: an option in a command, a key in a map.
    case label(String)
    case int(Int)
    case float(Double)
    case string([StringPart])
    case rawString(String)
    case bytes([UInt8])
    /// An address or network literal: `192.0.2.1`, `10.0.0.0/8`, `2001:db8::1`, `::/0`.
    case address(String)
    /// A keyword, an operator or a punctuation mark.
    case symbol(TokenType)
    case newline
    case eof

    /// `.punct("(")`, `.keyword("if")`: the token of that spelling (for tests and tables).
    public static func punct(_ spelling: String) -> TokenKind {
        guard let t = TokenType(rawValue: spelling), !t.isKeyword else { preconditionFailure("no operator '\(spelling)'") }
        return .symbol(t)
    }
    public static func keyword(_ spelling: String) -> TokenKind {
        guard let t = TokenType.keywordsBySpelling[spelling] else { preconditionFailure("no keyword '\(spelling)'") }
        return .symbol(t)
    }

    /// The fixed-spelling token type, if this is one.
    public var type: TokenType? { if case .symbol(let t) = self { return t } else { return nil } }
}

public struct Token: Sendable {
    public var kind: TokenKind
    public var range: SourceRange
    /// Whether whitespace (or a line start) comes right before the token: `f(x)` is a call,
    /// `f (x)` an argument; `xs[0]` an index, `f [0]` an argument; `f -1` a negative argument.
    public var spaceBefore: Bool
}

/// Turns source bytes into tokens. Comments (`#` to end of line) are dropped, newlines are
/// kept as statement separators, and double-quoted strings are split into text and `{code}`.
public struct Lexer {
    public static let keywords: Set<String> = Set(TokenType.keywordsBySpelling.keys)

    let source: Source
    let bytes: [UInt8]
    var pos: Int
    let end: Int
    /// How many `{…}` interpolations enclose the string being lexed: strings inside them are
    /// lexed recursively, so the depth is bounded like the parser's.
    var interpolationDepth = 0

    public init(source: Source, range: SourceRange? = nil) {
        self.source = source
        self.bytes = source.bytes
        self.pos = range?.start ?? 0
        self.end = range?.end ?? source.bytes.count
        // A shebang line at the very start of a file is a comment.
        if pos == 0, bytes.count >= 2, bytes[0] == UInt8(ascii: "#"), bytes[1] == UInt8(ascii: "!") {
            while pos < end, bytes[pos] != UInt8(ascii: "\n") { pos += 1 }
        }
    }

    func error(_ msg: String, _ start: Int, _ stop: Int? = nil) -> Diagnostic {
        Diagnostic("syntax", msg, location: SourceLocation(source: source, range: SourceRange(start, stop ?? start + 1)))
    }

    /// Lexes everything up to the end of the range.
    public static func tokenize(_ source: Source, range: SourceRange? = nil) throws -> [Token] {
        var lx = Lexer(source: source, range: range)
        var out: [Token] = []
        while true {
            let t = try lx.next()
            out.append(t)
            if t.kind == .eof { return out }
        }
    }

    @inline(__always) func peekByte(_ k: Int = 0) -> UInt8 { pos + k < end ? bytes[pos + k] : 0 }

    static func isIdentStart(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F || b >= 0x80
    }
    static func isIdentChar(_ b: UInt8) -> Bool { isIdentStart(b) || (b >= 0x30 && b <= 0x39) }
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isHexDigit(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x66) }

    public mutating func next() throws -> Token {
        var space = pos == 0
        while pos < end {
            let b = bytes[pos]
            if b == 0x20 || b == 0x09 || b == 0x0D { pos += 1; space = true; continue }
            if b == UInt8(ascii: "\\"), peekByte(1) == 0x0A { pos += 2; space = true; continue } // line continuation
            if b == UInt8(ascii: "#") {
                while pos < end, bytes[pos] != 0x0A { pos += 1 }
                continue
            }
            break
        }
        let start = pos
        guard pos < end else { return Token(kind: .eof, range: SourceRange(end, end), spaceBefore: true) }
        let b = bytes[pos]
        if b == 0x0A {
            pos += 1
            return Token(kind: .newline, range: SourceRange(start, pos), spaceBefore: true)
        }
        func tok(_ k: TokenKind) -> Token { Token(kind: k, range: SourceRange(start, pos), spaceBefore: space) }

        if Lexer.isHexDigit(b) || b == UInt8(ascii: ":"), let text = ipv6Literal() { return tok(.address(text)) }
        if Lexer.isDigit(b), let text = addressLiteral() { return tok(.address(text)) }
        if Lexer.isDigit(b) { return tok(try number()) }
        if b == UInt8(ascii: "b"), peekByte(1) == UInt8(ascii: "\"") || peekByte(1) == UInt8(ascii: "'") {
            pos += 1
            return tok(.bytes(try bytesLiteral()))
        }
        if Lexer.isIdentStart(b) {
            while pos < end, Lexer.isIdentChar(bytes[pos]) { pos += 1 }
            let name = String(decoding: bytes[start..<pos], as: UTF8.self)
            if let k = TokenType.keywordsBySpelling[name] { return tok(.symbol(k)) }
            // `name:` is a label unless the colon starts `::` (an IPv6 literal such as `fe80::1`
            // when the name is hex digits, lexed above; otherwise reserved).
            if pos < end, bytes[pos] == UInt8(ascii: ":"), peekByte(1) != UInt8(ascii: ":") {
                pos += 1
                return tok(.label(name))
            }
            return tok(.ident(name))
        }
        if b == UInt8(ascii: "\"") { return tok(.string(try doubleQuoted())) }
        if b == UInt8(ascii: "'") { return tok(.rawString(try singleQuoted())) }
        if let t = try symbol() { return tok(.symbol(t)) }
        throw error("unexpected character \(describeByte(at: start))", start)
    }

    func describeByte(at i: Int) -> String {
        let b = bytes[i]
        if b >= 0x21 && b < 0x7F { return "'\(UnicodeScalar(b))'" }
        if b >= 0x80 {
            var j = i + 1
            while j < end, bytes[j] & 0xC0 == 0x80 { j += 1 }
            return "'\(String(decoding: bytes[i..<j], as: UTF8.self))'"
        }
        return "0x" + String(b, radix: 16)
    }

    /// An operator or punctuation mark, the longest that matches (`**=` before `**` before `*`).
    /// `=>`, `~`, `?`, `@` and `$` are no part of the language: a syntax error here.
    mutating func symbol() throws -> TokenType? {
        let b = bytes[pos], n1 = peekByte(1), n2 = peekByte(2)
        let eq = UInt8(ascii: "=")
        func take(_ count: Int, _ t: TokenType) -> TokenType { pos += count; return t }
        switch b {
        case UInt8(ascii: "("): return take(1, .leftParen)
        case UInt8(ascii: ")"): return take(1, .rightParen)
        case UInt8(ascii: "["): return take(1, .leftBracket)
        case UInt8(ascii: "]"): return take(1, .rightBracket)
        case UInt8(ascii: "{"): return take(1, .leftBrace)
        case UInt8(ascii: "}"): return take(1, .rightBrace)
        case UInt8(ascii: ","): return take(1, .comma)
        case UInt8(ascii: ":"): return take(1, .colon)
        case UInt8(ascii: ";"): return take(1, .semicolon)
        case UInt8(ascii: "."):
            return n1 == UInt8(ascii: ".") && n2 == UInt8(ascii: ".") ? take(3, .ellipsis) : take(1, .dot)
        case UInt8(ascii: "+"): return n1 == eq ? take(2, .plusEqual) : take(1, .plus)
        case UInt8(ascii: "-"): return n1 == eq ? take(2, .minusEqual) : take(1, .minus)
        case UInt8(ascii: "*"):
            if n1 == UInt8(ascii: "*") { return n2 == eq ? take(3, .starStarEqual) : take(2, .starStar) }
            return n1 == eq ? take(2, .starEqual) : take(1, .star)
        case UInt8(ascii: "/"):
            if n1 == UInt8(ascii: "/") { return n2 == eq ? take(3, .slashSlashEqual) : take(2, .slashSlash) }
            return n1 == eq ? take(2, .slashEqual) : take(1, .slash)
        case UInt8(ascii: "%"): return n1 == eq ? take(2, .percentEqual) : take(1, .percent)
        case UInt8(ascii: "&"): return n1 == UInt8(ascii: "&") ? take(2, .ampAmp) : take(1, .amp)
        case UInt8(ascii: "|"): return n1 == UInt8(ascii: "|") ? take(2, .pipePipe) : take(1, .pipe)
        case UInt8(ascii: "^"): return take(1, .caret)
        case UInt8(ascii: "!"): return n1 == eq ? take(2, .bangEqual) : take(1, .bang)
        case UInt8(ascii: "<"): return n1 == eq ? take(2, .lessEqual) : take(1, .less)
        case UInt8(ascii: ">"): return n1 == eq ? take(2, .greaterEqual) : take(1, .greater)
        case UInt8(ascii: "="):
            if n1 == UInt8(ascii: ">") {
                throw error("unexpected '=>': NetScript has no arrow functions (write fn(x) { … })", pos, pos + 2)
            }
            return n1 == eq ? take(2, .equalEqual) : take(1, .equal)
        default: return nil
        }
    }

    /// `digits.digits.digits…` (two dots or more, which no number has) with an optional `/len`
    /// written without spaces: an IPv4 address or network literal. Validation is the address
    /// parser's, so `10.0.0.256` gets its precise error.
    mutating func addressLiteral() -> String? {
        var i = pos, dots = 0
        while i < end, Lexer.isDigit(bytes[i]) || (bytes[i] == UInt8(ascii: ".") && i + 1 < end && Lexer.isDigit(bytes[i + 1])) {
            if bytes[i] == UInt8(ascii: ".") { dots += 1 }
            i += 1
        }
        guard dots >= 2 else { return nil }
        if i + 1 < end, bytes[i] == UInt8(ascii: "/"), Lexer.isDigit(bytes[i + 1]) {
            i += 1
            while i < end, Lexer.isDigit(bytes[i]) || bytes[i] == UInt8(ascii: ".") { i += 1 }
        }
        if i < end, Lexer.isIdentChar(bytes[i]) { return nil }
        let text = String(decoding: bytes[pos..<i], as: UTF8.self)
        pos = i
        return text
    }

    /// An IPv6 address or network literal (grammar.md §1): the longest run of hex digits and
    /// colons (a dot only before a decimal digit, for `::ffff:192.0.2.1`) starting here, when it
    /// contains `::`, or starts with a decimal digit and has two colons or more, or has seven
    /// colons (all eight groups), not counting a single colon at either end. So `a:b`, `{1:2}`
    /// and `xs[1:2]` keep their meaning: a label or a slice has one colon, and `::` was never
    /// valid code. Then an optional `/LEN` or
    /// `%ZONE` (letters, digits, `_`). Letters glued to the end stay in the token so that the
    /// address parser's error names the whole text.
    mutating func ipv6Literal() -> String? {
        // A single colon never starts or ends an address (`::` does): `xs[:2001:db8::1]` and
        // `{::1: "x"}` keep their slice and map colons.
        if bytes[pos] == UInt8(ascii: ":"), peekByte(1) != UInt8(ascii: ":") { return nil }
        var i = pos, colons = 0, doubleColon = false
        while i < end {
            let c = bytes[i]
            if c == UInt8(ascii: ":") {
                colons += 1
                if i > pos, bytes[i - 1] == UInt8(ascii: ":") { doubleColon = true }
            } else if c == UInt8(ascii: ".") {
                guard i + 1 < end, Lexer.isDigit(bytes[i + 1]) else { break }
            } else if !Lexer.isHexDigit(c) {
                break
            }
            i += 1
        }
        if i - pos >= 2, bytes[i - 1] == UInt8(ascii: ":"), bytes[i - 2] != UInt8(ascii: ":") { i -= 1; colons -= 1 }
        guard doubleColon || colons == 7 || (Lexer.isDigit(bytes[pos]) && colons >= 2) else { return nil }
        if i + 1 < end, bytes[i] == UInt8(ascii: "/"), Lexer.isDigit(bytes[i + 1]) {
            i += 1
            while i < end, Lexer.isDigit(bytes[i]) { i += 1 }
        } else if i + 1 < end, bytes[i] == UInt8(ascii: "%"), Lexer.isIdentChar(bytes[i + 1]) {
            i += 1
            while i < end, Lexer.isIdentChar(bytes[i]) { i += 1 }
        }
        while i < end, Lexer.isIdentChar(bytes[i]) { i += 1 }
        let text = String(decoding: bytes[pos..<i], as: UTF8.self)
        pos = i
        return text
    }

    mutating func number() throws -> TokenKind {
        let start = pos
        var digits = ""
        var radix = 10
        if bytes[pos] == UInt8(ascii: "0"), pos + 1 < end,
           [UInt8(ascii: "x"), UInt8(ascii: "X"), UInt8(ascii: "b"), UInt8(ascii: "B"), UInt8(ascii: "o"), UInt8(ascii: "O")].contains(bytes[pos + 1]) {
            let c = bytes[pos + 1] | 0x20
            radix = c == UInt8(ascii: "x") ? 16 : c == UInt8(ascii: "b") ? 2 : 8
            pos += 2
            while pos < end, Lexer.isIdentChar(bytes[pos]) {
                if bytes[pos] != UInt8(ascii: "_") { digits.unicodeScalars.append(UnicodeScalar(bytes[pos])) }
                pos += 1
            }
            guard !digits.isEmpty, let v = Int(digits, radix: radix) else {
                if let _ = UInt64(digits, radix: radix) { throw error("integer literal is too large for 64 bits", start, pos) }
                throw error("malformed number '\(String(decoding: bytes[start..<pos], as: UTF8.self))'", start, pos)
            }
            return .int(v)
        }
        var isFloat = false
        func eatDigits() {
            while pos < end, Lexer.isDigit(bytes[pos]) || bytes[pos] == UInt8(ascii: "_") {
                if bytes[pos] != UInt8(ascii: "_") { digits.unicodeScalars.append(UnicodeScalar(bytes[pos])) }
                pos += 1
            }
        }
        eatDigits()
        if pos + 1 < end, bytes[pos] == UInt8(ascii: "."), Lexer.isDigit(bytes[pos + 1]) {
            isFloat = true
            digits += "."
            pos += 1
            eatDigits()
        }
        if pos < end, bytes[pos] | 0x20 == UInt8(ascii: "e") {
            var k = pos + 1
            if k < end, bytes[k] == UInt8(ascii: "+") || bytes[k] == UInt8(ascii: "-") { k += 1 }
            if k < end, Lexer.isDigit(bytes[k]) {
                isFloat = true
                digits += String(decoding: bytes[pos..<k], as: UTF8.self)
                pos = k
                eatDigits()
            }
        }
        if pos < end, Lexer.isIdentStart(bytes[pos]) {
            while pos < end, Lexer.isIdentChar(bytes[pos]) { pos += 1 }
            throw error("malformed number '\(String(decoding: bytes[start..<pos], as: UTF8.self))'", start, pos)
        }
        if isFloat {
            guard let d = Double(digits) else { throw error("malformed number", start, pos) }
            return .float(d)
        }
        guard let v = Int(digits) else {
            // -9223372036854775808 is an int: the minus is a separate token, so allow its
            // magnitude here exactly when a minus comes right before.
            if digits == "9223372036854775808", start > 0, bytes[start - 1] == UInt8(ascii: "-") { return .int(Int.min) }
            throw error("integer literal \(digits) is too large for 64 bits", start, pos)
        }
        return .int(v)
    }

    /// Reads an escape after a backslash; `pos` is at the character after the backslash.
    mutating func escape(quote: UInt8, allowBytes: Bool) throws -> [UInt8] {
        let at = pos - 1
        guard pos < end else { throw error("unterminated string", at) }
        let c = bytes[pos]
        pos += 1
        switch c {
        case UInt8(ascii: "n"): return [0x0A]
        case UInt8(ascii: "r"): return [0x0D]
        case UInt8(ascii: "t"): return [0x09]
        case UInt8(ascii: "0"): return [0]
        case UInt8(ascii: "\\"): return [0x5C]
        case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "{"), UInt8(ascii: "}"): return [c]
        case UInt8(ascii: "x"):
            guard pos + 2 <= end, let v = UInt8(String(decoding: bytes[pos..<pos + 2], as: UTF8.self), radix: 16) else {
                throw error("\\x needs two hex digits", at, min(pos + 2, end))
            }
            pos += 2
            if !allowBytes && v >= 0x80 { throw error("\\x\(String(v, radix: 16)) is not ASCII: write \\u{\(String(v, radix: 16))} for a character, or use b\"…\" for bytes", at, pos) }
            return [v]
        case UInt8(ascii: "u"):
            guard pos < end, bytes[pos] == UInt8(ascii: "{") else { throw error("\\u must be followed by {hex digits}", at, pos) }
            var k = pos + 1
            while k < end, k - pos <= 8, bytes[k] != UInt8(ascii: "}") { k += 1 }
            guard k < end, bytes[k] == UInt8(ascii: "}"),
                  let v = UInt32(String(decoding: bytes[(pos + 1)..<k], as: UTF8.self), radix: 16),
                  let scalar = UnicodeScalar(v) else {
                throw error("\\u{…} needs 1 to 6 hex digits naming a Unicode scalar", at, min(k + 1, end))
            }
            pos = k + 1
            return Array(String(Character(scalar)).utf8)
        default:
            throw error("unknown escape \\\(String(decoding: [c], as: UTF8.self))", at, pos)
        }
    }

    mutating func doubleQuoted() throws -> [StringPart] {
        let start = pos
        pos += 1
        var parts: [StringPart] = []
        var buf: [UInt8] = []
        while true {
            guard pos < end else { throw error("unterminated string (opened here)", start) }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { pos += 1; break }
            if c == UInt8(ascii: "\\") {
                pos += 1
                buf += try escape(quote: UInt8(ascii: "\""), allowBytes: false)
                continue
            }
            if c == UInt8(ascii: "{") {
                if !buf.isEmpty { parts.append(.text(String(decoding: buf, as: UTF8.self))); buf = [] }
                let open = pos
                pos += 1
                let codeStart = pos
                try skipBalanced(open: open)
                let codeEnd = pos - 1
                if codeEnd <= codeStart || bytes[codeStart..<codeEnd].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    throw error("empty {} in a string: write \\{ for a literal brace", open, pos)
                }
                parts.append(.code(SourceRange(codeStart, codeEnd)))
                continue
            }
            buf.append(c)
            pos += 1
        }
        if !buf.isEmpty || parts.isEmpty { parts.append(.text(String(decoding: buf, as: UTF8.self))) }
        return parts
    }

    /// Skips to just after the `}` that closes the interpolation opened at `open`,
    /// stepping over nested braces and string literals.
    mutating func skipBalanced(open: Int) throws {
        interpolationDepth += 1
        defer { interpolationDepth -= 1 }
        if interpolationDepth > Parser.maxDepth {
            throw error("strings are nested too deep (more than \(Parser.maxDepth) levels of {…})", open)
        }
        var depth = 1
        while pos < end {
            let c = bytes[pos]
            switch c {
            case UInt8(ascii: "{"): depth += 1; pos += 1
            case UInt8(ascii: "}"):
                depth -= 1; pos += 1
                if depth == 0 { return }
            case UInt8(ascii: "\""): _ = try doubleQuoted()
            case UInt8(ascii: "'"): _ = try singleQuoted()
            case UInt8(ascii: "\\"):
                // Never valid in the code of an interpolation: most often `"{\"a\": 1}"`
                // meant a literal brace.
                throw error("a backslash inside {…} in a string: write \\{ for a literal brace, or use single quotes ('{\"a\": 1}')", pos)
            case 0x0A: throw error("unterminated {…} in a string", open, pos)
            default: pos += 1
            }
        }
        throw error("unterminated {…} in a string", open)
    }

    /// Single quotes: no interpolation; only `\'` and `\\` are escapes.
    mutating func singleQuoted() throws -> String {
        let start = pos
        pos += 1
        var buf: [UInt8] = []
        while true {
            guard pos < end else { throw error("unterminated string (opened here)", start) }
            let c = bytes[pos]
            if c == UInt8(ascii: "'") { pos += 1; break }
            if c == UInt8(ascii: "\\"), pos + 1 < end, bytes[pos + 1] == UInt8(ascii: "'") || bytes[pos + 1] == UInt8(ascii: "\\") {
                buf.append(bytes[pos + 1]); pos += 2; continue
            }
            buf.append(c); pos += 1
        }
        return String(decoding: buf, as: UTF8.self)
    }

    /// `b"…"`: bytes, with `\xNN` escapes for any byte value.
    mutating func bytesLiteral() throws -> [UInt8] {
        let quote = bytes[pos]
        let start = pos
        pos += 1
        var buf: [UInt8] = []
        while true {
            guard pos < end else { throw error("unterminated bytes literal", start) }
            let c = bytes[pos]
            if c == quote { pos += 1; break }
            if c == UInt8(ascii: "\\") {
                pos += 1
                buf += try escape(quote: quote, allowBytes: true)
                continue
            }
            buf.append(c); pos += 1
        }
        return buf
    }
}
