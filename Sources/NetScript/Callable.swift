import OrderedCollections

/// Anything a command call can run: a function written in the language, a builtin, or a
/// namespace (`cidr`, `recv`) that may also be called itself.
open class Callable: CustomStringConvertible {
    public let name: String
    /// Set for functions written in the language, so a call can skip the dynamic dispatch.
    let userCode: CompiledFunction?
    /// A one-argument entry point for the busiest builtins (`print x`, `len xs`): called with
    /// the value directly, without building an argument list. Set by `register(…unary:)`
    /// beside the builtin's definition, and the only body for that form.
    public internal(set) var unary: ((Value, Interpreter) throws -> Value)?
    public init(name: String) { self.name = name; self.userCode = nil }
    init(name: String, userCode: CompiledFunction) { self.name = name; self.userCode = userCode }
    /// Whether a bare name in command position runs it (`t = now`): true when it needs no arguments.
    open var acceptsNoArguments: Bool { false }
    open func call(_ args: Args) throws -> Value { throw Diagnostic.type("\(name) cannot be called") }
    open var description: String { "<function \(name)>" }
}

/// The arguments of one call, with helpers that check types and produce clear errors.
public struct Args {
    public var positional: [Value]
    public var options: [(String, Value)]
    public unowned let interp: Interpreter
    /// The command's name, for error messages.
    public let callee: String

    public init(_ positional: [Value], options: [(String, Value)] = [], interp: Interpreter, callee: String) {
        self.positional = positional; self.options = options; self.interp = interp; self.callee = callee
    }

    public var count: Int { positional.count }

    public subscript(_ i: Int) -> Value { i < positional.count ? positional[i] : .nil }

    public func option(_ name: String) -> Value? {
        for (k, v) in options where k == name { return v }
        return nil
    }

    func typeError(_ i: Int, _ want: String) -> Diagnostic {
        Diagnostic.type("\(callee): argument \(i + 1) must be \(want), not \(self[i].typeName.withArticle)")
    }

    public func string(_ i: Int) throws -> String {
        guard case .string(let s) = self[i] else { throw typeError(i, "a string") }
        return s
    }
    public func int(_ i: Int) throws -> Int {
        switch self[i] {
        case .int(let v): return v
        case .float(let d) where d == d.rounded() && abs(d) < 9.2e18: return Int(d)
        default: throw typeError(i, "an int")
        }
    }
    public func number(_ i: Int) throws -> Double {
        switch self[i] {
        case .int(let v): return Double(v)
        case .float(let d): return d
        default: throw typeError(i, "a number")
        }
    }
    public func list(_ i: Int) throws -> [Value] {
        switch self[i] {
        case .list(let l): return l.items
        default: return try interp.iterateToArray(self[i], what: "\(callee): argument \(i + 1)")
        }
    }
    public func optionString(_ name: String) throws -> String? {
        guard let v = option(name) else { return nil }
        guard case .string(let s) = v else { throw Diagnostic.type("\(callee): option \(name): must be a string, not \(v.typeName.withArticle)") }
        return s
    }
    public func optionNumber(_ name: String) throws -> Double? {
        guard let v = option(name) else { return nil }
        switch v {
        case .int(let i): return Double(i)
        case .float(let d): return d
        default: throw Diagnostic.type("\(callee): option \(name): must be a number, not \(v.typeName.withArticle)")
        }
    }
    /// An int option; a float is cut to an int (as `Int(d)` did), but one that does not fit
    /// (inf, nan, 1e300) is an error of kind value, not a crash.
    public func optionInt(_ name: String) throws -> Int? {
        guard let d = try optionNumber(name) else { return nil }
        if case .int(let i)? = option(name) { return i }
        guard d.isFinite, abs(d) < 9.2e18 else { throw Diagnostic.value("\(callee): option \(name): \(Value.formatFloat(d)) does not fit in an int") }
        return Int(d)
    }
    public func optionBool(_ name: String) -> Bool? { option(name).map { $0.isTruthy } }

    /// How long "no limit" is: finite (about 31 years), so every deadline NetKit computes from
    /// it stays in range, and Ctrl-C still ends the wait.
    public static let noTimeLimit: Double = 1e9

    /// The `timeout:` option in seconds: a positive number up to `max`, or `nil` to wait
    /// without limit (as Python's sockets do with `settimeout(None)`); `fallback` when absent.
    public func timeout(_ fallback: Double, max: Double = .infinity) throws -> Double {
        guard let v = option("timeout") else { return fallback }
        if case .nil = v { return Args.noTimeLimit }
        guard let t = try optionNumber("timeout"), t > 0, t.isFinite, t <= max else {
            let range = max.isFinite ? "between 0 and \(Int(max)) seconds" : "a positive number of seconds"
            throw Diagnostic.value("\(callee): timeout: must be \(range), or nil for no limit")
        }
        return t
    }
}

/// A builtin command: its implementation, how many arguments it takes, which options, and
/// the help text and example `help NAME` shows.
public final class BuiltinFunction: Callable {
    public let minArgs: Int
    /// nil: any number.
    public let maxArgs: Int?
    /// The option names it accepts (completion and checks); nil accepts any.
    public let optionNames: [String]?
    public let usage: String
    public let summary: String
    public let example: String
    let impl: (Args) throws -> Value

    public init(name: String, min: Int, max: Int?, options: [String]? = [], usage: String, summary: String,
                example: String, impl: @escaping (Args) throws -> Value) {
        self.minArgs = min; self.maxArgs = max; self.optionNames = options
        self.usage = usage; self.summary = summary; self.example = example; self.impl = impl
        super.init(name: name)
    }

    public override var acceptsNoArguments: Bool { minArgs == 0 }
    public override var description: String { "<builtin \(name)>" }

    public override func call(_ args: Args) throws -> Value {
        let n = args.positional.count
        if n < minArgs || (maxArgs.map { n > $0 } ?? false) {
            let want: String
            if let mx = maxArgs, mx == minArgs { want = "\(minArgs) argument\(minArgs == 1 ? "" : "s")" }
            else if let mx = maxArgs { want = "\(minArgs) to \(mx) arguments" }
            else { want = "at least \(minArgs) argument\(minArgs == 1 ? "" : "s")" }
            throw Diagnostic.type("\(name) takes \(want), got \(n) (usage: \(usage))")
        }
        if let allowed = optionNames {
            for (k, _) in args.options where !allowed.contains(k) {
                let hint = allowed.isEmpty ? "it takes no options" : "it takes " + allowed.map { "\($0):" }.joined(separator: ", ")
                throw Diagnostic.type("\(name) has no option '\(k):' (\(hint))")
            }
        }
        if n == 1, args.options.isEmpty, let unary { return try unary(args.positional[0], args.interp) }
        return try impl(args)
    }
}

/// A namespace of subcommands (`cidr summarize`, `recv.line`); it may be callable itself.
public final class Namespace: Callable {
    public var members: OrderedDictionary<String, Value> = [:]
    public var callable: BuiltinFunction?
    public var summary: String

    public init(name: String, summary: String, callable: BuiltinFunction? = nil) {
        self.summary = summary; self.callable = callable
        super.init(name: name)
    }
    public override var acceptsNoArguments: Bool { callable?.acceptsNoArguments ?? false }
    public override var description: String { "<namespace \(name)>" }
    public override func call(_ args: Args) throws -> Value {
        guard let c = callable else {
            throw Diagnostic.type("\(name) is a namespace: use one of its commands, e.g. \(name).\(members.keys.first ?? "…") (see `help \(name)`)")
        }
        return try c.call(args)
    }
}

/// A function written in the language, with the frame it closes over.
public final class UserFunction: Callable {
    let code: CompiledFunction
    let captured: Frame
    init(code: CompiledFunction, captured: Frame) {
        self.code = code; self.captured = captured
        super.init(name: code.name, userCode: code)
    }
    public override var acceptsNoArguments: Bool { code.requiredCount == 0 }
    public override var description: String { "<fn \(code.name)(\(code.paramNames.joined(separator: ", ")))>" }
    public override func call(_ args: Args) throws -> Value {
        try args.interp.callUser(self, args.positional, args.options)
    }
}

/// A function after compilation: where its parameters live and the body to run.
final class CompiledFunction {
    let name: String
    let paramNames: [String]
    let defaults: [ExprFn?]
    let restIndex: Int?
    let slotCount: Int
    let paramCount: Int
    /// Runs the body in a frame and gives the value it returns (nil when it returns none).
    let run: ExprFn
    let requiredCount: Int
    let source: Source
    let range: SourceRange

    init(name: String, paramNames: [String], defaults: [ExprFn?], restIndex: Int?, slotCount: Int,
         run: @escaping ExprFn, source: Source, range: SourceRange) {
        self.name = name; self.paramNames = paramNames; self.defaults = defaults; self.restIndex = restIndex
        self.slotCount = slotCount; self.run = run; self.paramCount = paramNames.count
        self.source = source; self.range = range
        var req = 0
        for (i, d) in defaults.enumerated() where d == nil && i != restIndex { req = i + 1 }
        self.requiredCount = req
    }

    /// Whether no closure can capture this function's frame (its body makes no functions), so
    /// a call may borrow the interpreter's frame for its depth instead of allocating one.
    var framesReusable = false
}

/// One activation of a function: its local variables (stored inline, one allocation per
/// call), and the frame it was defined in.
public struct FrameHeader {
    var count: Int
    /// The frame the function was defined in, read by every access to an enclosing function's
    /// variable. Not counted: `owner` holds it for frames made per call, and for a frame lent
    /// per depth the function being called holds it (through `captured`) while the call runs.
    unowned(unsafe) var parent: Frame?
    var owner: Frame?
    var returnValue: Value
}

public final class Frame: ManagedBuffer<FrameHeader, Value> {
    @inline(__always)
    static func make(count: Int, parent: Frame?) -> Frame {
        let n = Swift.max(count, 1)
        let buf = Frame.create(minimumCapacity: n) { _ in FrameHeader(count: n, parent: parent, owner: parent, returnValue: .nil) }
        let f = unsafeDowncast(buf, to: Frame.self)
        f.withUnsafeMutablePointerToElements { $0.initialize(repeating: .nil, count: n) }
        return f
    }

    @inline(__always) var slots: UnsafeMutablePointer<Value> { withUnsafeMutablePointerToElements { $0 } }
    @inline(__always) var parent: Frame? { withUnsafeMutablePointerToHeader { $0.pointee.parent } }
    /// The value a `return` left, leaving nil in its place.
    @inline(__always) func takeReturnValue() -> Value {
        withUnsafeMutablePointerToHeader { h in
            let v = h.pointee.returnValue
            h.pointee.returnValue = .nil
            return v
        }
    }
    @inline(__always) var returnValue: Value {
        get { withUnsafeMutablePointerToHeader { $0.pointee.returnValue } }
        set { withUnsafeMutablePointerToHeader { $0.pointee.returnValue = newValue } }
    }

    deinit {
        withUnsafeMutablePointers { h, e in
            for i in 0..<h.pointee.count { _ = (e + i).move() }
        }
    }
}

/// The global variables: builtins and everything a script or the REPL defines at top level.
public final class Globals {
    var slotOf: [String: Int] = [:]
    var names: [String] = []
    var values: UnsafeMutablePointer<Value>
    var isSet: UnsafeMutablePointer<Bool>
    /// The function written in the language each slot holds, if it holds one (not counted:
    /// `values` holds it), so a call reads it without copying the value.
    var userFunctions: UnsafeMutablePointer<Unmanaged<UserFunction>?>
    var capacity: Int
    /// Names a user has assigned (as opposed to builtins).
    var userDefined: Set<String> = []

    init() {
        capacity = 1024
        values = .allocate(capacity: capacity)
        values.initialize(repeating: .nil, count: capacity)
        isSet = .allocate(capacity: capacity)
        isSet.initialize(repeating: false, count: capacity)
        userFunctions = .allocate(capacity: capacity)
        userFunctions.initialize(repeating: nil, count: capacity)
    }

    /// Sets a slot; every store of a global goes through here.
    @inline(__always)
    func set(_ s: Int, _ v: Value) {
        if case .function(let c) = v, c.userCode != nil {
            userFunctions[s] = Unmanaged.passUnretained(unsafeDowncast(c, to: UserFunction.self))
        } else {
            userFunctions[s] = nil
        }
        values[s] = v
        isSet[s] = true
    }

    func slot(_ name: String) -> Int {
        if let s = slotOf[name] { return s }
        let s = names.count
        if s >= capacity { grow() }
        names.append(name)
        slotOf[name] = s
        return s
    }

    private func grow() {
        // Compiled code holds the Globals object, not the buffers, so moving them is safe.
        let newCap = capacity * 2
        let nv = UnsafeMutablePointer<Value>.allocate(capacity: newCap)
        nv.moveInitialize(from: values, count: capacity)
        (nv + capacity).initialize(repeating: .nil, count: newCap - capacity)
        values.deallocate()
        let ns = UnsafeMutablePointer<Bool>.allocate(capacity: newCap)
        ns.moveInitialize(from: isSet, count: capacity)
        (ns + capacity).initialize(repeating: false, count: newCap - capacity)
        isSet.deallocate()
        let nf = UnsafeMutablePointer<Unmanaged<UserFunction>?>.allocate(capacity: newCap)
        nf.moveInitialize(from: userFunctions, count: capacity)
        (nf + capacity).initialize(repeating: nil, count: newCap - capacity)
        userFunctions.deallocate()
        values = nv; isSet = ns; userFunctions = nf; capacity = newCap
    }

    public subscript(_ name: String) -> Value? {
        get {
            guard let s = slotOf[name], isSet[s] else { return nil }
            return values[s]
        }
        set {
            let s = slot(name)
            if let v = newValue { set(s, v) } else { values[s] = .nil; isSet[s] = false; userFunctions[s] = nil }
        }
    }

    /// Every defined name, for completion.
    public var definedNames: [String] { names.enumerated().filter { isSet[$0.offset] }.map { $0.element } }
}

enum Flow { case normal, breakLoop, continueLoop, returned }
typealias ExprFn = (Frame) throws -> Value
typealias StmtFn = (Frame) throws -> Flow

/// `exit n`: unwinds to the front end, which exits with the status.
public struct ExitSignal: Error { public let status: Int32 }
