/// Recursive-descent parser from tokens to the syntax tree. The grammar is in `grammar.md`.
public struct Parser {
    /// Nesting deeper than this is a syntax error rather than a stack overflow.
    public static let maxDepth = 200

    let source: Source
    var tokens: [Token]
    var i = 0
    /// One entry per open bracket: `true` where newlines are insignificant (inside `( [ {map`),
    /// `false` inside a block, where they separate statements.
    var newlineIgnored: [Bool] = [false]
    /// Set while parsing the head of `if`/`while`/`for`, where `{` opens the block, not a map.
    var noBraceArgs = false
    var depth = 0

    public init(source: Source, range: SourceRange? = nil) throws {
        self.source = source
        self.tokens = try Lexer.tokenize(source, range: range)
    }

    /// Parses a whole program.
    public static func parse(_ source: Source) throws -> [Stmt] {
        var p = try Parser(source: source)
        return try p.parseProgram()
    }

    // MARK: tokens

    var ignoringNewlines: Bool { newlineIgnored.last ?? false }

    mutating func skipIgnoredNewlines() {
        if ignoringNewlines { while tokens[i].kind == .newline { i += 1 } }
    }

    var peek: Token { mutating get { skipIgnoredNewlines(); return tokens[i] } }

    func peekAhead(_ k: Int) -> Token {
        var j = i, n = 0
        while j < tokens.count - 1 {
            if ignoringNewlines, tokens[j].kind == .newline { j += 1; continue }
            if n == k { return tokens[j] }
            n += 1; j += 1
        }
        return tokens[tokens.count - 1]
    }

    @discardableResult
    mutating func advance() -> Token {
        skipIgnoredNewlines()
        let t = tokens[i]
        if i < tokens.count - 1 { i += 1 }
        return t
    }

    mutating func isPunct(_ p: String) -> Bool { peek.kind == .punct(p) }
    mutating func isKeyword(_ k: String) -> Bool { peek.kind == .keyword(k) }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .ident(let n): return "name '\(n)'"
        case .label(let n): return "option '\(n):'"
        case .keyword(let k): return "keyword '\(k)'"
        case .int, .float: return "number \(source.text(t.range))"
        case .address(let a): return "address \(a)"
        case .string, .rawString: return "string"
        case .bytes: return "bytes literal"
        case .punct(let p): return "'\(p)'"
        case .newline: return "end of line"
        case .eof: return "end of input"
        }
    }

    func error(_ message: String, _ range: SourceRange) -> Diagnostic {
        Diagnostic("syntax", message, location: SourceLocation(source: source, range: range))
    }

    mutating func expected(_ what: String) -> Diagnostic {
        let t = peek
        // At the end of input, point just past the last real token rather than at an empty last line.
        if t.kind == .eof, let last = tokens[..<i].last(where: { $0.kind != .newline && $0.kind != .eof }) {
            return error("expected \(what), found \(describe(t))", SourceRange(last.range.end, last.range.end))
        }
        return error("expected \(what), found \(describe(t))", t.range)
    }

    mutating func expectPunct(_ p: String, _ what: String? = nil) throws -> Token {
        guard isPunct(p) else { throw expected(what ?? "'\(p)'") }
        return advance()
    }

    mutating func expectIdent(_ what: String) throws -> (String, SourceRange) {
        let t = peek
        if case .ident(let n) = t.kind { advance(); return (n, t.range) }
        throw expected(what)
    }

    mutating func enter(_ range: SourceRange) throws {
        depth += 1
        if depth > Parser.maxDepth { throw error("nesting is too deep (more than \(Parser.maxDepth) levels)", range) }
    }
    mutating func leave() { depth -= 1 }

    // MARK: expressions

    /// `command` is true at the start of a statement and right after `=`, `(`, `return`,
    /// `if`, `while` and `in`: there a name alone is run as a command.
    public mutating func parseExpr(command: Bool) throws -> Expr {
        try enter(peek.range)
        defer { leave() }
        var lhs = try parseOr(command)
        while true {
            // A pipeline may continue on the next line when that line starts with `|`.
            var j = i
            while tokens[j].kind == .newline { j += 1 }
            guard tokens[j].kind == .punct("|") else { break }
            i = j
            advance()
            let rhsStart = peek
            let head = try parsePostfix()
            let args = try parseArguments()
            guard isCallableHead(head) else {
                throw error("the right side of '|' must be a command (a name, optionally with arguments)", rhsStart.range)
            }
            lhs = Expr(.pipe(lhs, head, args), lhs.range.to(previousRange))
        }
        return lhs
    }

    func isCallableHead(_ e: Expr) -> Bool {
        switch e.kind {
        case .name, .field, .index, .function: return true
        default: return false
        }
    }

    mutating func parseOr(_ command: Bool) throws -> Expr {
        var lhs = try parseAnd(command)
        while isKeyword("or") || isPunct("||") {
            advance()
            let rhs = try parseAnd(false)
            lhs = Expr(.or(lhs, rhs), lhs.range.to(rhs.range))
        }
        return lhs
    }

    mutating func parseAnd(_ command: Bool) throws -> Expr {
        var lhs = try parseNot(command)
        while isKeyword("and") || isPunct("&&") {
            advance()
            let rhs = try parseNot(false)
            lhs = Expr(.and(lhs, rhs), lhs.range.to(rhs.range))
        }
        return lhs
    }

    mutating func parseNot(_ command: Bool) throws -> Expr {
        if isKeyword("not") || isPunct("!") {
            let t = advance()
            try enter(t.range)
            defer { leave() }
            let e = try parseNot(false)
            return Expr(.unary("not", e), t.range.to(e.range))
        }
        return try parseComparison(command)
    }

    mutating func parseComparison(_ command: Bool) throws -> Expr {
        let lhs = try parseAdditive(command)
        var op: String? = nil
        if case .punct(let p) = peek.kind, ["==", "!=", "<", "<=", ">", ">="].contains(p) { op = p }
        else if isKeyword("in") { op = "in" }
        else if isKeyword("not"), peekAhead(1).kind == .keyword("in") { advance(); op = "not in" }
        guard let op else { return lhs }
        advance()
        let rhs = try parseAdditive(false)
        let e = Expr(.binary(op, lhs, rhs), lhs.range.to(rhs.range))
        if case .punct(let p) = peek.kind, ["==", "!=", "<", "<=", ">", ">="].contains(p) {
            throw error("comparisons do not chain: write `a < b and b < c`", peek.range)
        }
        return e
    }

    mutating func parseAdditive(_ command: Bool) throws -> Expr {
        try parseLeftAssociative(["+", "-", "&", "^"], command) { p, c in try p.parseMultiplicative(c) }
    }

    mutating func parseMultiplicative(_ command: Bool) throws -> Expr {
        try parseLeftAssociative(["*", "/", "%", "//"], command) { p, c in try p.parseUnary(c) }
    }

    /// `operand (op operand)*` for one precedence level of left-associative operators; only
    /// the first operand can be in command position.
    mutating func parseLeftAssociative(_ ops: Set<String>, _ command: Bool,
                                       _ operand: (inout Parser, Bool) throws -> Expr) throws -> Expr {
        var lhs = try operand(&self, command)
        while case .punct(let p) = peek.kind, ops.contains(p) {
            advance()
            let rhs = try operand(&self, false)
            lhs = Expr(.binary(p, lhs, rhs), lhs.range.to(rhs.range))
        }
        return lhs
    }

    mutating func parseUnary(_ command: Bool) throws -> Expr {
        if isPunct("-") || isPunct("+") {
            let t = advance()
            try enter(t.range)
            defer { leave() }
            let e = try parseUnary(false)
            if t.kind == .punct("+") { return e }
            // Fold `-5` into a literal so `-9223372036854775808` style values stay exact.
            if case .literal(.int(let v)) = e.kind { return Expr(.literal(.int(0 &- v)), t.range.to(e.range)) }
            if case .literal(.float(let v)) = e.kind { return Expr(.literal(.float(-v)), t.range.to(e.range)) }
            return Expr(.unary("-", e), t.range.to(e.range))
        }
        return try parsePower(command)
    }

    mutating func parsePower(_ command: Bool) throws -> Expr {
        let base = try parseApplication(command)
        if isPunct("**") {
            let op = advance()
            try enter(op.range)   // `a ** b ** c …` recurses once per operator
            defer { leave() }
            let exp = try parseUnary(false)  // right-associative, and `2 ** -1` works
            return Expr(.binary("**", base, exp), base.range.to(exp.range))
        }
        return base
    }

    /// Whether the next token can start an argument of a command call.
    mutating func startsArgument() -> Bool {
        let t = tokens[i]   // arguments never continue past a significant newline
        if t.kind == .newline && !ignoringNewlines { return false }
        let p = peek
        switch p.kind {
        case .int, .float, .string, .rawString, .bytes, .address, .ident, .label: return true
        case .keyword(let k): return k == "true" || k == "false" || k == "nil" || (k == "fn" && peekAhead(1).kind == .punct("("))
        case .punct("("), .punct("["): return p.spaceBefore
        case .punct("{"): return p.spaceBefore && !noBraceArgs
        case .punct("-"):
            // `f -1`: a negative number argument (space before the minus, none after).
            let n = peekAhead(1)
            if p.spaceBefore, !n.spaceBefore {
                switch n.kind { case .int, .float: return true; default: return false }
            }
            return false
        default: return false
        }
    }

    mutating func parseArguments() throws -> [Argument] {
        var args: [Argument] = []
        while startsArgument() {
            let t = peek
            if case .label(let name) = t.kind {
                advance()
                guard startsArgument(), !(peek.kind.isLabel) else {
                    throw error("option '\(name):' needs a value", t.range)
                }
                let v = try parseArgumentValue()
                args.append(.option(name, v, t.range))
            } else {
                args.append(.positional(try parseArgumentValue()))
            }
        }
        return args
    }

    mutating func parseArgumentValue() throws -> Expr {
        if isPunct("-") {
            let m = advance()
            let n = advance()
            switch n.kind {
            case .int(let v): return Expr(.literal(.int(0 &- v)), m.range.to(n.range))
            case .float(let v): return Expr(.literal(.float(-v)), m.range.to(n.range))
            default: throw error("expected a number after '-'", n.range)
            }
        }
        return try parsePostfix()
    }

    mutating func parseApplication(_ command: Bool) throws -> Expr {
        let head = try parsePostfix()
        let args = try parseArguments()
        if args.isEmpty {
            if command, case .name = head.kind { return Expr(.call(head, [], bare: true), head.range) }
            if command, case .field = head.kind { return Expr(.call(head, [], bare: true), head.range) }
            return head
        }
        guard isCallableHead(head) else {
            throw error("\(describeExpr(head)) cannot be called with arguments (missing an operator or a comma?)", head.range.to(previousRange))
        }
        return Expr(.call(head, args, bare: false), head.range.to(previousRange))
    }

    func describeExpr(_ e: Expr) -> String {
        switch e.kind {
        case .literal(let v): return "\(v.typeName.withArticle) literal"
        case .interpolated: return "a string"
        case .list: return "a list"
        case .map: return "a map"
        default: return "this expression"
        }
    }

    mutating func parsePostfix() throws -> Expr {
        var e = try parsePrimary()
        while true {
            let t = tokens[i]
            if t.kind == .punct(".") {
                advance()
                let n = tokens[i]
                switch n.kind {
                case .ident(let name), .keyword(let name):
                    advance()
                    e = Expr(.field(e, name), e.range.to(n.range))
                case .label(let name):
                    // `a.b:` cannot be a field followed by an option; treat as field then option label.
                    throw error("unexpected ':' after field '\(name)'", n.range)
                default:
                    throw error("expected a field name after '.', found \(describe(n))", n.range)
                }
            } else if t.kind == .punct("["), !t.spaceBefore {
                advance()
                newlineIgnored.append(true)
                defer { newlineIgnored.removeLast() }
                var lo: Expr? = nil, hi: Expr? = nil
                var isSlice = false
                if !isPunct(":") {
                    if case .label(let n) = peek.kind {
                        // `xs[a:b]` lexes `a:` as a label.
                        let lt = advance()
                        lo = Expr(.name(n), SourceRange(lt.range.start, lt.range.end - 1))
                        isSlice = true
                    } else {
                        lo = try parseExpr(command: false)
                    }
                }
                if !isSlice, isPunct(":") { advance(); isSlice = true }
                if isSlice, !isPunct("]") { hi = try parseExpr(command: false) }
                let close = try expectPunct("]", "']' to close the index")
                if isSlice { e = Expr(.slice(e, lo, hi), e.range.to(close.range)) }
                else { e = Expr(.index(e, lo!), e.range.to(close.range)) }
            } else if t.kind == .punct("("), !t.spaceBefore {
                // `f(a, b)`: a call with comma-separated arguments.
                advance()
                newlineIgnored.append(true)
                var args: [Argument] = []
                while !isPunct(")") {
                    if case .label(let name) = peek.kind {
                        let lt = advance()
                        args.append(.option(name, try parseExpr(command: false), lt.range))
                    } else {
                        args.append(.positional(try parseExpr(command: false)))
                    }
                    if isPunct(",") { advance() } else if !isPunct(")") {
                        newlineIgnored.removeLast()
                        throw expected("',' or ')' in the argument list")
                    }
                }
                newlineIgnored.removeLast()
                let close = advance()
                e = Expr(.call(e, args, bare: false), e.range.to(close.range))
            } else {
                return e
            }
        }
    }

    mutating func parsePrimary() throws -> Expr {
        let t = peek
        switch t.kind {
        case .address(let text):
            advance()
            do { return Expr(.literal(try AddressBuiltins.literal(text)), t.range) } catch var d as Diagnostic {
                d.location = SourceLocation(source: source, range: t.range)
                throw d
            }
        case .int(let v): advance(); return Expr(.literal(.int(v)), t.range)
        case .float(let v): advance(); return Expr(.literal(.float(v)), t.range)
        case .rawString(let s): advance(); return Expr(.literal(.string(s)), t.range)
        case .bytes(let b): advance(); return Expr(.literal(.bytes(b)), t.range)
        case .string(let parts):
            advance()
            return try interpolated(parts, t.range)
        case .keyword("true"): advance(); return Expr(.literal(.bool(true)), t.range)
        case .keyword("false"): advance(); return Expr(.literal(.bool(false)), t.range)
        case .keyword("nil"): advance(); return Expr(.literal(.nil), t.range)
        case .keyword("fn"):
            advance()
            try enter(t.range)
            defer { leave() }
            let decl = try parseFunctionRest(name: nil, start: t.range)
            return Expr(.function(decl), decl.range)
        case .ident("spawn") where peekAhead(1).kind == .punct("{"): return try parseSpawnBlock()
        case .ident("parallel") where peekAhead(1).kind == .keyword("for"): return try parseParallelFor()
        case .ident(let n): advance(); return Expr(.name(n), t.range)
        case .punct("("):
            advance()
            try enter(t.range)
            defer { leave() }
            newlineIgnored.append(true)
            let saved = noBraceArgs
            noBraceArgs = false
            defer { noBraceArgs = saved }
            if isPunct(")") { newlineIgnored.removeLast(); throw expected("an expression inside '( )'") }
            let e = try parseExpr(command: true)
            guard isPunct(")") else {
                let err = expected("')' to close the '(' opened at column \(source.lineColumn(of: t.range.start).column)")
                newlineIgnored.removeLast()
                throw err
            }
            newlineIgnored.removeLast()
            let close = advance()
            return Expr(e.kind, t.range.to(close.range))
        case .punct("["):
            advance()
            try enter(t.range)
            defer { leave() }
            newlineIgnored.append(true)
            let saved = noBraceArgs
            noBraceArgs = false
            defer { noBraceArgs = saved; newlineIgnored.removeLast() }
            var items: [Expr] = []
            while !isPunct("]") {
                if peek.kind == .eof { throw error("unclosed '[' (the list opened here has no ']')", t.range) }
                items.append(try parseExpr(command: false))
                if isPunct(",") { advance() } else if !isPunct("]") { throw expected("',' or ']' in the list") }
            }
            let close = advance()
            return Expr(.list(items), t.range.to(close.range))
        case .punct("{"):
            advance()
            try enter(t.range)
            defer { leave() }
            newlineIgnored.append(true)
            let saved = noBraceArgs
            noBraceArgs = false
            defer { noBraceArgs = saved; newlineIgnored.removeLast() }
            var entries: [(Expr, Expr)] = []
            while !isPunct("}") {
                let k = peek
                var key: Expr
                switch k.kind {
                case .label(let n):
                    advance()
                    key = Expr(.literal(.string(n)), k.range)
                case .eof:
                    throw error("unclosed '{' (the map opened here has no '}')", t.range)
                default:
                    key = try parseExpr(command: false)
                    _ = try expectPunct(":", "':' after the map key")
                }
                let v = try parseExpr(command: false)
                entries.append((key, v))
                if isPunct(",") { advance() } else if !isPunct("}") { throw expected("',' or '}' in the map") }
            }
            let close = advance()
            return Expr(.map(entries), t.range.to(close.range))
        case .label(let n):
            throw error("unexpected option '\(n):' (options follow a command name)", t.range)
        default:
            throw expected("an expression")
        }
    }

    func interpolated(_ parts: [StringPart], _ range: SourceRange) throws -> Expr {
        if parts.count == 1, case .text(let s) = parts[0] { return Expr(.literal(.string(s)), range) }
        var out: [InterpolationPart] = []
        for p in parts {
            switch p {
            case .text(let s): out.append(.text(s))
            case .code(let r):
                var sub = try Parser(source: source, range: r)
                sub.depth = depth + 1
                sub.newlineIgnored = [true]
                let e = try sub.parseExpr(command: true)
                guard sub.peek.kind == .eof else { throw sub.expected("'}' to end the interpolation") }
                out.append(.expr(e))
            }
        }
        return Expr(.interpolated(out), range)
    }
}

extension TokenKind {
    var isLabel: Bool { if case .label = self { return true } else { return false } }
}
