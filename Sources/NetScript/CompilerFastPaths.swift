/// Fast paths for the commonest shapes of arithmetic: an operator whose operands are variables
/// or int constants reads them in place (no closure call, no copy of the value) and, when both
/// are ints, does the work inline. Anything else — another type, an overflow, a name not yet
/// defined, a command named alone — falls back to the general closure, which gives the exact
/// same result or error as if there were no fast path.

/// An operand read in place: a local of the function being compiled, a global, or a constant.
enum Operand {
    case local(Int)
    case global(Int)
    case const(Int)

    /// The operand's int, or nil when it holds anything else (an unset global holds nil).
    @inline(__always)
    func int(_ f: Frame, _ g: Globals) -> Int? {
        switch self {
        case .local(let s): if case .int(let x) = f.slots[s] { return x }; return nil
        case .global(let s): if case .int(let x) = g.values[s] { return x }; return nil
        case .const(let c): return c
        }
    }
}

/// `+ - * < <= > >= == !=` on two ints; nil when the result overflows (the general path then
/// raises the overflow error).
enum IntOp: UInt8 {
    case add, sub, mul, lt, le, gt, ge, eq, ne

    init?(_ op: String) {
        switch op {
        case "+": self = .add
        case "-": self = .sub
        case "*": self = .mul
        case "<": self = .lt
        case "<=": self = .le
        case ">": self = .gt
        case ">=": self = .ge
        case "==": self = .eq
        case "!=": self = .ne
        default: return nil
        }
    }

    var isComparison: Bool { rawValue >= IntOp.lt.rawValue }

    @inline(__always)
    func arith(_ x: Int, _ y: Int) -> Int? {
        let (r, o): (Int, Bool)
        switch self {
        case .add: (r, o) = x.addingReportingOverflow(y)
        case .sub: (r, o) = x.subtractingReportingOverflow(y)
        default: (r, o) = x.multipliedReportingOverflow(by: y)
        }
        return o ? nil : r
    }

    @inline(__always)
    func compare(_ x: Int, _ y: Int) -> Bool {
        switch self {
        case .lt: return x < y
        case .le: return x <= y
        case .gt: return x > y
        case .ge: return x >= y
        case .eq: return x == y
        default: return x != y
        }
    }
}

extension Compiler {
    /// The operand an expression reads, when it is a variable of this function, a global, or
    /// an int literal (a name in command position counts: it is its value unless it holds a
    /// command, and a command is never an int, so the fast path then falls back).
    func operand(_ e: Expr) -> Operand? {
        var e = e
        if case .call(let head, let args, bare: true) = e.kind, args.isEmpty { e = head }
        switch e.kind {
        case .literal(.int(let c)): return .const(c)
        case .name(let n):
            switch resolve(n) {
            case .local(0, let s): return .local(s)
            case .global(let s): return .global(s)
            default: return nil
            }
        default: return nil
        }
    }

    // These return the general closure itself when the shape does not fit, never an optional
    // closure: one wrapped in an Optional is called through two reabstraction thunks. And a
    // closure another one captures is a `let`: captured from a `var`, it is read from a heap
    // box and retained on every call.

    /// `a OP b` on two operands as a condition.
    func fastCondition(_ e: Expr, slow: @escaping (Frame) throws -> Bool) -> (Frame) throws -> Bool {
        guard case .binary(let opName, let l, let r) = e.kind, let op = IntOp(opName), op.isComparison,
              let a = operand(l), let b = operand(r) else { return slow }
        let g = globals
        return { f in
            if let x = a.int(f, g), let y = b.int(f, g) { return op.compare(x, y) }
            return try slow(f)
        }
    }

    /// `a OP b` on two operands as a value.
    func fastBinary(_ opName: String, _ l: Expr, _ r: Expr, slow: @escaping ExprFn) -> ExprFn {
        guard let op = IntOp(opName), let a = operand(l), let b = operand(r) else { return slow }
        let g = globals
        if op.isComparison {
            return { f in
                if let x = a.int(f, g), let y = b.int(f, g) { return .bool(op.compare(x, y)) }
                return try slow(f)
            }
        }
        return { f in
            if let x = a.int(f, g), let y = b.int(f, g), let z = op.arith(x, y) { return .int(z) }
            return try slow(f)
        }
    }

    /// `name += value` and `name -= value` for a variable of this function or a global. `general` is the whole statement without fast path;
    /// `finish(f, old, value)` applies the operator and stores, as `general` does once it has
    /// read the variable and computed the value (which must not be computed twice).
    func fastCompoundAssign(_ target: Expr, _ opName: String, _ valueExpr: Expr, valueFn: @escaping ExprFn,
                            general: @escaping StmtFn, finish: @escaping (Frame, Value, Value) throws -> Void) -> StmtFn {
        guard opName == "+" || opName == "-", let op = IntOp(opName), case .name = target.kind,
              let t = operand(target) else { return general }
        let g = globals
        if let b = operand(valueExpr) {
            // Nothing runs between the read and the write: the old value is an int, which
            // needs no release, so the new one is written over it directly.
            switch t {
            case .local(let s):
                return { f in
                    if case .int(let x) = f.slots[s], let y = b.int(f, g), let z = op.arith(x, y) {
                        (f.slots + s).initialize(to: .int(z))
                        return .normal
                    }
                    return try general(f)
                }
            case .global(let s):
                return { f in
                    let p = g.values + s
                    if case .int(let x) = p.pointee, let y = b.int(f, g), let z = op.arith(x, y) {
                        p.initialize(to: .int(z))
                        return .normal
                    }
                    return try general(f)
                }
            case .const: return general
            }
        }
        let ptr: (Frame) -> UnsafeMutablePointer<Value>
        switch t {
        case .local(let s): ptr = { f in f.slots + s }
        case .global(let s): ptr = { _ in g.values + s }
        case .const: return general
        }
        return { f in
            guard case .int(let x) = ptr(f).pointee else { return try general(f) }
            let v = try valueFn(f)
            if case .int(let y) = v, let z = op.arith(x, y) {
                ptr(f).pointee = .int(z)
            } else {
                try finish(f, .int(x), v)
            }
            return .normal
        }
    }

    /// A function body as one closure that gives the returned value. A body made of
    /// assignments, expression statements and `if COND { return X }` guards, ending in a
    /// return (or an expression, returned implicitly), becomes a chain of value closures with
    /// no control-flow signals and no return slot; any other body runs as statements.
    func compileFunctionRun(_ stmts: [Stmt]) throws -> ExprFn {
        func general() throws -> ExprFn {
            let body = try compileBlock(stmts, implicitReturn: true)
            return { f in _ = try body(f); return f.takeReturnValue() }
        }
        guard let last = stmts.last else { return { _ in .nil } }
        let final: Expr?
        switch last.kind {
        case .returnStmt(let e): final = e
        case .expr(let e): final = e
        default: return try general()
        }
        let prefix = stmts.dropLast()
        for s in prefix {
            switch s.kind {
            case .assign, .expr: continue
            case .ifElse(let branches, nil) where branches.count == 1 && branches[0].1.count == 1:
                if case .returnStmt = branches[0].1[0].kind { continue }
                return try general()
            default: return try general()
            }
        }
        // (No `Optional.map` for closures here: the result would be called through thunks.)
        var chain: ExprFn = { _ in .nil }
        if let final { chain = try compileExpr(final) }
        for s in prefix.reversed() {
            let rest = chain
            if case .ifElse(let branches, _) = s.kind, case .returnStmt(let x) = branches[0].1[0].kind {
                let c = try compileCondition(branches[0].0)
                // A `let`: a closure captured from a `var` is read from a box and retained
                // on every call.
                let xf: ExprFn
                if let x { xf = try compileExpr(x) } else { xf = { _ in .nil } }
                if case .binary(let opName, let l, let r) = branches[0].0.kind, let op = IntOp(opName), op.isComparison,
                   let a = operand(l), let b = operand(r) {
                    let guardNode = IntGuard(op: op, a: a, b: b, g: globals, ret: x.map { pureArg($0) } ?? .value(.nil),
                                             retFn: xf, cond: c, rest: rest)
                    chain = { f in try guardNode.run(f) }
                } else {
                    chain = { f in try c(f) ? try xf(f) : try rest(f) }
                }
            } else {
                let st = try compileStmt(s)
                chain = { f in _ = try st(f); return try rest(f) }
            }
        }
        return chain
    }
}

/// An argument that can be had without running any code: a constant, a variable (unless it
/// is a name in command position holding a command, which would run it), or `+ - *` on two
/// int operands that does not overflow. Anything else is `.none`, computed by its closure.
enum PureArg {
    case none
    case value(Value)
    case local(Int, bare: Bool)
    case global(Int, bare: Bool)
    case arith(IntOp, Operand, Operand)

    /// The argument's value, the same as its closure would give, or nil when only the
    /// closure can tell (it may run code or raise an error).
    @inline(__always)
    func value(_ f: Frame, _ g: Globals) -> Value? {
        switch self {
        case .none: return nil
        case .value(let v): return v
        case .local(let s, let bare):
            let p = f.slots + s
            if bare, case .function = p.pointee { return nil }
            return p.pointee
        case .global(let s, let bare):
            guard g.isSet[s] else { return nil }
            let p = g.values + s
            if bare, case .function = p.pointee { return nil }
            return p.pointee
        case .arith(let op, let a, let b):
            if let x = a.int(f, g), let y = b.int(f, g), let z = op.arith(x, y) { return .int(z) }
            return nil
        }
    }
}

extension Compiler {
    /// The `k`th positional argument as a `PureArg`.
    func pureArg(_ args: [Argument], _ k: Int) -> PureArg {
        var i = 0
        for case .positional(let x) in args {
            if i == k { return pureArg(x) }
            i += 1
        }
        return .none
    }

    func pureArg(_ e: Expr) -> PureArg {
        var x = e, bare = false
        if case .call(let head, let args, bare: true) = e.kind, args.isEmpty { x = head; bare = true }
        switch x.kind {
        case .literal(let v) where !bare: return .value(v)
        case .name(let n):
            switch resolve(n) {
            case .local(0, let s): return .local(s, bare: bare)
            case .global(let s): return .global(s, bare: bare)
            default: return .none
            }
        case .binary(let opName, let l, let r) where !bare:
            guard let op = IntOp(opName), !op.isComparison, let a = operand(l), let b = operand(r) else { return .none }
            return .arith(op, a, b)
        default: return .none
        }
    }
}

/// A call of a top-level function by name with at most two positional arguments and no
/// options, e.g. `fib(n - 1)`. The function is read from the globals' table of functions; a
/// name holding anything else, or a function taking other arguments, takes `general`.
final class GlobalCallSite {
    let g: Globals
    let slot: Int
    let n: Int
    let pure0: PureArg, pure1: PureArg
    let q0: ExprFn, q1: ExprFn
    let general: ExprFn
    let interp: Interpreter
    let root: Frame
    let source: Source
    let range: SourceRange

    init(globals: Globals, slot: Int, count: Int, pure0: PureArg, pure1: PureArg, q0: @escaping ExprFn, q1: @escaping ExprFn,
         general: @escaping ExprFn, interp: Interpreter, source: Source, range: SourceRange) {
        self.g = globals; self.slot = slot; self.n = count; self.pure0 = pure0; self.pure1 = pure1
        self.q0 = q0; self.q1 = q1; self.general = general; self.interp = interp; self.root = interp.rootFrame
        self.source = source; self.range = range
    }

    @inline(__always)
    func run(_ f: Frame) throws -> Value {
        guard let u = g.userFunctions[slot] else { return try general(f) }
        return try u._withUnsafeGuaranteedRef { fn in
            let code = fn.code
            guard code.paramCount == n, code.restIndex == nil else { return try general(f) }
            if fn.captured === root {
                var a0 = Value.nil, a1 = Value.nil, pure = true
                if n > 0 { if let v = pure0.value(f, g) { a0 = v } else { pure = false } }
                if n > 1 && pure { if let v = pure1.value(f, g) { a1 = v } else { pure = false } }
                if pure {
                    // No code ran since the function was read, and nothing the call uses
                    // depends on holding it: its code lives as long as the interpreter
                    // (`compiledFunctions`) and its parent is the root frame. So it is not
                    // retained, even though the call may rebind its name.
                    do { return try interp.callDirect(fn, code, n, a0, a1) } catch { throw locate(error, source, range) }
                }
            }
            return try held(fn, code, f)
        }
    }

    /// The call with the function held until it returns (the frame's parent and the running
    /// body belong to it), arguments computed by their closures: they may rebind the name.
    @inline(never)
    func held(_ fn: UserFunction, _ code: CompiledFunction, _ f: Frame) throws -> Value {
        try withExtendedLifetime(fn) {
            let a0 = n > 0 ? try q0(f) : .nil, a1 = n > 1 ? try q1(f) : .nil
            do { return try interp.callDirect(fn, code, n, a0, a1) } catch { throw locate(error, source, range) }
        }
    }
}

/// `if A OP B { return X }` at the head of a function body's chain, where A and B are int
/// operands: compared in place, and X read in place when it runs no code.
final class IntGuard {
    let op: IntOp, a: Operand, b: Operand
    let g: Globals
    let ret: PureArg
    let retFn: ExprFn, cond: (Frame) throws -> Bool, rest: ExprFn

    init(op: IntOp, a: Operand, b: Operand, g: Globals, ret: PureArg, retFn: @escaping ExprFn,
         cond: @escaping (Frame) throws -> Bool, rest: @escaping ExprFn) {
        self.op = op; self.a = a; self.b = b; self.g = g; self.ret = ret; self.retFn = retFn; self.cond = cond; self.rest = rest
    }

    @inline(__always)
    func run(_ f: Frame) throws -> Value {
        let taken: Bool
        if let x = a.int(f, g), let y = b.int(f, g) { taken = op.compare(x, y) } else { taken = try cond(f) }
        if !taken { return try rest(f) }
        if let v = ret.value(f, g) { return v }
        return try retFn(f)
    }
}
