import Synchronization

/// The variables of one function being compiled: parameters first, then every name the body
/// assigns (unless declared `global`, or a local of an enclosing function it closes over).
final class FunctionScope {
    let parent: FunctionScope?
    var slots: [String: Int] = [:]
    var count = 0
    var declaredGlobal: Set<String> = []
    init(parent: FunctionScope?) { self.parent = parent }
    func declare(_ name: String) {
        if slots[name] == nil { slots[name] = count; count += 1 }
    }
}

enum VarRef {
    case local(depth: Int, slot: Int)
    case global(slot: Int)
}

/// Attaches a source location to an error that has none yet: the innermost expression that
/// failed is the one reported.
@inline(never)
func locate(_ error: Error, _ source: Source, _ range: SourceRange) -> Error {
    guard var d = error as? Diagnostic, d.location == nil else { return error }
    d.location = SourceLocation(source: source, range: range)
    return d
}

/// Turns the syntax tree into a tree of Swift closures, resolving every name to a frame slot
/// or a global slot once, so running the program does no name look-ups.
final class Compiler {
    unowned let interp: Interpreter
    let source: Source
    let globals: Globals
    var scope: FunctionScope?
    var loopDepth = 0

    init(interp: Interpreter, source: Source) {
        self.interp = interp
        self.source = source
        self.globals = interp.globals
    }

    func syntaxError(_ msg: String, _ range: SourceRange) -> Diagnostic {
        Diagnostic("syntax", msg, location: SourceLocation(source: source, range: range))
    }

    // MARK: top level

    func compileTopLevel(_ program: [Stmt]) throws -> (Frame) throws -> Void {
        let interp = self.interp
        var steps: [(Frame) throws -> Void] = []
        for stmt in program {
            if case .expr(let e) = stmt.kind {
                let fn = try compileExpr(e)
                steps.append { f in
                    interp.lastValue = try fn(f)
                    interp.lastWasExpression = true
                }
            } else {
                let fn = try compileStmt(stmt)
                steps.append { f in
                    _ = try fn(f)
                    interp.lastWasExpression = false
                }
            }
        }
        return { f in for s in steps { try s(f) } }
    }

    // MARK: names

    func resolve(_ name: String) -> VarRef {
        var s = scope
        var depth = 0
        while let sc = s {
            if sc.declaredGlobal.contains(name) { break }
            if let slot = sc.slots[name] { return .local(depth: depth, slot: slot) }
            s = sc.parent
            depth += 1
        }
        return .global(slot: globals.slot(name))
    }

    /// The slot of a name that is a local of the function being compiled, for the fast paths
    /// that read a local directly instead of through a load closure.
    func localSlot(_ e: Expr) -> (slot: Int, bare: Bool)? {
        var e = e, bare = false
        if case .call(let head, let args, bare: true) = e.kind, args.isEmpty { e = head; bare = true }
        guard case .name(let n) = e.kind, case .local(0, let slot) = resolve(n) else { return nil }
        return (slot, bare)
    }

    /// A name alone in command position: a command that needs no arguments is run, any
    /// other value is itself.
    @inline(__always)
    static func bareValue(_ v: Value, _ interp: Interpreter, _ source: Source, _ range: SourceRange) throws -> Value {
        if case .function(let c) = v, c.acceptsNoArguments {
            do { return try c.call(Args([], interp: interp, callee: c.name)) } catch { throw locate(error, source, range) }
        }
        return v
    }

    func compileLoad(_ name: String, _ range: SourceRange) -> ExprFn {
        switch resolve(name) {
        case .local(0, let slot):
            return { f in f.slots[slot] }
        case .local(1, let slot):
            return { f in f.parent!.slots[slot] }
        case .local(let depth, let slot):
            return { f in
                var fr = f
                for _ in 0..<depth { fr = fr.parent! }
                return fr.slots[slot]
            }
        case .global(let slot):
            let g = globals, source = self.source, interp = self.interp
            return { _ in
                if g.isSet[slot] { return g.values[slot] }
                var msg = "'\(name)' is not defined"
                let sugg = interp.suggestion(name, g.definedNames)
                msg += sugg
                throw Diagnostic.name(msg).located(source, range)
            }
        }
    }

    func compileStore(_ name: String) -> (Frame, Value) -> Void {
        switch resolve(name) {
        case .local(0, let slot):
            return { f, v in f.slots[slot] = v }
        case .local(let depth, let slot):
            return { f, v in
                var fr = f
                for _ in 0..<depth { fr = fr.parent! }
                fr.slots[slot] = v
            }
        case .global(let slot):
            let g = globals
            g.userDefined.insert(name)
            return { _, v in
                g.values[slot] = v
                g.isSet[slot] = true
            }
        }
    }

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
            let fn = try compileExpr(e)
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
            var chain: StmtFn? = try elseBody.map { try compileBlock($0) }
            for (condExpr, body) in branches.reversed() {
                let c = try compileCondition(condExpr), b = try compileBlock(body)
                if let e = chain {
                    chain = { f in try c(f) ? try b(f) : try e(f) }
                } else {
                    chain = { f in try c(f) ? try b(f) : .normal }
                }
            }
            return chain!

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
            if binop == "+" {
                return { f in
                    do { store(f, try Ops.add(try load(f), try valueFn(f))) } catch { throw locate(error, source, range) }
                    return .normal
                }
            }
            return { f in
                do { store(f, try Ops.binary(binop, try load(f), try valueFn(f))) } catch { throw locate(error, source, range) }
                return .normal
            }
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
            if case .map(let m) = it, stores.count == 2 {
                for (k, v) in Array(m.dict) {
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

    // MARK: functions

    func collectAssigned(_ stmts: [Stmt], into names: inout [String], globals: inout Set<String>) {
        func add(_ n: String) { if !names.contains(n) { names.append(n) } }
        for s in stmts {
            switch s.kind {
            case .assign(let t, _, _): if case .name(let n) = t.kind { add(n) }
            case .forLoop(let vars, _, let body): vars.forEach(add); collectAssigned(body, into: &names, globals: &globals)
            case .function(let d): if let n = d.name { add(n) }
            case .ifElse(let branches, let e):
                for (_, b) in branches { collectAssigned(b, into: &names, globals: &globals) }
                if let e { collectAssigned(e, into: &names, globals: &globals) }
            case .whileLoop(_, let b): collectAssigned(b, into: &names, globals: &globals)
            case .tryCatch(let b, let cs, let fin):
                collectAssigned(b, into: &names, globals: &globals)
                for c in cs {
                    if let n = c.binding { add(n) }
                    collectAssigned(c.body, into: &names, globals: &globals)
                }
                if let fin { collectAssigned(fin, into: &names, globals: &globals) }
            case .global(let ns): ns.forEach { globals.insert($0) }
            default: break
            }
        }
    }

    func compileFunction(_ decl: FunctionDecl) throws -> CompiledFunction {
        let fs = FunctionScope(parent: scope)
        for p in decl.params { fs.declare(p.name) }
        var assigned: [String] = []
        var declaredGlobal = Set<String>()
        collectAssigned(decl.body, into: &assigned, globals: &declaredGlobal)
        for p in decl.params where declaredGlobal.contains(p.name) {
            throw syntaxError("'\(p.name)' is a parameter and cannot also be declared global", p.range)
        }
        fs.declaredGlobal = declaredGlobal
        for n in assigned where !declaredGlobal.contains(n) && fs.slots[n] == nil {
            // A name that is a local of an enclosing function is that variable (a closure updates it).
            if case .local = resolveIn(scope, n) { continue }
            fs.declare(n)
        }
        let savedScope = scope, savedLoop = loopDepth
        scope = fs
        loopDepth = 0
        defer { scope = savedScope; loopDepth = savedLoop }
        let defaults = try decl.params.map { p in try p.defaultValue.map { try compileExpr($0) } }
        let restIndex = decl.params.firstIndex { $0.isRest }
        let body = try compileBlock(decl.body, implicitReturn: true)
        let code = CompiledFunction(name: decl.name ?? "fn", paramNames: decl.params.map(\.name), defaults: defaults,
                                    restIndex: restIndex, slotCount: fs.count, body: body, source: source, range: decl.range)
        code.framesReusable = !Compiler.makesFunctions(decl.body) && !decl.params.contains { $0.defaultValue.map(Compiler.makesFunctions) ?? false }
        return code
    }

    /// Whether any function literal or declaration appears in these statements (which could
    /// capture the enclosing frame).
    static func makesFunctions(_ stmts: [Stmt]) -> Bool {
        stmts.contains { s in
            switch s.kind {
            case .expr(let e), .importFile(let e): return makesFunctions(e)
            case .assign(let t, _, let v): return makesFunctions(t) || makesFunctions(v)
            case .ifElse(let bs, let e): return bs.contains { makesFunctions($0.0) || makesFunctions($0.1) } || (e.map(makesFunctions) ?? false)
            case .whileLoop(let c, let b): return makesFunctions(c) || makesFunctions(b)
            case .forLoop(_, let i, let b): return makesFunctions(i) || makesFunctions(b)
            case .function: return true
            case .returnStmt(let e): return e.map(makesFunctions) ?? false
            case .tryCatch(let b, let cs, let f): return makesFunctions(b) || cs.contains { makesFunctions($0.body) } || (f.map(makesFunctions) ?? false)
            case .breakStmt, .continueStmt, .global: return false
            }
        }
    }

    static func makesFunctions(_ e: Expr) -> Bool {
        switch e.kind {
        case .function: return true
        case .literal, .name: return false
        case .interpolated(let parts): return parts.contains { if case .expr(let x) = $0 { return makesFunctions(x) } else { return false } }
        case .list(let xs): return xs.contains(where: makesFunctions)
        case .map(let kv): return kv.contains { makesFunctions($0.0) || makesFunctions($0.1) }
        case .unary(_, let x), .field(let x, _): return makesFunctions(x)
        case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b), .index(let a, let b): return makesFunctions(a) || makesFunctions(b)
        case .slice(let a, let b, let c): return makesFunctions(a) || (b.map(makesFunctions) ?? false) || (c.map(makesFunctions) ?? false)
        case .call(let h, let args, _): return makesFunctions(h) || args.contains(where: makesFunctions)
        case .pipe(let l, let h, let args): return makesFunctions(l) || makesFunctions(h) || args.contains(where: makesFunctions)
        }
    }

    static func makesFunctions(_ a: Argument) -> Bool {
        switch a {
        case .positional(let x), .option(_, let x, _): return makesFunctions(x)
        }
    }

    func resolveIn(_ s: FunctionScope?, _ name: String) -> VarRef {
        var sc = s, depth = 0
        while let c = sc {
            if c.declaredGlobal.contains(name) { break }
            if let slot = c.slots[name] { return .local(depth: depth, slot: slot) }
            sc = c.parent; depth += 1
        }
        return .global(slot: -1)
    }

    // MARK: expressions

    /// A condition, compiled to return a Swift Bool without boxing comparisons.
    func compileCondition(_ e: Expr) throws -> (Frame) throws -> Bool {
        let source = self.source, range = e.range
        if case .binary(let op, let l, let r) = e.kind, ["<", "<=", ">", ">="].contains(op) {
            if case .literal(.int(let c)) = r.kind, let (slot, bare) = localSlot(l) {
                let interp = self.interp, lrange = l.range
                let slow: (Value) throws -> Bool = { a0 in
                    let a = bare ? try Compiler.bareValue(a0, interp, source, lrange) : a0
                    do { return try Ops.compare(op, a, .int(c)) } catch { throw locate(error, source, range) }
                }
                switch op {
                case "<": return { f in if case .int(let x) = f.slots[slot] { return x < c }; return try slow(f.slots[slot]) }
                case "<=": return { f in if case .int(let x) = f.slots[slot] { return x <= c }; return try slow(f.slots[slot]) }
                case ">": return { f in if case .int(let x) = f.slots[slot] { return x > c }; return try slow(f.slots[slot]) }
                default: return { f in if case .int(let x) = f.slots[slot] { return x >= c }; return try slow(f.slots[slot]) }
                }
            }
            let lf = try compileExpr(l)
            if case .literal(.int(let c)) = r.kind {
                switch op {
                case "<": return { f in let a = try lf(f); if case .int(let x) = a { return x < c }; do { return try Ops.compare(op, a, .int(c)) } catch { throw locate(error, source, range) } }
                case "<=": return { f in let a = try lf(f); if case .int(let x) = a { return x <= c }; do { return try Ops.compare(op, a, .int(c)) } catch { throw locate(error, source, range) } }
                case ">": return { f in let a = try lf(f); if case .int(let x) = a { return x > c }; do { return try Ops.compare(op, a, .int(c)) } catch { throw locate(error, source, range) } }
                default: return { f in let a = try lf(f); if case .int(let x) = a { return x >= c }; do { return try Ops.compare(op, a, .int(c)) } catch { throw locate(error, source, range) } }
                }
            }
            let rf = try compileExpr(r)
            return { f in
                do { return try Ops.compare(op, try lf(f), try rf(f)) } catch { throw locate(error, source, range) }
            }
        }
        let fn = try compileExpr(e)
        return { f in try fn(f).isTruthy }
    }

    func compileExpr(_ e: Expr) throws -> ExprFn {
        let source = self.source, range = e.range, interp = self.interp
        switch e.kind {
        case .literal(let v):
            return { _ in v }

        case .interpolated(let parts):
            let fns: [ExprFn] = try parts.map { p in
                switch p {
                case .text(let s): let v = Value.string(s); return { _ in v }
                case .expr(let x): return try compileExpr(x)
                }
            }
            return { f in
                var s = ""
                for fn in fns { s += try fn(f).displayString }
                return .string(s)
            }

        case .name(let n):
            return compileLoad(n, range)

        case .list(let items):
            let fns = try items.map { try compileExpr($0) }
            return { f in
                var out: [Value] = []
                out.reserveCapacity(fns.count)
                for fn in fns { out.append(try fn(f)) }
                return .list(ListRef(out))
            }

        case .map(let entries):
            let fns = try entries.map { (try compileExpr($0.0), try compileExpr($0.1), $0.0.range) }
            return { f in
                let m = MapRef()
                for (k, v, kr) in fns {
                    let key = try k(f)
                    guard key.isHashableKey else { throw Diagnostic.type("a \(key.typeName) cannot be a map key").located(source, kr) }
                    m.dict[key] = try v(f)
                }
                return .map(m)
            }

        case .unary(let op, let x):
            let fn = try compileExpr(x)
            if op == "not" { return { f in .bool(!(try fn(f).isTruthy)) } }
            return { f in
                do { return try Ops.negate(try fn(f)) } catch { throw locate(error, source, range) }
            }

        case .and(let l, let r):
            let lf = try compileExpr(l), rf = try compileExpr(r)
            return { f in
                let a = try lf(f)
                return a.isTruthy ? try rf(f) : a
            }
        case .or(let l, let r):
            let lf = try compileExpr(l), rf = try compileExpr(r)
            return { f in
                let a = try lf(f)
                return a.isTruthy ? a : try rf(f)
            }

        case .binary(let op, let l, let r):
            return try compileBinary(op, l, r, range)

        case .field(let objExpr, let name):
            let objFn = try compileExpr(objExpr)
            return { f in
                let o = try objFn(f)
                do { return try interp.field(o, name) } catch { throw locate(error, source, range) }
            }

        case .index(let objExpr, let idxExpr):
            let objFn = try compileExpr(objExpr), idxFn = try compileExpr(idxExpr)
            return { f in
                let o = try objFn(f), i = try idxFn(f)
                do { return try interp.index(o, i) } catch { throw locate(error, source, range) }
            }

        case .slice(let objExpr, let lo, let hi):
            let objFn = try compileExpr(objExpr)
            let loFn = try lo.map { try compileExpr($0) }, hiFn = try hi.map { try compileExpr($0) }
            return { f in
                let o = try objFn(f)
                let a = try loFn?(f) ?? .nil, b = try hiFn?(f) ?? .nil
                do { return try interp.slice(o, a, b) } catch { throw locate(error, source, range) }
            }

        case .call(let head, let args, let bare):
            if bare {
                if case .name(let n) = head.kind {
                    switch resolve(n) {
                    case .local(0, let slot):
                        return { f in
                            let v = f.slots[slot]
                            if case .function = v { return try Compiler.bareValue(v, interp, source, range) }
                            return v
                        }
                    case .global(let slot):
                        let g = globals
                        let load = compileLoad(n, head.range)
                        return { f in
                            let v = g.isSet[slot] ? g.values[slot] : try load(f)
                            if case .function = v { return try Compiler.bareValue(v, interp, source, range) }
                            return v
                        }
                    default: break
                    }
                }
                let headFn = try compileExpr(head)
                return { f in
                    let v = try headFn(f)
                    if case .function(let c) = v, c.acceptsNoArguments {
                        do { return try c.call(Args([], interp: interp, callee: c.name)) } catch { throw locate(error, source, range) }
                    }
                    return v
                }
            }
            return try compileCall(head, args, trailing: nil, range)

        case .pipe(let lhs, let head, let args):
            return try compileCall(head, args, trailing: try compileExpr(lhs), range)

        case .function(let decl):
            let code = try compileFunction(decl)
            return { f in .function(UserFunction(code: code, captured: f)) }
        }
    }

    func compileBinary(_ op: String, _ l: Expr, _ r: Expr, _ range: SourceRange) throws -> ExprFn {
        let source = self.source
        if (op == "+" || op == "-"), case .literal(.int(let c)) = r.kind, let (slot, bare) = localSlot(l) {
            let isAdd = op == "+", interp = self.interp, lrange = l.range
            return { f in
                var a = f.slots[slot]
                if case .int(let x) = a {
                    let (s, o) = isAdd ? x.addingReportingOverflow(c) : x.subtractingReportingOverflow(c)
                    if !o { return .int(s) }
                }
                if bare { a = try Compiler.bareValue(a, interp, source, lrange) }
                do { return isAdd ? try Ops.add(a, .int(c)) : try Ops.sub(a, .int(c)) } catch { throw locate(error, source, range) }
            }
        }
        if case .call(let head, let args, bare: false) = l.kind, !args.isEmpty,
           head.range.end < source.bytes.count, source.bytes[head.range.end] != UInt8(ascii: "(") {
            // `print "a" + b` is `(print "a") + b`: say so when that goes wrong.
            let inner = try compileBinaryPlain(op, l, r, range)
            let name: String
            switch head.kind { case .name(let n): name = n; case .field(_, let n): name = n; default: name = "f" }
            return { f in
                do { return try inner(f) } catch var d as Diagnostic where d.kind == "type" {
                    d.message += " (a command takes its arguments before any operator: `\(name) a + b` is `(\(name) a) + b`; write `\(name) (a + b)`)"
                    throw d
                }
            }
        }
        return try compileBinaryPlain(op, l, r, range)
    }

    func compileBinaryPlain(_ op: String, _ l: Expr, _ r: Expr, _ range: SourceRange) throws -> ExprFn {
        let source = self.source
        let lf = try compileExpr(l), rf = try compileExpr(r)
        switch op {
        case "+":
            if case .literal(.int(let c)) = r.kind {
                return { f in
                    let a = try lf(f)
                    if case .int(let x) = a {
                        let (s, o) = x.addingReportingOverflow(c)
                        if !o { return .int(s) }
                    }
                    do { return try Ops.add(a, .int(c)) } catch { throw locate(error, source, range) }
                }
            }
            return { f in
                do { return try Ops.add(try lf(f), try rf(f)) } catch { throw locate(error, source, range) }
            }
        case "-":
            if case .literal(.int(let c)) = r.kind {
                return { f in
                    let a = try lf(f)
                    if case .int(let x) = a {
                        let (s, o) = x.subtractingReportingOverflow(c)
                        if !o { return .int(s) }
                    }
                    do { return try Ops.sub(a, .int(c)) } catch { throw locate(error, source, range) }
                }
            }
            return { f in
                do { return try Ops.sub(try lf(f), try rf(f)) } catch { throw locate(error, source, range) }
            }
        case "==": return { f in .bool(try lf(f) == rf(f)) }
        case "!=": return { f in .bool(try lf(f) != rf(f)) }
        case "<", "<=", ">", ">=":
            return { f in
                do { return .bool(try Ops.compare(op, try lf(f), try rf(f))) } catch { throw locate(error, source, range) }
            }
        default:
            return { f in
                let a = try lf(f), b = try rf(f)
                do { return try Ops.binary(op, a, b) } catch { throw locate(error, source, range) }
            }
        }
    }

    /// A command call `head arg… key: value…`, optionally with a piped-in value as the last
    /// positional argument. When the head is a namespace and the first argument a bare name
    /// that is one of its commands, `ns sub args` means `ns.sub args`.
    func compileCall(_ head: Expr, _ args: [Argument], trailing: ExprFn?, _ range: SourceRange) throws -> ExprFn {
        let source = self.source, interp = self.interp
        let headFn = try compileExpr(head)
        var posFns: [ExprFn] = []
        var optFns: [(String, ExprFn)] = []
        var seen = Set<String>()
        for a in args {
            switch a {
            case .positional(let x): posFns.append(try compileExpr(x))
            case .option(let k, let x, let r):
                if seen.contains(k) { throw syntaxError("option '\(k):' is given twice", r) }
                seen.insert(k)
                optFns.append((k, try compileExpr(x)))
            }
        }
        if let trailing {
            // `a | f x _ y`: the piped value goes where `_` stands, else last.
            let holes = args.enumerated().filter { if case .positional(let x) = $0.element, case .name("_") = x.kind { return true } else { return false } }
            if holes.count > 1 { throw syntaxError("only one '_' may stand for the piped value", range) }
            if let h = holes.first {
                let posIndex = args[..<h.offset].filter { if case .positional = $0 { return true } else { return false } }.count
                posFns[posIndex] = trailing
            } else {
                posFns.append(trailing)
            }
        }
        var subName: String? = nil
        if case .positional(let first) = args.first, case .name(let n) = first.kind {
            switch head.kind { case .name, .field: subName = n; default: break }
        }
        let headName: String
        switch head.kind {
        case .name(let n): headName = n
        case .field(_, let n): headName = n
        default: headName = "this value"
        }
        let fastArity = optFns.isEmpty ? posFns.count : -1
        // The first two arguments are compiled again into plain variables: a closure taken
        // out of an array is called through a reabstraction thunk, which the hot path avoids.
        var p0: ExprFn? = nil, p1: ExprFn? = nil
        if trailing == nil {
            var k = 0
            for case .positional(let x) in args {
                if k == 0 { p0 = try compileExpr(x) } else if k == 1 { p1 = try compileExpr(x) } else { break }
                k += 1
            }
        } else {
            p0 = posFns.count > 0 ? posFns[0] : nil
            p1 = posFns.count > 1 ? posFns[1] : nil
        }
        // A global head (the usual case: a builtin or a top-level fn) is read inline.
        var globalSlot = -1
        if case .name(let n) = head.kind, case .global(let gs) = resolve(n) { globalSlot = gs }
        let g = globals
        return { f in
            let callee = globalSlot >= 0 && g.isSet[globalSlot] ? g.values[globalSlot] : try headFn(f)
            guard case .function(let c) = callee else {
                throw Diagnostic.type("\(headName) is \(callee.typeName.withArticle), not a command, so it cannot take arguments").located(source, head.range)
            }
            var startIndex = 0
            var target = c
            if let sub = subName, let ns = c as? Namespace, case .function(let m)? = ns.members[sub] {
                target = m
                startIndex = 1
            }
            if startIndex == 0, let code = target.userCode, code.restIndex == nil, code.paramCount == fastArity {
                if code.framesReusable && fastArity <= 2 {
                    // Arguments first: calls inside them run at this same depth and borrow the
                    // same frame, which is free again once they return.
                    let a0 = try p0?(f), a1 = try p1?(f)
                    let frame = interp.borrowFrame(count: code.slotCount, parent: unsafeDowncast(target, to: UserFunction.self).captured)
                    let slots = frame.slots
                    if let a0 { slots[0] = a0 }
                    if let a1 { slots[1] = a1 }
                    defer { interp.returnFrame(frame, count: code.slotCount) }
                    do { return try interp.invoke(code, frame) } catch { throw locate(error, source, range) }
                }
                let frame = Frame.make(count: code.slotCount, parent: unsafeDowncast(target, to: UserFunction.self).captured)
                let slots = frame.slots
                if let p0 { slots[0] = try p0(f) }
                if let p1 { slots[1] = try p1(f) }
                if fastArity > 2 {
                    var i = 2
                    for pf in posFns[2...] { slots[i] = try pf(f); i += 1 }
                }
                do { return try interp.invoke(code, frame) } catch { throw locate(error, source, range) }
            }
            if fastArity == 1, startIndex == 0, let unary = target.unary, let p0 {
                let v = try p0(f)
                do { return try unary(v, interp) } catch { throw locate(error, source, range) }
            }
            var positional: [Value] = []
            positional.reserveCapacity(posFns.count)
            for pf in posFns[startIndex...] { positional.append(try pf(f)) }
            var options: [(String, Value)] = []
            for (k, of) in optFns { options.append((k, try of(f))) }
            do {
                return try target.call(Args(positional, options: options, interp: interp, callee: target.name))
            } catch {
                throw locate(error, source, range)
            }
        }
    }
}

extension Diagnostic {
    func located(_ source: Source, _ range: SourceRange) -> Diagnostic {
        var d = self
        if d.location == nil { d.location = SourceLocation(source: source, range: range) }
        return d
    }
}

/// The value `catch e` binds: the error's kind, message and location as fields.
public final class ErrorObject: NativeObject {
    public let diagnostic: Diagnostic
    public init(_ d: Diagnostic) { diagnostic = d }
    public override var typeName: String { "error" }
    public override var fieldNames: [String] { ["kind", "message", "line", "column", "file", "cause"] + diagnostic.fields.map(\.0) }
    public override func field(_ name: String) throws -> Value? {
        switch name {
        case "kind": return .string(diagnostic.kind)
        case "message": return .string(diagnostic.message)
        case "line": return diagnostic.location.map { .int($0.line) } ?? .nil
        case "column": return diagnostic.location.map { .int($0.column) } ?? .nil
        case "file": return diagnostic.location.map { .string($0.file) } ?? .nil
        case "cause": return diagnostic.cause.map { .string($0) } ?? .nil
        default: return diagnostic.fields.first { $0.0 == name }?.1
        }
    }
    public override var description: String { "error[\(diagnostic.kind)]: \(diagnostic.message)" }
    public override var jsonValue: Value? {
        var pairs: [(String, Value)] = [("kind", .string(diagnostic.kind)), ("message", .string(diagnostic.message))]
        if let l = diagnostic.location { pairs += [("file", .string(l.file)), ("line", .int(l.line)), ("column", .int(l.column))] }
        return .map(pairs)
    }
}
