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

    /// `showValues`: the REPL's entry, whose top-level expressions are shown rather than
    /// checked (typing `smtp.quit` alone shows the command instead of raising an error).
    func compileTopLevel(_ program: [Stmt], showValues: Bool = false) throws -> (Frame) throws -> Void {
        let interp = self.interp
        var steps: [(Frame) throws -> Void] = []
        for stmt in program {
            if case .expr(let e) = stmt.kind {
                let fn = showValues ? try compileExpr(e) : try compileExprStatement(e)
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
        // Each top-level statement is one command: `trace explain` shows the last one's steps.
        let transcript = interp.transcript
        return { f in for s in steps { transcript.beginCommand(); try s(f) } }
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
                if Interpreter.replCommands.contains(name) {
                    msg = "'\(name)' is a REPL command: it works at the ns> prompt, not in a script"
                } else if let py = HelpBuiltins.pythonNames[name] {
                    msg += "; did you mean '\(py)'? ('\(name)' is Python's)"
                } else {
                    msg += interp.suggestion(name, g.definedNames)
                }
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
            return { _, v in g.set(slot, v) }
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
        let run = try compileFunctionRun(decl.body)
        let code = CompiledFunction(name: decl.name ?? "fn", paramNames: decl.params.map(\.name), defaults: defaults,
                                    restIndex: restIndex, slotCount: fs.count, run: run, source: source, range: decl.range)
        code.framesReusable = !Compiler.makesFunctions(decl.body) && !decl.params.contains { $0.defaultValue.map(Compiler.makesFunctions) ?? false }
        interp.compiledFunctions.append(code)
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

}
