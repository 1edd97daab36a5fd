import Synchronization

/// Statements: blocks, assignment, control flow, loops and `try`.
extension Compiler {
    // MARK: statements

    func compileBlock(_ stmts: [Stmt], implicitReturn: Bool = false) throws -> StmtFn {
        var list = stmts
        if implicitReturn, let last = list.last, case .expr(let e) = last.kind {
            list[list.count - 1] = Stmt(.returnStmt(e), last.range)
        }
        if list.isEmpty { return { _ in .normal } }
        if list.count <= 64 { return try chain(list[...]) }
        let fns = try list.map { try compileStmt($0) }
        return { f in
            for s in fns {
                let r = try s(f)
                if r != .normal { return r }
            }
            return .normal
        }
    }

    /// Chains statements through captured variables rather than an array of closures: a
    /// closure taken out of an array is called through a reabstraction thunk.
    func chain(_ stmts: ArraySlice<Stmt>) throws -> StmtFn {
        let cur = try compileStmt(stmts.first!)
        if stmts.count == 1 { return cur }
        let next = try chain(stmts.dropFirst())
        return { f in
            let r = try cur(f)
            if r != .normal { return r }
            return try next(f)
        }
    }

    func compileStmt(_ stmt: Stmt) throws -> StmtFn {
        let source = self.source, range = stmt.range
        switch stmt.kind {
        case .expr(let e):
            let fn = try compileExprStatement(e)
            return { f in _ = try fn(f); return .normal }

        case .assign(let target, let op, let valueExpr):
            return try compileAssign(target, op, valueExpr, range)

        case .ifElse(let branches, let elseBody):
            // `if cond { return x }`, the usual guard at the top of a function, in one closure.
            if branches.count == 1, elseBody == nil, branches[0].1.count == 1,
               case .returnStmt(let rx?) = branches[0].1[0].kind, scope != nil {
                let c = try compileCondition(branches[0].0)
                if let (slot, bare) = localSlot(rx) {
                    let interp = self.interp, rr = rx.range
                    return { f in
                        guard try c(f) else { return .normal }
                        let v = f.slots[slot]
                        f.returnValue = bare ? try Compiler.bareValue(v, interp, source, rr) : v
                        return .returned
                    }
                }
                let x = try compileExpr(rx)
                return { f in
                    guard try c(f) else { return .normal }
                    f.returnValue = try x(f)
                    return .returned
                }
            }
            // Built from the last branch backwards: `if a {…} else if b {…} else {…}` is
            // `if a {…} else { if b {…} else {…} }`.
            // (No optional closures, and `let` copies captured: see CompilerFastPaths.swift.)
            var chain: StmtFn = { _ in .normal }
            var hasElse = false
            if let elseBody { chain = try compileBlock(elseBody); hasElse = true }
            for (condExpr, body) in branches.reversed() {
                let c = try compileCondition(condExpr), b = try compileBlock(body)
                let e = chain
                if hasElse {
                    chain = { f in try c(f) ? try b(f) : try e(f) }
                } else {
                    chain = { f in try c(f) ? try b(f) : .normal }
                }
                hasElse = true
            }
            return chain

        case .whileLoop(let cond, let body):
            let c = try compileCondition(cond)
            loopDepth += 1
            let b = try compileBlock(body)
            loopDepth -= 1
            return { f in
                while try c(f) {
                    if interruptFlag.load(ordering: .relaxed) { throw locate(Interpreter.interrupted(), source, range) }
                    switch try b(f) {
                    case .breakLoop: return .normal
                    case .returned: return .returned
                    default: continue
                    }
                }
                return .normal
            }

        case .forLoop(let names, let iterExpr, let body):
            return try compileFor(names, iterExpr, body, range)

        case .function(let decl):
            let code = try compileFunction(decl)
            let store = compileStore(decl.name!)
            return { f in
                store(f, .function(UserFunction(code: code, captured: f)))
                return .normal
            }

        case .returnStmt(let e):
            guard scope != nil else { throw syntaxError("'return' outside a function (use `exit` to end a script)", range) }
            guard let e else { return { f in f.returnValue = .nil; return .returned } }
            let fn = try compileExpr(e)
            return { f in f.returnValue = try fn(f); return .returned }

        case .breakStmt:
            guard loopDepth > 0 else { throw syntaxError("'break' outside a loop", range) }
            return { _ in .breakLoop }
        case .continueStmt:
            guard loopDepth > 0 else { throw syntaxError("'continue' outside a loop", range) }
            return { _ in .continueLoop }

        case .tryCatch(let body, let clauses, let finallyBody):
            return try compileTry(body, clauses, finallyBody)

        case .importFile(let pathExpr):
            let fn = try compileExpr(pathExpr)
            let interp = self.interp
            return { f in
                guard case .string(let p) = try fn(f) else {
                    throw Diagnostic.type("import needs a file name string").located(source, pathExpr.range)
                }
                do { try interp.importFile(p) } catch { throw locate(error, source, range) }
                return .normal
            }

        case .global(let names):
            guard let sc = scope else { return { _ in .normal } }   // at top level everything is global
            for n in names where sc.slots[n] != nil && !sc.declaredGlobal.contains(n) {
                throw syntaxError("'\(n)' is a parameter or was assigned before 'global \(n)'", range)
            }
            return { _ in .normal }
        }
    }

    /// An expression statement. A command named alone runs, however it is spelled (`now`,
    /// `smtp.quit s` but also `trace.clear`); a statement whose value is a function that was
    /// never called is an error that says so, never a silent no-op. (The REPL shows such a
    /// value instead, at the top level of an entry: see `compileTopLevel`.)
    func compileExprStatement(_ e: Expr) throws -> ExprFn {
        let source = self.source, interp = self.interp
        switch e.kind {
        case .call(let head, let args, bare: true) where args.isEmpty:
            let headFn = try compileExpr(head)
            let text = source.text(head.range), range = e.range
            return { f in
                let v = try headFn(f)
                guard case .function(let c) = v else { return v }
                guard c.acceptsNoArguments else { throw Compiler.uncalled(c, text).located(source, range) }
                do { return try c.call(Args([], interp: interp, callee: c.name)) } catch { throw locate(error, source, range) }
            }
        case .name, .field, .index, .slice, .function:
            let fn = try compileExpr(e)
            let text = source.text(e.range), range = e.range
            return { f in
                let v = try fn(f)
                if case .function(let c) = v { throw Compiler.uncalled(c, text).located(source, range) }
                return v
            }
        default:
            return try compileExpr(e)
        }
    }

    /// "`smtp.quit` is a command: did you mean to run it?", with what it needs.
    static func uncalled(_ c: Callable, _ text: String) -> Diagnostic {
        let shown = text.count > 40 || text.contains("\n") ? "this \(c is UserFunction ? "function" : "command")" : "`\(text)`"
        switch c {
        case let ns as Namespace where ns.callable != nil:
            return uncalled(ns.callable!, text)
        case let ns as Namespace:
            let first = ns.members.keys.first ?? "…"
            return Diagnostic.type("\(shown) is a namespace, not a command: name one of its commands, e.g. `\(ns.name).\(first)` (see `help \(ns.name)`)")
        case let b as BuiltinFunction:
            let need = b.minArgs == 1 ? "1 argument" : "\(b.minArgs) arguments"
            return Diagnostic.type("\(shown) is a command: did you mean to run it? It needs \(need) (usage: \(b.usage))")
        case let u as UserFunction:
            let need = u.code.requiredCount == 1 ? "1 argument" : "\(u.code.requiredCount) arguments"
            return Diagnostic.type("\(shown) is a function that is never called: did you mean to run it? It needs \(need) (\(u.code.name)(\(u.code.paramNames.joined(separator: ", "))))")
        default:
            return Diagnostic.type("\(shown) is a function that is never called: did you mean to run it?")
        }
    }

    func compileAssign(_ target: Expr, _ op: String, _ valueExpr: Expr, _ range: SourceRange) throws -> StmtFn {
        let source = self.source, interp = self.interp
        let valueFn = try compileExpr(valueExpr)
        let binop = op == "=" ? nil : String(op.dropLast())
        switch target.kind {
        case .name(let n):
            let store = compileStore(n)
            guard let binop else {
                return { f in store(f, try valueFn(f)); return .normal }
            }
            let load = compileLoad(n, target.range)
            let general: StmtFn
            if binop == "+" {
                general = { f in
                    do { store(f, try Ops.add(try load(f), try valueFn(f))) } catch { throw locate(error, source, range) }
                    return .normal
                }
            } else {
                general = { f in
                    do { store(f, try Ops.binary(binop, try load(f), try valueFn(f))) } catch { throw locate(error, source, range) }
                    return .normal
                }
            }
            let finish: (Frame, Value, Value) throws -> Void = { f, old, v in
                do { store(f, try Ops.binary(binop, old, v)) } catch { throw locate(error, source, range) }
            }
            return fastCompoundAssign(target, binop, valueExpr, valueFn: valueFn, general: general, finish: finish)
        case .field(let objExpr, let name):
            let objFn = try compileExpr(objExpr)
            return { f in
                do {
                    let o = try objFn(f)
                    var v = try valueFn(f)
                    if let binop { v = try Ops.binary(binop, try interp.field(o, name), v) }
                    try interp.setField(o, name, v)
                } catch { throw locate(error, source, target.range) }
                return .normal
            }
        case .index(let objExpr, let idxExpr):
            let objFn = try compileExpr(objExpr), idxFn = try compileExpr(idxExpr)
            return { f in
                do {
                    let o = try objFn(f), i = try idxFn(f)
                    var v = try valueFn(f)
                    if let binop { v = try Ops.binary(binop, try interp.index(o, i), v) }
                    try interp.setIndex(o, i, v)
                } catch { throw locate(error, source, target.range) }
                return .normal
            }
        default:
            throw syntaxError("cannot assign to this expression", target.range)
        }
    }

    func compileFor(_ names: [String], _ iterExpr: Expr, _ body: [Stmt], _ range: SourceRange) throws -> StmtFn {
        let source = self.source, interp = self.interp
        let iterFn = try compileExpr(iterExpr)
        let stores = names.map { compileStore($0) }
        loopDepth += 1
        let b = try compileBlock(body)
        loopDepth -= 1
        let iterRange = iterExpr.range
        let bind: (Frame, Value) throws -> Void
        if stores.count == 1 {
            let s = stores[0]
            bind = { f, v in s(f, v) }
        } else {
            let n = stores.count
            bind = { f, v in
                guard case .list(let l) = v, l.items.count == n else {
                    throw Diagnostic.value("for \(names.joined(separator: ", ")): each item must be a list of \(n) values, got \(Value.repr(v))")
                }
                for (i, s) in stores.enumerated() { s(f, l.items[i]) }
            }
        }
        return { f in
            let it = try iterFn(f)
            var flow = Flow.normal
            // Ranges and lists are walked directly; everything else through `iterate`.
            if case .native(let n) = it, let r = n as? RangeObject, stores.count == 1 {
                let s = stores[0]
                var i = r.start
                while r.step > 0 ? i < r.stop : i > r.stop {
                    if interruptFlag.load(ordering: .relaxed) { throw locate(Interpreter.interrupted(), source, range) }
                    s(f, .int(i))
                    let fl = try b(f)
                    if fl == .breakLoop { break }
                    if fl == .returned { return .returned }
                    let (next, o) = i.addingReportingOverflow(r.step)
                    if o { break }
                    i = next
                }
                return .normal
            }
            // `for k, v in` a map, or a record (headers, a response, an error…): its pairs.
            var pairs: [(Value, Value)]? = nil
            if case .map(let m) = it, stores.count == 2 { pairs = Array(m.dict).map { ($0.key, $0.value) } }
            if case .native(let n) = it, stores.count == 2 {
                do { pairs = try n.entryPairs()?.map { (.string($0.0), $0.1) } } catch { throw locate(error, source, iterRange) }
            }
            if let pairs {
                for (k, v) in pairs {
                    stores[0](f, k); stores[1](f, v)
                    let fl = try b(f)
                    if fl == .breakLoop { break }
                    if fl == .returned { return .returned }
                }
                return .normal
            }
            do {
                try interp.iterate(it) { v in
                    if interruptFlag.load(ordering: .relaxed) { throw Interpreter.interrupted() }
                    try bind(f, v)
                    let fl = try b(f)
                    if fl == .breakLoop { return false }
                    if fl == .returned { flow = .returned; return false }
                    return true
                }
            } catch {
                throw locate(error, source, iterRange)
            }
            return flow
        }
    }

    func compileTry(_ body: [Stmt], _ clauses: [CatchClause], _ finallyBody: [Stmt]?) throws -> StmtFn {
        let b = try compileBlock(body)
        let compiled: [(kinds: [String], store: ((Frame, Value) -> Void)?, body: StmtFn)] = try clauses.map {
            ($0.kinds, $0.binding.map { compileStore($0) }, try compileBlock($0.body))
        }
        let fin = try finallyBody.map { try compileBlock($0) }
        func matches(_ kind: String, _ kinds: [String]) -> Bool {
            if kinds.isEmpty { return kind != "interrupted" }
            return kinds.contains { kind == $0 || kind.hasPrefix($0 + ".") }
        }
        return { f in
            var flow: Flow
            do {
                do {
                    flow = try b(f)
                } catch let d as Diagnostic {
                    guard let c = compiled.first(where: { matches(d.kind, $0.kinds) }) else { throw d }
                    c.store?(f, .native(ErrorObject(d)))
                    flow = try c.body(f)
                }
            } catch {
                if let fin { let ff = try fin(f); if ff != .normal { return ff } }
                throw error
            }
            if let fin { let ff = try fin(f); if ff != .normal { return ff } }
            return flow
        }
    }
}
