import Synchronization

/// Expressions: literals, names, operators (with fast paths for ints and locals) and calls.
extension Compiler {
    // MARK: expressions

    /// A condition, compiled to return a Swift Bool without boxing comparisons.
    func compileConditionGeneral(_ e: Expr) throws -> (Frame) throws -> Bool {
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

    /// A condition: two variables or constants compared in place when they are ints, else
    /// the general comparison.
    func compileCondition(_ e: Expr) throws -> (Frame) throws -> Bool {
        let general = try compileConditionGeneral(e)
        return fastCondition(e, slow: general)
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
        let general = try compileBinaryGeneral(op, l, r, range)
        return fastBinary(op, l, r, slow: general)
    }

    func compileBinaryGeneral(_ op: String, _ l: Expr, _ r: Expr, _ range: SourceRange) throws -> ExprFn {
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

    /// `a` or `a.b.c`: what `help` takes as a word when it names nothing.
    static func isDottedName(_ e: Expr) -> Bool {
        switch e.kind {
        case .name: return true
        case .field(let o, _): return isDottedName(o)
        default: return false
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
        // `help socket`, `help None`: a word that names nothing is the topic's name.
        var helpWord: String? = nil
        if case .name("help") = head.kind, args.count == 1, case .positional(let x) = args[0], Compiler.isDottedName(x) {
            let w = source.text(x.range), xf = try compileExpr(x)
            helpWord = w
            posFns.append { f in
                do { return try xf(f) } catch let d as Diagnostic where d.kind == "name" { return .string(w) }
            }
        }
        for a in args where helpWord == nil {
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
        // (Plain closures, never optional ones: an optional closure is called through a
        // reabstraction thunk too.)
        // (And `let`s: a closure captured from a `var` is read from a box and retained on
        // every call.)
        var p0: ExprFn = { _ in .nil }, p1: ExprFn = { _ in .nil }
        if trailing == nil && helpWord == nil {
            var k = 0
            for case .positional(let x) in args {
                if k == 0 { p0 = try compileExpr(x) } else if k == 1 { p1 = try compileExpr(x) } else { break }
                k += 1
            }
        } else {
            if posFns.count > 0 { p0 = posFns[0] }
            if posFns.count > 1 { p1 = posFns[1] }
        }
        let q0 = p0, q1 = p1
        // A global head (the usual case: a builtin or a top-level fn) is read inline.
        var globalSlot = -1
        if case .name(let n) = head.kind, case .global(let gs) = resolve(n) { globalSlot = gs }
        let g = globals
        let general: ExprFn = { f in
            let callee = globalSlot >= 0 && g.isSet[globalSlot] ? g.values[globalSlot] : try headFn(f)
            guard case .function(let c) = callee else {
                throw Diagnostic.type("\(headName) is \(callee.typeName.withArticle), not a command, so it cannot take arguments").located(source, head.range)
            }
            if let code = c.userCode, code.restIndex == nil, code.paramCount == fastArity {
                let fn = unsafeDowncast(c, to: UserFunction.self)
                if fastArity <= 2 {
                    // Arguments first: calls inside them run at this same depth and borrow the
                    // same frame, which is free again once they return.
                    let a0 = fastArity > 0 ? try q0(f) : .nil, a1 = fastArity > 1 ? try q1(f) : .nil
                    do { return try interp.callDirect(fn, code, fastArity, a0, a1) } catch { throw locate(error, source, range) }
                }
                let frame = Frame.make(count: code.slotCount, parent: fn.captured)
                let slots = frame.slots
                var i = 0
                for pf in posFns { slots[i] = try pf(f); i += 1 }
                do { return try interp.invoke(code, frame) } catch { throw locate(error, source, range) }
            }
            var startIndex = 0
            var target = c
            if let sub = subName, let ns = c as? Namespace, case .function(let m)? = ns.members[sub] {
                target = m
                startIndex = 1
            }
            if fastArity == 1, startIndex == 0, let unary = target.unary {
                let v = try q0(f)
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
        guard globalSlot >= 0, fastArity >= 0, fastArity <= 2, trailing == nil, helpWord == nil else { return general }
        // A top-level function called by name: read from the globals' table of functions
        // without copying the value; anything else there takes the general path.
        let site = GlobalCallSite(globals: g, slot: globalSlot, count: fastArity,
                                  pure0: fastArity > 0 ? pureArg(args, 0) : .none, pure1: fastArity > 1 ? pureArg(args, 1) : .none,
                                  q0: q0, q1: q1, general: general, interp: interp, source: source, range: range)
        return { f in try site.run(f) }
    }
}

extension Diagnostic {
    func located(_ source: Source, _ range: SourceRange) -> Diagnostic {
        var d = self
        if d.location == nil { d.location = SourceLocation(source: source, range: range) }
        return d
    }
}

/// The value `catch e` binds. Every error has the same fields, nil where one does not apply,
/// so a catch-all handler can print `e.code` or `e.address` whatever went wrong.
public final class ErrorObject: NativeObject {
    public let diagnostic: Diagnostic
    public init(_ d: Diagnostic) { diagnostic = d }
    public override var typeName: String { "error" }

    /// The fields of every error, in order, with what each means (`help "errors"` shows them).
    public static let commonFields: [(name: String, meaning: String)] = [
        ("kind", "what went wrong, e.g. \"timeout\", \"dns.nxdomain\", \"smtp.auth\""),
        ("message", "the error in words"),
        ("file", "the script (or <repl>, <-e>) where it was raised"),
        ("line", "its line, from 1"),
        ("column", "its column, from 1"),
        ("code", "the server's reply code (SMTP, FTP)"),
        ("reply", "the server's reply text (SMTP, FTP)"),
        ("cause", "what lies beneath, in words: a server's reply line, an OS error"),
        ("address", "the HOST:PORT of the connection that failed (sockets, FTP)"),
        ("url", "the URL asked for (HTTP)"),
        ("status_code", "the HTTP status (http.status)"),
        ("question", "the name and type asked (DNS)"),
        ("server", "the DNS server asked"),
        ("recipients", "refused recipients and their replies (smtp.recipients_refused)"),
        ("partial", "bytes that arrived before a transfer was cut short (FTP)"),
    ]
    static let commonNames = commonFields.map(\.name)

    public override var fieldNames: [String] {
        ErrorObject.commonNames + diagnostic.fields.map(\.0).filter { !ErrorObject.commonNames.contains($0) }
    }
    public override func field(_ name: String) throws -> Value? {
        switch name {
        case "kind": return .string(diagnostic.kind)
        case "message": return .string(diagnostic.message)
        case "line": return diagnostic.location.map { .int($0.line) } ?? .nil
        case "column": return diagnostic.location.map { .int($0.column) } ?? .nil
        case "file": return diagnostic.location.map { .string($0.file) } ?? .nil
        case "cause": return diagnostic.cause.map { .string($0) } ?? .nil
        default:
            if let v = diagnostic.fields.first(where: { $0.0 == name })?.1 { return v }
            return ErrorObject.commonNames.contains(name) ? .nil : nil
        }
    }
    public override var description: String { "error[\(diagnostic.kind)]: \(diagnostic.message)" }
    public override var isTruthy: Bool { true }
}
