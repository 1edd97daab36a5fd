/// Statements: blocks, `if`/`while`/`for`, functions, `try`, assignment.
extension Parser {
    // MARK: statements

    mutating func skipSeparators() {
        while true {
            let k = tokens[i].kind
            if k == .newline || k == .punct(";") { i += 1 } else { return }
        }
    }

    public mutating func parseProgram() throws -> [Stmt] {
        var out: [Stmt] = []
        skipSeparators()
        while peek.kind != .eof {
            out.append(try parseStatement())
            try endOfStatement()
            skipSeparators()
        }
        return out
    }

    mutating func endOfStatement() throws {
        let k = tokens[i].kind
        if k == .newline || k == .punct(";") || k == .eof || k == .punct("}") { return }
        throw error("expected end of statement, found \(describe(tokens[i]))", tokens[i].range)
    }

    mutating func parseBlock() throws -> [Stmt] {
        let open = peek
        guard open.kind == .punct("{") else { throw expected("'{' to open a block") }
        try enter(open.range)
        defer { leave() }
        advance()
        newlineIgnored.append(false)
        let saved = noBraceArgs
        noBraceArgs = false
        defer { newlineIgnored.removeLast(); noBraceArgs = saved }
        var out: [Stmt] = []
        skipSeparators()
        while !isPunct("}") {
            if peek.kind == .eof { throw error("unclosed '{' (the block opened here has no '}')", open.range) }
            out.append(try parseStatement())
            try endOfStatement()
            skipSeparators()
        }
        advance()
        return out
    }

    mutating func parseStatement() throws -> Stmt {
        let t = peek
        let start = t.range
        switch t.kind {
        case .keyword("if"): return try parseIf()
        case .keyword("while"):
            advance()
            let cond = try parseCondition()
            let body = try parseBlock()
            return Stmt(.whileLoop(cond, body), start.to(previousRange))
        case .keyword("for"):
            advance()
            var names = [try expectIdent("a loop variable name after 'for'").0]
            while isPunct(",") {
                advance()
                names.append(try expectIdent("a second loop variable name").0)
            }
            guard isKeyword("in") else { throw expected("'in' after the loop variable") }
            advance()
            let iter = try parseCondition()
            let body = try parseBlock()
            return Stmt(.forLoop(names, iter, body), start.to(previousRange))
        case .keyword("fn") where peekAhead(1).kind != .punct("("):
            advance()
            let (name, _) = try expectIdent("a function name after 'fn'")
            let decl = try parseFunctionRest(name: name, start: start)
            return Stmt(.function(decl), decl.range)
        case .keyword("return"):
            advance()
            let k = tokens[i].kind
            if k == .newline || k == .punct(";") || k == .punct("}") || k == .eof {
                return Stmt(.returnStmt(nil), start)
            }
            let e = try parseExpr(command: true)
            return Stmt(.returnStmt(e), start.to(e.range))
        case .keyword("break"): advance(); return Stmt(.breakStmt, start)
        case .keyword("continue"): advance(); return Stmt(.continueStmt, start)
        case .keyword("try"): return try parseTry()
        case .keyword("import"):
            advance()
            let e = try parseExpr(command: false)
            return Stmt(.importFile(e), start.to(e.range))
        case .keyword("global"):
            advance()
            var names = [try expectIdent("a name after 'global'").0]
            while isPunct(",") { advance(); names.append(try expectIdent("a name after ','").0) }
            return Stmt(.global(names), start.to(previousRange))
        case .keyword("else"):
            throw error("'else' without a matching 'if'", t.range)
        case .keyword("catch"), .keyword("finally"):
            throw error("'\(source.text(t.range))' without a matching 'try'", t.range)
        default:
            break
        }
        let e = try parseExpr(command: true)
        if case .punct(let p) = peek.kind, ["=", "+=", "-=", "*=", "/=", "%=", "//=", "**="].contains(p) {
            let opTok = advance()
            let target = try assignable(e, opTok)
            let value = try parseExpr(command: true)
            return Stmt(.assign(target, p, value), e.range.to(value.range))
        }
        return Stmt(.expr(e), e.range)
    }

    var previousRange: SourceRange { tokens[max(0, i - 1)].range }

    func assignable(_ e: Expr, _ op: Token) throws -> Expr {
        switch e.kind {
        case .name, .field, .index: return e
        case .call(let head, let args, bare: true) where args.isEmpty: return try assignable(head, op)
        default:
            throw error("cannot assign to this expression (only to a name, a field `a.b` or an index `a[i]`)", e.range)
        }
    }

    /// The head of `if`/`while`/`for`: an expression in which `{` starts the block.
    mutating func parseCondition() throws -> Expr {
        let saved = noBraceArgs
        noBraceArgs = true
        defer { noBraceArgs = saved }
        return try parseExpr(command: true)
    }

    mutating func parseIf() throws -> Stmt {
        let start = advance().range
        var branches: [(Expr, [Stmt])] = []
        var elseBody: [Stmt]? = nil
        let cond = try parseCondition()
        branches.append((cond, try parseBlock()))
        while true {
            // `else` may sit on the line after the closing brace.
            var j = i
            while tokens[j].kind == .newline { j += 1 }
            guard tokens[j].kind == .keyword("else") else { break }
            i = j
            advance()
            if isKeyword("if") {
                advance()
                let c = try parseCondition()
                branches.append((c, try parseBlock()))
            } else {
                elseBody = try parseBlock()
                break
            }
        }
        return Stmt(.ifElse(branches, elseBody), start.to(previousRange))
    }

    mutating func parseTry() throws -> Stmt {
        let start = advance().range
        let body = try parseBlock()
        var clauses: [CatchClause] = []
        var finally: [Stmt]? = nil
        while true {
            var j = i
            while tokens[j].kind == .newline { j += 1 }
            if tokens[j].kind == .keyword("catch") {
                i = j
                let cstart = advance().range
                var kinds: [String] = []
                var binding: String? = nil
                // catch ["kind", "kind2"] [name] { … }
                while true {
                    let t = peek
                    if case .string(let parts) = t.kind, parts.count == 1, case .text(let s) = parts[0] {
                        kinds.append(s); advance()
                    } else if case .rawString(let s) = t.kind {
                        kinds.append(s); advance()
                    } else { break }
                    if isPunct(",") { advance() } else { break }
                }
                if case .ident(let n) = peek.kind { binding = n; advance() }
                let cbody = try parseBlock()
                clauses.append(CatchClause(kinds: kinds, binding: binding, body: cbody, range: cstart))
            } else if tokens[j].kind == .keyword("finally") {
                i = j
                advance()
                finally = try parseBlock()
                break
            } else { break }
        }
        if clauses.isEmpty && finally == nil {
            throw error("'try' needs a 'catch' or a 'finally' block", start)
        }
        return Stmt(.tryCatch(body, clauses, finally), start.to(previousRange))
    }

    mutating func parseFunctionRest(name: String?, start: SourceRange) throws -> FunctionDecl {
        _ = try expectPunct("(", "'(' to open the parameter list")
        newlineIgnored.append(true)
        var params: [Parameter] = []
        var seen = Set<String>()
        while !isPunct(")") {
            var isRest = false
            if isPunct("."), peekAhead(1).kind == .punct("."), peekAhead(2).kind == .punct(".") {
                advance(); advance(); advance(); isRest = true
            }
            let t = peek
            var pname: String
            var def: Expr? = nil
            switch t.kind {
            case .ident(let n):
                advance(); pname = n
                if isPunct("=") { advance(); def = try parseExpr(command: false) }
            case .label(let n):
                // `fn f(a, timeout: 5)`: an option with a default.
                advance(); pname = n
                def = try parseExpr(command: false)
            default:
                newlineIgnored.removeLast()
                throw expected("a parameter name")
            }
            if seen.contains(pname) { newlineIgnored.removeLast(); throw error("parameter '\(pname)' appears twice", t.range) }
            if let last = params.last, last.isRest { newlineIgnored.removeLast(); throw error("'...\(last.name)' must be the last parameter", t.range) }
            seen.insert(pname)
            params.append(Parameter(name: pname, defaultValue: def, isRest: isRest, range: t.range))
            if isPunct(",") { advance() } else if !isPunct(")") { newlineIgnored.removeLast(); throw expected("',' or ')' in the parameter list") }
        }
        newlineIgnored.removeLast()
        advance()
        let body = try parseBlock()
        return FunctionDecl(name: name, params: params, body: body, range: start.to(previousRange))
    }
}
