/// Statements: the rules of grammar.md §2 from `program` to `condition`, one function a rule.
extension Parser {
    /// program = { separator } [ statement { separator { separator } statement } ] { separator } EOF ;
    public mutating func parseProgram() throws -> [Stmt] {
        var out: [Stmt] = []
        while parseSeparator() {}
        while peek.kind != .eof {
            out.append(try parseStatement())
            try endOfStatement()
            while parseSeparator() {}
        }
        return out
    }

    /// separator = NEWLINE | ";" ;
    mutating func parseSeparator() -> Bool {
        let k = current.kind
        if k == .newline || k == .symbol(.semicolon) { i += 1; return true }
        return false
    }

    /// After a statement: a separator, or the end of the block or program.
    mutating func endOfStatement() throws {
        let k = current.kind
        if k == .newline || k == .symbol(.semicolon) || k == .eof || k == .symbol(.rightBrace) { return }
        throw error("expected end of statement, found \(describe(current))", current.range)
    }

    /// block = "{" { separator } [ statement { separator { separator } statement } ] { separator } "}" ;
    mutating func parseBlock() throws -> [Stmt] {
        let open = peek
        guard open.kind == .symbol(.leftBrace) else { throw expected("'{' to open a block") }
        try enter(open.range)
        defer { leave() }
        advance()
        return try nested(newlines: false) { p in
            var out: [Stmt] = []
            while p.parseSeparator() {}
            while !p.check(.rightBrace) {
                if p.peek.kind == .eof { throw p.error("unclosed '{' (the block opened here has no '}')", open.range) }
                out.append(try p.parseStatement())
                try p.endOfStatement()
                while p.parseSeparator() {}
            }
            p.advance()
            return out
        }
    }

    /// statement = if | while | for | fndecl | return | "break" | "continue" | try | import | global
    ///           | assignment | expression ;
    mutating func parseStatement() throws -> Stmt {
        let t = peek
        let start = t.range
        switch t.kind {
        case .symbol(.if): return try parseIf()
        case .symbol(.while): return try parseWhile()
        case .symbol(.for): return try parseFor()
        case .symbol(.fn) where peekAhead(1).kind != .symbol(.leftParen): return try parseFndecl()
        case .symbol(.return): return try parseReturn()
        case .symbol(.break): advance(); return Stmt(.breakStmt, start)
        case .symbol(.continue): advance(); return Stmt(.continueStmt, start)
        case .symbol(.try): return try parseTry()
        case .symbol(.import): return try parseImport()
        case .symbol(.global): return try parseGlobal()
        case .symbol(.else):
            throw error("'else' without a matching 'if'", t.range)
        case .symbol(.catch), .symbol(.finally):
            throw error("'\(source.text(t.range))' without a matching 'try'", t.range)
        default:
            break
        }
        // An assignment starts with its target, which is also an expression: parse that,
        // then see whether an assignment operator follows.
        let e = try parseExpression(command: true)
        if let op = peek.kind.type, op.isAssignment { return try parseAssignment(e) }
        return Stmt(.expr(e), e.range)
    }

    /// if = "if" condition block { "else" "if" condition block } [ "else" block ] ;
    mutating func parseIf() throws -> Stmt {
        let start = advance().range
        var branches: [(Expr, [Stmt])] = []
        var elseBody: [Stmt]? = nil
        let cond = try parseCondition()
        branches.append((cond, try parseBlock()))
        while true {
            // `else` may sit on the line after the closing brace.
            let j = indexPastNewlines()
            guard tokens[j].kind == .symbol(.else) else { break }
            i = j
            advance()
            if check(.if) {
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

    /// while = "while" condition block ;
    mutating func parseWhile() throws -> Stmt {
        let start = advance().range
        let cond = try parseCondition()
        let body = try parseBlock()
        return Stmt(.whileLoop(cond, body), start.to(previousRange))
    }

    /// for = "for" NAME { "," NAME } "in" condition block ;
    mutating func parseFor() throws -> Stmt {
        let start = advance().range
        var names = [try expectIdent("a loop variable name after 'for'").0]
        while check(.comma) {
            advance()
            names.append(try expectIdent(names.count == 1 ? "a second loop variable name" : "another loop variable name").0)
        }
        guard check(.in) else { throw expected("'in' after the loop variable") }
        advance()
        let iter = try parseCondition()
        let body = try parseBlock()
        return Stmt(.forLoop(names, iter, body), start.to(previousRange))
    }

    /// fndecl = "fn" NAME params block ;
    mutating func parseFndecl() throws -> Stmt {
        let start = advance().range
        let (name, _) = try expectIdent("a function name after 'fn'")
        let params = try parseParams()
        let body = try parseBlock()
        let decl = FunctionDecl(name: name, params: params, body: body, range: start.to(previousRange))
        return Stmt(.function(decl), decl.range)
    }

    /// params = "(" [ param { "," param } [ "," ] ] ")" ;
    mutating func parseParams() throws -> [Parameter] {
        try expect(.leftParen, "'(' to open the parameter list")
        return try nested(newlines: true) { p in
            var params: [Parameter] = []
            var seen = Set<String>()
            while !p.check(.rightParen) {
                let param = try p.parseParam()
                if seen.contains(param.name) { throw p.error("parameter '\(param.name)' appears twice", param.range) }
                if let last = params.last, last.isRest { throw p.error("'...\(last.name)' must be the last parameter", param.range) }
                seen.insert(param.name)
                params.append(param)
                if p.check(.comma) { p.advance() } else if !p.check(.rightParen) { throw p.expected("',' or ')' in the parameter list") }
            }
            p.advance()
            return params
        }
    }

    /// param = NAME [ "=" expression ] | LABEL expression | "..." NAME ;
    mutating func parseParam() throws -> Parameter {
        if check(.ellipsis) {
            // `...rest` collects the remaining positional arguments: it has no default.
            advance()
            let t = peek
            guard case .ident(let n) = t.kind else {
                if case .label(let n) = t.kind { throw error("'...\(n)' takes no default value (it collects the remaining arguments)", t.range) }
                throw expected("a parameter name after '...'")
            }
            advance()
            if check(.equal) { throw error("'...\(n)' takes no default value (it collects the remaining arguments)", peek.range) }
            return Parameter(name: n, defaultValue: nil, isRest: true, range: t.range)
        }
        let t = peek
        switch t.kind {
        case .ident(let n):
            advance()
            var def: Expr? = nil
            if check(.equal) { advance(); def = try parseExpression(command: false) }
            return Parameter(name: n, defaultValue: def, isRest: false, range: t.range)
        case .label(let n):
            // `fn f(a, timeout: 5)`: an option with a default.
            advance()
            return Parameter(name: n, defaultValue: try parseExpression(command: false), isRest: false, range: t.range)
        default:
            throw expected("a parameter name")
        }
    }

    /// return = "return" [ expression ] ;
    mutating func parseReturn() throws -> Stmt {
        let start = advance().range
        let k = current.kind
        if k == .newline || k == .symbol(.semicolon) || k == .symbol(.rightBrace) || k == .eof {
            return Stmt(.returnStmt(nil), start)
        }
        let e = try parseExpression(command: true)
        return Stmt(.returnStmt(e), start.to(e.range))
    }

    /// try = "try" block { catch } [ "finally" block ] ;
    mutating func parseTry() throws -> Stmt {
        let start = advance().range
        let body = try parseBlock()
        var clauses: [CatchClause] = []
        var finally: [Stmt]? = nil
        while true {
            // `catch` and `finally` may start the line after the closing brace.
            let j = indexPastNewlines()
            if tokens[j].kind == .symbol(.catch) {
                i = j
                clauses.append(try parseCatch())
            } else if tokens[j].kind == .symbol(.finally) {
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

    /// catch = "catch" [ error_kind { "," error_kind } ] [ NAME ] block ;
    mutating func parseCatch() throws -> CatchClause {
        let cstart = advance().range
        var kinds: [String] = []
        if let k = try parseErrorKind() {
            kinds.append(k)
            while check(.comma) {
                advance()
                guard let k = try parseErrorKind() else { throw expected("an error kind (a string) after ','") }
                kinds.append(k)
            }
        }
        var binding: String? = nil
        if case .ident(let n) = peek.kind { binding = n; advance() }
        let cbody = try parseBlock()
        return CatchClause(kinds: kinds, binding: binding, body: cbody, range: cstart)
    }

    /// error_kind = STRING | RAWSTRING ;  (* a STRING without {…}: "timeout", 'dns' *)
    mutating func parseErrorKind() throws -> String? {
        let t = peek
        switch t.kind {
        case .string(let parts):
            guard parts.count == 1, case .text(let s) = parts[0] else {
                throw error("an error kind in 'catch' is a plain string, without {…}", t.range)
            }
            advance()
            return s
        case .rawString(let s):
            advance()
            return s
        default:
            return nil
        }
    }

    /// import = "import" expression ;
    mutating func parseImport() throws -> Stmt {
        let start = advance().range
        let e = try parseExpression(command: false)
        return Stmt(.importFile(e), start.to(e.range))
    }

    /// global = "global" NAME { "," NAME } ;
    mutating func parseGlobal() throws -> Stmt {
        let start = advance().range
        var names = [try expectIdent("a name after 'global'").0]
        while check(.comma) { advance(); names.append(try expectIdent("a name after ','").0) }
        return Stmt(.global(names), start.to(previousRange))
    }

    /// assignment = target ( "=" | "+=" | "-=" | "*=" | "/=" | "%=" | "//=" | "**=" ) expression ;
    ///
    /// The target was parsed as an expression by `parseStatement`; the assignment operator is next.
    mutating func parseAssignment(_ lhs: Expr) throws -> Stmt {
        let opTok = advance()
        guard case .symbol(let op) = opTok.kind else { preconditionFailure("parseAssignment without an operator") }
        let target = try parseTarget(lhs)
        let value = try parseExpression(command: true)
        return Stmt(.assign(target, op.rawValue, value), lhs.range.to(value.range))
    }

    /// target = NAME | postfix "." NAME | postfix "[" expression "]" ;
    ///
    /// Checks that an expression parsed before an assignment operator is one of these.
    func parseTarget(_ e: Expr) throws -> Expr {
        switch e.kind {
        case .name, .field, .index: return e
        case .call(let head, let args, bare: true) where args.isEmpty: return try parseTarget(head)
        default:
            throw error("cannot assign to this expression (only to a name, a field `a.b` or an index `a[i]`)", e.range)
        }
    }

    /// condition = expression ;
    ///
    /// The head of `if`/`while`/`for`: an expression in which `{` opens the block, not a map.
    mutating func parseCondition() throws -> Expr {
        let saved = noBraceArgs
        noBraceArgs = true
        defer { noBraceArgs = saved }
        return try parseExpression(command: true)
    }
}
