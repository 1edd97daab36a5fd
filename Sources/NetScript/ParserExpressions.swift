import NetKit

/// Expressions: the rules of grammar.md §2 from `expression` to `fnexpr`, loosest first, one
/// function a rule. `command` is true where a name standing alone runs the command it names
/// (grammar.md §4, "Command position"): at the start of a statement and right after `=`, `(`,
/// `return`, `if`, `while` and `in`. Only the leftmost operand of an expression can be there.
extension Parser {
    /// expression = or_expr { "|" pipe_cmd } ;
    mutating func parseExpression(command: Bool) throws -> Expr {
        try enter(peek.range)
        defer { leave() }
        var lhs = try parseOrExpr(command)
        while true {
            // A pipeline may continue on the next line when that line starts with `|`.
            let j = indexPastNewlines()
            guard tokens[j].kind == .symbol(.pipe) else { break }
            i = j
            advance()
            let (head, args) = try parsePipeCmd()
            lhs = Expr(.pipe(lhs, head, args), lhs.range.to(previousRange))
        }
        return lhs
    }

    /// pipe_cmd = postfix { argument } ;
    mutating func parsePipeCmd() throws -> (Expr, [Argument]) {
        let rhsStart = peek
        let head = try parsePostfix()
        var args: [Argument] = []
        while startsArgument() { args.append(try parseArgument()) }
        guard isCallableHead(head) else {
            throw error("the right side of '|' must be a command (a name, optionally with arguments)", rhsStart.range)
        }
        return (head, args)
    }

    func isCallableHead(_ e: Expr) -> Bool {
        switch e.kind {
        case .name, .field, .index, .function: return true
        default: return false
        }
    }

    /// or_expr = and_expr { ( "or" | "||" ) and_expr } ;
    mutating func parseOrExpr(_ command: Bool) throws -> Expr {
        var lhs = try parseAndExpr(command)
        while check(.or) || check(.pipePipe) {
            advance()
            let rhs = try parseAndExpr(false)
            lhs = Expr(.or(lhs, rhs), lhs.range.to(rhs.range))
        }
        return lhs
    }

    /// and_expr = not_expr { ( "and" | "&&" ) not_expr } ;
    mutating func parseAndExpr(_ command: Bool) throws -> Expr {
        var lhs = try parseNotExpr(command)
        while check(.and) || check(.ampAmp) {
            advance()
            let rhs = try parseNotExpr(false)
            lhs = Expr(.and(lhs, rhs), lhs.range.to(rhs.range))
        }
        return lhs
    }

    /// not_expr = ( "not" | "!" ) not_expr | comparison ;
    mutating func parseNotExpr(_ command: Bool) throws -> Expr {
        if check(.not) || check(.bang) {
            let t = advance()
            try enter(t.range)
            defer { leave() }
            let e = try parseNotExpr(false)
            return Expr(.unary("not", e), t.range.to(e.range))
        }
        return try parseComparison(command)
    }

    /// comparison = additive [ ( "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in" ) additive ] ;
    mutating func parseComparison(_ command: Bool) throws -> Expr {
        let lhs = try parseAdditive(command)
        var op: String? = nil
        if let t = peek.kind.type, t.isComparison { op = t.rawValue }
        else if check(.in) { op = "in" }
        else if check(.not), peekAhead(1).kind == .symbol(.in) { advance(); op = "not in" }
        guard let op else { return lhs }
        advance()
        let rhs = try parseAdditive(false)
        let e = Expr(.binary(op, lhs, rhs), lhs.range.to(rhs.range))
        if let t = peek.kind.type, t.isComparison {
            throw error("comparisons do not chain: write `a < b and b < c`", peek.range)
        }
        return e
    }

    /// additive = term { ( "+" | "-" | "&" | "^" ) term } ;
    mutating func parseAdditive(_ command: Bool) throws -> Expr {
        var lhs = try parseTerm(command)
        while let t = peek.kind.type, t == .plus || t == .minus || t == .amp || t == .caret {
            advance()
            let rhs = try parseTerm(false)
            lhs = Expr(.binary(t.rawValue, lhs, rhs), lhs.range.to(rhs.range))
        }
        return lhs
    }

    /// term = unary { ( "*" | "/" | "//" | "%" ) unary } ;
    mutating func parseTerm(_ command: Bool) throws -> Expr {
        var lhs = try parseUnary(command)
        while let t = peek.kind.type, t == .star || t == .slash || t == .slashSlash || t == .percent {
            advance()
            let rhs = try parseUnary(false)
            lhs = Expr(.binary(t.rawValue, lhs, rhs), lhs.range.to(rhs.range))
        }
        return lhs
    }

    /// unary = ( "-" | "+" ) unary | power ;
    mutating func parseUnary(_ command: Bool) throws -> Expr {
        if check(.minus) || check(.plus) {
            let t = advance()
            try enter(t.range)
            defer { leave() }
            let e = try parseUnary(false)
            if t.kind == .symbol(.plus) { return e }
            // Fold `-5` into a literal so `-9223372036854775808` style values stay exact.
            if case .literal(.int(let v)) = e.kind { return Expr(.literal(.int(0 &- v)), t.range.to(e.range)) }
            if case .literal(.float(let v)) = e.kind { return Expr(.literal(.float(-v)), t.range.to(e.range)) }
            return Expr(.unary("-", e), t.range.to(e.range))
        }
        return try parsePower(command)
    }

    /// power = application [ "**" unary ] ;
    mutating func parsePower(_ command: Bool) throws -> Expr {
        let base = try parseApplication(command)
        if check(.starStar) {
            let op = advance()
            try enter(op.range)   // `a ** b ** c …` recurses once per operator
            defer { leave() }
            let exp = try parseUnary(false)  // right-associative, and `2 ** -1` works
            return Expr(.binary("**", base, exp), base.range.to(exp.range))
        }
        return base
    }

    /// application = postfix { argument } ;
    mutating func parseApplication(_ command: Bool) throws -> Expr {
        let head = try parsePostfix()
        var args: [Argument] = []
        while startsArgument() { args.append(try parseArgument()) }
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

    /// Whether the next token can start an `argument` of a command: whitespace decides for
    /// `(`, `[` and `-` (grammar.md §1), and in a `condition` a `{` opens the block instead.
    mutating func startsArgument() -> Bool {
        let t = current   // arguments never continue past a significant newline
        if t.kind == .newline && !ignoringNewlines { return false }
        let p = peek
        switch p.kind {
        case .int, .float, .string, .rawString, .bytes, .address, .ident: return true
        case .label(let name): return !reservedLabels.contains(name)
        case .symbol(.true), .symbol(.false), .symbol(.nil): return true
        case .symbol(.fn): return peekAhead(1).kind == .symbol(.leftParen)
        case .symbol(.leftParen), .symbol(.leftBracket): return p.spaceBefore
        case .symbol(.leftBrace): return p.spaceBefore && !noBraceArgs
        case .symbol(.minus):
            // `f -1`: a negative number argument (space before the minus, none after).
            let n = peekAhead(1)
            if p.spaceBefore, !n.spaceBefore {
                switch n.kind { case .int, .float: return true; default: return false }
            }
            return false
        default: return false
        }
    }

    /// argument = LABEL arg_value | arg_value ;
    mutating func parseArgument() throws -> Argument {
        let t = peek
        guard case .label(let name) = t.kind else { return .positional(try parseArgValue()) }
        advance()
        guard startsArgument(), !(peek.kind.isLabel) else {
            throw error("option '\(name):' needs a value", t.range)
        }
        return .option(name, try parseArgValue(), t.range)
    }

    /// arg_value = "-" NUMBER | postfix ;
    mutating func parseArgValue() throws -> Expr {
        if check(.minus) {
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

    /// postfix = primary { "." ( NAME | KEYWORD ) | "[" expression "]" | "[" [ expression ] ":" [ expression ] "]"
    ///                   | "(" [ call_arg { "," call_arg } [ "," ] ] ")" } ;
    mutating func parsePostfix() throws -> Expr {
        var e = try parsePrimary()
        while true {
            let t = current
            if t.kind == .symbol(.dot) {
                advance()
                let n = current
                switch n.kind {
                case .ident(let name):
                    advance()
                    e = Expr(.field(e, name), e.range.to(n.range))
                case .symbol(let k) where k.isKeyword:
                    // `m.in`, `r.for`: a field may be spelled like a keyword.
                    advance()
                    e = Expr(.field(e, k.rawValue), e.range.to(n.range))
                case .label(let name):
                    // `a.b:` cannot be a field followed by an option.
                    throw error("unexpected ':' after field '\(name)'", n.range)
                default:
                    throw error("expected a field name after '.', found \(describe(n))", n.range)
                }
            } else if t.kind == .symbol(.leftBracket), !t.spaceBefore {
                advance()
                e = try nested(newlines: true) { p in
                    var lo: Expr? = nil, hi: Expr? = nil
                    var isSlice = false
                    if !p.check(.colon) {
                        if case .label(let n) = p.peek.kind {
                            // `xs[a:b]` lexes `a:` as a label.
                            let lt = p.advance()
                            lo = Expr(.name(n), SourceRange(lt.range.start, lt.range.end - 1))
                            isSlice = true
                        } else {
                            lo = try p.parseExpression(command: false)
                        }
                    }
                    if !isSlice, p.check(.colon) { p.advance(); isSlice = true }
                    if isSlice, !p.check(.rightBracket) { hi = try p.parseExpression(command: false) }
                    let close = try p.expect(.rightBracket, "']' to close the index")
                    if isSlice { return Expr(.slice(e, lo, hi), e.range.to(close.range)) }
                    return Expr(.index(e, lo!), e.range.to(close.range))
                }
            } else if t.kind == .symbol(.leftParen), !t.spaceBefore {
                // `f(a, b)`: a call with comma-separated arguments.
                advance()
                e = try nested(newlines: true) { p in
                    var args: [Argument] = []
                    while !p.check(.rightParen) {
                        args.append(try p.parseCallArg())
                        if p.check(.comma) { p.advance() } else if !p.check(.rightParen) {
                            throw p.expected("',' or ')' in the argument list")
                        }
                    }
                    let close = p.advance()
                    return Expr(.call(e, args, bare: false), e.range.to(close.range))
                }
            } else {
                return e
            }
        }
    }

    /// call_arg = LABEL expression | expression ;
    mutating func parseCallArg() throws -> Argument {
        if case .label(let name) = peek.kind {
            let lt = advance()
            return .option(name, try parseExpression(command: false), lt.range)
        }
        return .positional(try parseExpression(command: false))
    }

    /// primary = NUMBER | STRING | RAWSTRING | BYTES | ADDRESS | "true" | "false" | "nil" | NAME
    ///         | "(" expression ")" | list | map | fnexpr | spawn_block | parallel_for ;
    mutating func parsePrimary() throws -> Expr {
        let t = peek
        switch t.kind {
        case .address(let text): advance(); return try addressLiteral(text, t.range)
        case .int(let v): advance(); return Expr(.literal(.int(v)), t.range)
        case .float(let v): advance(); return Expr(.literal(.float(v)), t.range)
        case .rawString(let s): advance(); return Expr(.literal(.string(s)), t.range)
        case .bytes(let b): advance(); return Expr(.literal(.bytes(b)), t.range)
        case .string(let parts):
            advance()
            return try interpolated(parts, t.range)
        case .symbol(.true): advance(); return Expr(.literal(.bool(true)), t.range)
        case .symbol(.false): advance(); return Expr(.literal(.bool(false)), t.range)
        case .symbol(.nil): advance(); return Expr(.literal(.nil), t.range)
        case .symbol(.fn): return try parseFnexpr()
        case .ident(ContextualWord.spawn.rawValue) where peekAhead(1).kind == .punct("{"): return try parseSpawnBlock()
        case .ident(ContextualWord.parallel.rawValue) where peekAhead(1).kind == .keyword("for"): return try parseParallelFor()
        case .ident(let n): advance(); return Expr(.name(n), t.range)
        case .symbol(.leftParen):
            advance()
            try enter(t.range)
            defer { leave() }
            return try nested(newlines: true) { p in
                if p.check(.rightParen) { throw p.expected("an expression inside '( )'") }
                let e = try p.parseExpression(command: true)
                guard p.check(.rightParen) else {
                    throw p.expected("')' to close the '(' opened at column \(p.source.lineColumn(of: t.range.start).column)")
                }
                let close = p.advance()
                return Expr(e.kind, t.range.to(close.range))
            }
        case .symbol(.leftBracket): return try parseList()
        case .symbol(.leftBrace): return try parseMap()
        case .label(let n):
            throw error("unexpected option '\(n):' (options follow a command name)", t.range)
        default:
            throw expected("an expression")
        }
    }

    /// An ADDRESS token's value, parsed by NetKit's address parser; a malformed one is an
    /// error of kind `value` at the literal, before the program runs.
    func addressLiteral(_ text: String, _ range: SourceRange) throws -> Expr {
        let value: Value
        do {
            switch try AddressLiteral(parsing: text) {
            case .address(let a): value = .native(IPValue(a))
            case .network(let n): value = .native(CIDRValue(n))
            }
        } catch let e as AddressError {
            let message = e.looksLikeMAC
                ? "\(text) is not an IP address but looks like a MAC: write mac \"\(text)\""
                : e.message
            throw Diagnostic("value", message, location: SourceLocation(source: source, range: range))
        }
        return Expr(.literal(value), range)
    }

    /// list = "[" [ expression { "," expression } [ "," ] ] "]" ;
    mutating func parseList() throws -> Expr {
        let open = advance()
        try enter(open.range)
        defer { leave() }
        return try nested(newlines: true) { p in
            var items: [Expr] = []
            while !p.check(.rightBracket) {
                if p.peek.kind == .eof { throw p.error("unclosed '[' (the list opened here has no ']')", open.range) }
                items.append(try p.parseExpression(command: false))
                if p.check(.comma) { p.advance() } else if !p.check(.rightBracket) { throw p.expected("',' or ']' in the list") }
            }
            let close = p.advance()
            return Expr(.list(items), open.range.to(close.range))
        }
    }

    /// map = "{" [ entry { "," entry } [ "," ] ] "}" ;
    mutating func parseMap() throws -> Expr {
        let open = advance()
        try enter(open.range)
        defer { leave() }
        return try nested(newlines: true) { p in
            var entries: [(Expr, Expr)] = []
            while !p.check(.rightBrace) {
                if p.peek.kind == .eof { throw p.error("unclosed '{' (the map opened here has no '}')", open.range) }
                entries.append(try p.parseEntry())
                if p.check(.comma) { p.advance() } else if !p.check(.rightBrace) { throw p.expected("',' or '}' in the map") }
            }
            let close = p.advance()
            return Expr(.map(entries), open.range.to(close.range))
        }
    }

    /// entry = LABEL expression | expression ":" expression ;
    mutating func parseEntry() throws -> (Expr, Expr) {
        let k = peek
        let key: Expr
        if case .label(let n) = k.kind {
            advance()
            key = Expr(.literal(.string(n)), k.range)
        } else {
            key = try parseExpression(command: false)
            try expect(.colon, "':' after the map key")
        }
        return (key, try parseExpression(command: false))
    }

    /// fnexpr = "fn" params block ;
    mutating func parseFnexpr() throws -> Expr {
        let start = advance().range
        try enter(start)
        defer { leave() }
        let params = try parseParams()
        let body = try parseBlock()
        let decl = FunctionDecl(name: nil, params: params, body: body, range: start.to(previousRange))
        return Expr(.function(decl), decl.range)
    }

    /// The code of each `{…}` in a double-quoted string is an `expression` of its own, parsed
    /// from its range of the source so errors point into the string.
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
                let e = try sub.parseExpression(command: true)
                guard sub.peek.kind == .eof else { throw sub.expected("'}' to end the interpolation") }
                out.append(.expr(e))
            }
        }
        return Expr(.interpolated(out), range)
    }
}
