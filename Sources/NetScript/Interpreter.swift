import Foundation
import NetKit
import Synchronization
import OrderedCollections

/// Set by the front end's SIGINT handler; loops and calls check it, so Ctrl-C stops a
/// running command without killing the REPL.
public let interruptFlag = Atomic<Bool>(false)

/// Runs programs: compiles each into closures over the shared globals and executes them.
/// The REPL and the script runner drive the same interpreter.
public final class Interpreter {
    public let globals = Globals()
    public let output: Output
    /// Every protocol step NetKit clients report; `trace on` makes it live.
    public let transcript: Transcript
    /// The script's arguments; `args` in the language is this list.
    public var scriptArgs: [String] = [] {
        didSet { globals["args"] = .list(scriptArgs.map { .string($0) }) }
    }
    /// The directory `import` resolves relative paths against.
    var importDirs: [String] = []
    var imported: Set<String> = []
    var callDepth = 0
    /// Deep recursion in a script is an error, not a crash of the interpreter.
    public var maxCallDepth = 2_000
    let rootFrame = Frame.make(count: 0, parent: nil)
    /// The value of the last expression statement run at top level (the REPL shows it).
    public var lastValue: Value = .nil
    public var lastWasExpression = false
    /// Help entries in registration order: name → builtin or namespace.
    public internal(set) var registry: OrderedDictionary<String, Value> = [:]
    public var isInteractive = false

    public init(output: Output = Output.standard, errorSink: @escaping (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }) {
        self.output = output
        self.transcript = Transcript()
        let out = output
        transcript.setSink { event in
            // With tasks running, stdout belongs to the thread holding the interpreter lock.
            guard let label = LanguageThreads.traceLabel else {
                out.flush()
                errorSink(Transcript.render(event))
                return
            }
            errorSink(Transcript.render(event).split(separator: "\n", omittingEmptySubsequences: false)
                .map { "[\(label)] " + $0 }.joined(separator: "\n"))
        }
        Library.register(in: self)
    }

    // MARK: registration

    /// Registers a builtin under a plain or dotted name (`recv.line` adds `line` to the `recv` namespace).
    @discardableResult
    public func register(_ name: String, min: Int = 0, max: Int? = nil, options: [String]? = [],
                         usage: String, summary: String, example: String,
                         _ impl: @escaping (Args) throws -> Value) -> BuiltinFunction {
        let b = BuiltinFunction(name: name, min: min, max: max, options: options, usage: usage,
                                summary: summary, example: example, impl: impl)
        let parts = name.split(separator: ".").map(String.init)
        if parts.count == 1 {
            if let existing = globals[name], case .function(let ns as Namespace) = existing {
                ns.callable = b
            } else {
                globals[name] = .function(b)
            }
        } else {
            let ns = namespace(parts.dropLast().joined(separator: "."))
            ns.members[parts.last!] = .function(b)
        }
        registry[name] = .function(b)
        return b
    }

    /// Registers a builtin whose one-value form is `unary`: `print x`, `len xs` call it with the
    /// value directly, without an argument list, and so does every other call with one
    /// argument and no options. `impl` handles the other forms (none when it takes exactly one).
    @discardableResult
    public func register(_ name: String, min: Int = 1, max: Int? = 1, options: [String]? = [],
                         usage: String, summary: String, example: String,
                         unary: @escaping (Value, Interpreter) throws -> Value,
                         _ impl: ((Args) throws -> Value)? = nil) -> BuiltinFunction {
        let b = register(name, min: min, max: max, options: options, usage: usage, summary: summary, example: example,
                         impl ?? { a in try unary(a[0], a.interp) })
        b.unary = unary
        return b
    }

    /// The namespace of that name, created (empty, not callable) when missing.
    @discardableResult
    public func namespace(_ name: String, summary: String = "") -> Namespace {
        let parts = name.split(separator: ".").map(String.init)
        var container: Namespace? = nil
        var ns: Namespace! = nil
        for (i, p) in parts.enumerated() {
            let full = parts[0...i].joined(separator: ".")
            let existing: Value? = container == nil ? globals[p] : container!.members[p]
            if case .function(let n as Namespace)? = existing {
                ns = n
            } else {
                let n = Namespace(name: full, summary: i == parts.count - 1 ? summary : "")
                if case .function(let b as BuiltinFunction)? = existing { n.callable = b }
                if let c = container { c.members[p] = .function(n) } else { globals[p] = .function(n) }
                ns = n
            }
            container = ns
        }
        if !summary.isEmpty { ns.summary = summary }
        registry[name] = .function(ns)
        return ns
    }

    func lookupNamespace(_ name: String) throws -> Namespace? {
        var cur: Value? = nil
        for (i, p) in name.split(separator: ".").enumerated() {
            if i == 0 { cur = globals[String(p)] }
            else if case .function(let n as Namespace)? = cur { cur = n.members[String(p)] }
            else { return nil }
        }
        if case .function(let n as Namespace)? = cur { return n }
        return nil
    }

    // MARK: running

    /// Parses, compiles and runs a program at top level. Returns the value of the last
    /// expression statement. `showValues` (the REPL) shows a top-level expression's value,
    /// where a script would reject a function named and never called.
    @discardableResult
    public func run(_ source: Source, showValues: Bool = false) throws -> Value {
        let program = try Parser.parse(source)
        let compiled = try Compiler(interp: self, source: source).compileTopLevel(program, showValues: showValues)
        lastValue = .nil
        lastWasExpression = false
        try compiled(rootFrame)
        return lastValue
    }

    /// Runs a file at top level, with `import` resolving relative to its directory.
    public func runFile(path: String, displayName: String? = nil) throws {
        let text = try readSourceFile(path)
        let dir = (path as NSString).deletingLastPathComponent
        importDirs.append(dir.isEmpty ? "." : dir)
        defer { importDirs.removeLast() }
        imported.insert(canonicalPath(path))
        try run(Source(name: displayName ?? path, text: text))
    }

    func readSourceFile(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
                throw Diagnostic("io", isDir.boolValue ? "\(path) is a directory, not a script" : "cannot read \(path): permission denied")
            }
            throw Diagnostic("io", "cannot read \(path): no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Diagnostic("io", "\(path) is not UTF-8 text")
        }
        return text
    }

    func canonicalPath(_ p: String) -> String { (p as NSString).standardizingPath }

    func importFile(_ path: String) throws {
        let base = importDirs.last ?? FileManager.default.currentDirectoryPath
        var full = path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
        if !FileManager.default.fileExists(atPath: full), !full.hasSuffix(".net"), FileManager.default.fileExists(atPath: full + ".net") {
            full += ".net"
        }
        let key = canonicalPath(full)
        if imported.contains(key) { return }
        imported.insert(key)
        let text = try readSourceFile(full)
        importDirs.append((full as NSString).deletingLastPathComponent)
        defer { importDirs.removeLast() }
        let saved = (lastValue, lastWasExpression)
        defer { (lastValue, lastWasExpression) = saved }
        try run(Source(name: path, text: text))
    }

    // MARK: calling

    /// Calls any callable value with positional arguments (used by `map`, `sort key:`…).
    public func call(_ f: Value, _ positional: [Value], options: [(String, Value)] = []) throws -> Value {
        guard case .function(let c) = f else { throw Diagnostic.type("\(f.typeName.withArticle) is not callable") }
        return try c.call(Args(positional, options: options, interp: self, callee: c.name))
    }

    func callUser(_ fn: UserFunction, _ positional: [Value], _ options: [(String, Value)]) throws -> Value {
        let code = fn.code
        let frame = Frame.make(count: code.slotCount, parent: fn.captured)
        let np = code.paramNames.count
        let fixed = code.restIndex ?? np
        if positional.count > fixed && code.restIndex == nil {
            throw Diagnostic.type("\(code.name) takes \(np) argument\(np == 1 ? "" : "s"), got \(positional.count)")
        }
        var given = [Bool](repeating: false, count: np)
        for i in 0..<min(positional.count, fixed) { frame.slots[i] = positional[i]; given[i] = true }
        if let r = code.restIndex {
            frame.slots[r] = .list(Array(positional.dropFirst(fixed)))
            given[r] = true
        }
        for (k, v) in options {
            guard let i = code.paramNames.firstIndex(of: k), i != code.restIndex else {
                throw Diagnostic.type("\(code.name) has no parameter '\(k)'")
            }
            if given[i] { throw Diagnostic.type("\(code.name) got '\(k)' twice") }
            frame.slots[i] = v; given[i] = true
        }
        for i in 0..<np where !given[i] {
            guard let d = code.defaults[i] else {
                throw Diagnostic.type("\(code.name) is missing argument '\(code.paramNames[i])'")
            }
            frame.slots[i] = try d(frame)
        }
        return try invoke(code, frame)
    }

    /// One frame per call depth, lent to calls of functions whose frames no closure can
    /// capture. Slots are cleared when the call returns, so nothing stays alive longer. Each
    /// frame is counted once, by this table (`freeDepthFrames` releases them; the main
    /// table lives as long as the interpreter, as the frames it lends would). Empty (capacity
    /// 0) until the first call needs it; stored, not lazy, so a call reads it without a getter.
    var depthFrames: UnsafeMutablePointer<Unmanaged<Frame>?> = Interpreter.noDepthFrames
    var depthFramesCapacity = 0
    static let noDepthFrames = makeDepthFrames(1)

    /// Every function compiled by this interpreter, kept as long as it is: a call of a
    /// top-level function whose arguments ran no code need not hold the function (its code
    /// is here, its parent frame is the root frame), even if the call rebinds its name.
    var compiledFunctions: [CompiledFunction] = []

    /// A table of frames per call depth, all nil. It comes from mmap: its pages are zero (nil)
    /// until a call that deep touches them, so 10,000 tasks cost a page each rather than a
    /// whole table each. Should mmap fail, the heap serves (and `heapDepthTables` remembers it).
    static func makeDepthFrames(_ capacity: Int) -> UnsafeMutablePointer<Unmanaged<Frame>?> {
        let bytes = capacity * MemoryLayout<Unmanaged<Frame>?>.stride
        if let m = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), m != MAP_FAILED {
            return m.bindMemory(to: Unmanaged<Frame>?.self, capacity: capacity)
        }
        let p = UnsafeMutablePointer<Unmanaged<Frame>?>.allocate(capacity: capacity)
        p.initialize(repeating: nil, count: capacity)
        heapDepthTables.withLock { _ = $0.insert(UInt(bitPattern: p)) }
        return p
    }

    static func freeDepthFrames(_ p: UnsafeMutablePointer<Unmanaged<Frame>?>, _ capacity: Int) {
        for i in 0..<capacity { p[i]?.release() }
        p.deinitialize(count: capacity)
        if heapDepthTables.withLock({ $0.remove(UInt(bitPattern: p)) != nil }) {
            p.deallocate()
        } else {
            munmap(UnsafeMutableRawPointer(p), capacity * MemoryLayout<Unmanaged<Frame>?>.stride)
        }
    }

    /// The depth tables that came from the heap because mmap failed (almost never).
    static let heapDepthTables = Mutex<Set<UInt>>([])

    /// The frame lent to a call at the current depth, with room for `count` slots, all nil.
    /// Its parent is not counted: the caller keeps the function (and so its captured frame)
    /// alive until the call returns.
    /// nil when the table has no row for this depth (`maxCallDepth` raised after it was made):
    /// the call then makes a frame of its own.
    @inline(__always)
    func borrowFrame(count: Int, parent: Frame) -> Unmanaged<Frame>? {
        let d = callDepth
        if d < depthFramesCapacity, let u = depthFrames[d], u._withUnsafeGuaranteedRef({ $0.header.count >= count }) {
            u._withUnsafeGuaranteedRef { $0.header.parent = parent }
            return u
        }
        return newDepthFrame(d, count: count, parent: parent)
    }

    @inline(never)
    func newDepthFrame(_ d: Int, count: Int, parent: Frame) -> Unmanaged<Frame>? {
        if depthFramesCapacity == 0 {
            depthFramesCapacity = maxCallDepth + 2
            depthFrames = Interpreter.makeDepthFrames(depthFramesCapacity)
        }
        if d >= depthFramesCapacity { return nil }
        let f = Frame.make(count: Swift.max(count, 4), parent: parent)
        f.header.owner = nil
        depthFrames[d]?.release()
        let u = Unmanaged.passRetained(f)
        depthFrames[d] = u
        return u
    }

    /// Clears a lent frame's slots.
    @inline(__always)
    func clearFrame(_ frame: Frame, count: Int) {
        let s = frame.slots
        for i in 0..<count {
            // An int, float, bool or nil needs no release: nil is written over it.
            if (s + i).pointee.isTrivial { (s + i).initialize(to: .nil) } else { s[i] = .nil }
        }
    }

    /// Clears a lent frame's slots and takes the value its `return` left.
    @inline(__always)
    func returnFrame(_ frame: Frame, count: Int) -> Value {
        let s = frame.slots
        for i in 0..<count { s[i] = .nil }
        return frame.takeReturnValue()
    }

    /// Runs a function's body in a lent frame: depth check, body, slots cleared (also when it
    /// throws), the returned value.
    @inline(__always)
    func invokeBorrowed(_ code: CompiledFunction, _ frame: Frame) throws -> Value {
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > maxCallDepth {
            _ = returnFrame(frame, count: code.slotCount)
            throw Diagnostic("recursion", "calls nested more than \(maxCallDepth) deep (runaway recursion in \(code.name)?)")
        }
        if interruptFlag.load(ordering: .relaxed) { _ = returnFrame(frame, count: code.slotCount); throw Interpreter.interrupted() }
        let v: Value
        do { v = try code.run(frame) } catch { _ = returnFrame(frame, count: code.slotCount); throw error }
        clearFrame(frame, count: code.slotCount)
        return v
    }

    /// Calls a function written in the language with its arguments (at most two) computed:
    /// in a lent frame when no closure can capture it, else in a frame of its own.
    @inline(__always)
    func callDirect(_ fn: UserFunction, _ code: CompiledFunction, _ n: Int, _ a0: Value, _ a1: Value) throws -> Value {
        if code.framesReusable, let u = borrowFrame(count: code.slotCount, parent: fn.captured) {
            return try u._withUnsafeGuaranteedRef { frame in
                // A lent frame's slots are nil (cleared when its last call returned).
                let slots = frame.slots
                if n > 0 { slots.initialize(to: a0) }
                if n > 1 { (slots + 1).initialize(to: a1) }
                return try invokeBorrowed(code, frame)
            }
        }
        let frame = Frame.make(count: code.slotCount, parent: fn.captured)
        if n > 0 { frame.slots[0] = a0 }
        if n > 1 { frame.slots[1] = a1 }
        return try invoke(code, frame)
    }

    @inline(__always)
    func invoke(_ code: CompiledFunction, _ frame: Frame) throws -> Value {
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > maxCallDepth {
            throw Diagnostic("recursion", "calls nested more than \(maxCallDepth) deep (runaway recursion in \(code.name)?)")
        }
        if interruptFlag.load(ordering: .relaxed) { throw Interpreter.interrupted() }
        return try code.run(frame)
    }

    public static func interrupted() -> Diagnostic {
        // While `serve tcp` runs handlers at once, every handler must see the Ctrl-C: the
        // server clears the flag once they have all stopped.
        // Tasks and parallel loops likewise (LanguageThreads decides).
        if LanguageThreads.mayClearInterrupt() { interruptFlag.store(false, ordering: .relaxed) }
        return Diagnostic("interrupted", "interrupted (Ctrl-C)")
    }

    // MARK: iteration

    /// Walks anything `for` can walk: lists, maps (keys), strings (characters), bytes (ints),
    /// ranges and iterable natives. The body returns false to stop early.
    public func iterate(_ v: Value, what: String = "for", _ body: (Value) throws -> Bool) throws {
        switch v {
        case .list(let l):
            var i = 0
            while i < l.items.count {
                if try !body(l.items[i]) { return }
                i += 1
            }
        case .map(let m):
            for k in Array(m.dict.keys) { if try !body(k) { return } }
        case .string(let s):
            // Unicode scalars, as `len` and `s[i]` count them ("\r\n" is two items, not one).
            for c in s.unicodeScalars { if try !body(.string(String(c))) { return } }
        case .bytes(let b):
            for c in b { if try !body(.int(Int(c))) { return } }
        case .native(let n):
            guard let next = n.makeIterator() else {
                // A record walks its field names, as a map walks its keys.
                if let names = n.entryNames {
                    for k in names { if try !body(.string(k)) { return } }
                    return
                }
                throw Diagnostic.type("\(what): \(n.typeName.withArticle) cannot be iterated")
            }
            while let x = try next() {
                if interruptFlag.load(ordering: .relaxed) { throw Interpreter.interrupted() }
                if try !body(x) { return }
            }
        default:
            throw Diagnostic.type("\(what): \(v.typeName.withArticle) cannot be iterated")
        }
    }

    /// The items as an array, refusing (kind `memory`) more than `limit` — before walking
    /// anything when the size is known, so `list (range 1e12)` fails at once.
    public func iterateToArray(_ v: Value, what: String, limit: Int = Limits.maxItems) throws -> [Value] {
        if case .list(let l) = v { return l.items }
        try Limits.checkItems(of: v, what: what, limit: limit)
        var out: [Value] = []
        if case .native(let n) = v, let c = n.itemCount { out.reserveCapacity(Int(c.value)) }
        try iterate(v, what: what) { x in
            if out.count >= limit { throw Limits.tooManyItems(what, nil, limit: limit) }
            out.append(x); return true
        }
        return out
    }

    // MARK: fields and indexes

    public func field(_ v: Value, _ name: String) throws -> Value {
        switch v {
        case .map(let m):
            if let x = m.dict[.string(name)] { return x }
            throw Diagnostic("key", "map has no key \"\(name)\"" + suggestion(name, m.dict.keys.compactMap { if case .string(let s) = $0 { return s } else { return nil } }))
        case .native(let n):
            if let x = try n.field(name) { return x }
            throw Diagnostic.name("\(n.typeName.withArticle) has no field '\(name)'" + (n.fieldNames.isEmpty ? "" : " (fields: \(n.fieldNames.joined(separator: ", ")))"))
        case .function(let ns as Namespace):
            if let x = ns.members[name] { return x }
            if let py = HelpBuiltins.pythonNames["\(ns.name).\(name)"] {
                throw Diagnostic.name("\(ns.name) has no command '\(name)'; did you mean `\(py)`? ('\(ns.name).\(name)' is Python's name)")
            }
            throw Diagnostic.name("\(ns.name) has no command '\(name)'" + suggestion(name, Array(ns.members.keys)))
        default:
            throw Diagnostic.type("\(v.typeName.withArticle) has no fields (tried .\(name))")
        }
    }

    func suggestion(_ name: String, _ candidates: [String]) -> String {
        guard let best = candidates.map({ ($0, editDistance($0, name)) }).min(by: { $0.1 < $1.1 }),
              best.1 <= (name.count <= 2 ? 0 : max(1, name.count / 3)), best.0 != name else { return "" }
        return "; did you mean '\(best.0)'?"
    }

    public func setField(_ target: Value, _ name: String, _ value: Value) throws {
        switch target {
        case .map(let m): m.dict[.string(name)] = value
        case .native(let n): try n.setField(name, value)
        default: throw Diagnostic.type("cannot set field '\(name)' on \(target.typeName.withArticle)")
        }
    }

    static func normalizeIndex(_ i: Int, _ count: Int, _ what: String) throws -> Int {
        let j = i < 0 ? i + count : i
        guard j >= 0 && j < count else { throw Diagnostic("index", "index \(i) is out of range for a \(what) of length \(count)") }
        return j
    }

    public func index(_ v: Value, _ idx: Value) throws -> Value {
        switch (v, idx) {
        case (.list(let l), .int(let i)): return l.items[try Interpreter.normalizeIndex(i, l.items.count, "list")]
        case (.map(let m), _):
            if let x = m.dict[idx] { return x }
            throw Diagnostic("key", "map has no key \(Value.repr(idx))")
        case (.string(let s), .int(let i)):
            let scalars = Array(s.unicodeScalars)
            return .string(String(scalars[try Interpreter.normalizeIndex(i, scalars.count, "string")]))
        case (.bytes(let b), .int(let i)): return .int(Int(b[try Interpreter.normalizeIndex(i, b.count, "bytes value")]))
        case (.native(let n), _):
            if let x = try n.index(idx) { return x }
            // A record reads like a map: `r["ttl"]` is `r.ttl`.
            if case .string(let k) = idx, let names = n.entryNames {
                if names.contains(k) { return try n.entry(k) ?? .nil }
                throw Diagnostic("key", "\(n.typeName.withArticle) has no field \(Value.repr(idx))" + suggestion(k, names) + " (fields: \(names.joined(separator: ", ")))")
            }
            throw Diagnostic.type("\(n.typeName.withArticle) cannot be indexed by \(idx.typeName.withArticle)")
        default:
            throw Diagnostic.type("\(v.typeName.withArticle) cannot be indexed by \(idx.typeName.withArticle)")
        }
    }

    public func setIndex(_ target: Value, _ idx: Value, _ value: Value) throws {
        switch (target, idx) {
        case (.list(let l), .int(let i)): l.items[try Interpreter.normalizeIndex(i, l.items.count, "list")] = value
        case (.map(let m), _):
            guard idx.isHashableKey else { throw Diagnostic.type("\(idx.typeName.withArticle) cannot be a map key") }
            m.dict[idx] = value
        default: throw Diagnostic.type("cannot assign to an index of \(target.typeName.withArticle)")
        }
    }

    public func slice(_ v: Value, _ lo: Value, _ hi: Value) throws -> Value {
        func bounds(_ count: Int) throws -> Range<Int> {
            func clamp(_ x: Value, _ dflt: Int) throws -> Int {
                switch x {
                case .nil: return dflt
                case .int(let i): return Swift.max(0, Swift.min(count, i < 0 ? i + count : i))
                default: throw Diagnostic.type("slice bounds must be ints, not \(x.typeName)")
                }
            }
            let a = try clamp(lo, 0), b = try clamp(hi, count)
            return a..<Swift.max(a, b)
        }
        switch v {
        case .list(let l): return .list(Array(l.items[try bounds(l.items.count)]))
        case .string(let s):
            let sc = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            out.append(contentsOf: sc[try bounds(sc.count)])
            return .string(String(out))
        case .bytes(let b): return .bytes(Array(b[try bounds(b.count)]))
        case .native(let n):
            if let x = try n.slice(lo, hi) { return x }
            throw Diagnostic.type("\(v.typeName.withArticle) cannot be sliced")
        default: throw Diagnostic.type("\(v.typeName.withArticle) cannot be sliced")
        }
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count)
    for i in 1...x.count {
        var cur = [i] + [Int](repeating: 0, count: y.count)
        for j in 1...y.count {
            cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[y.count]
}

/// Buffered standard output: `print` is cheap, and the buffer is flushed at line ends on a
/// terminal, before anything goes to stderr, and at exit.
public final class Output {
    public static let standard = Output(fd: 1)
    let fd: Int32
    var buffer: [UInt8] = []
    public var lineBuffered: Bool
    /// When set, output is captured here instead of written (tests).
    public var capture: ((String) -> Void)?

    public init(fd: Int32) {
        self.fd = fd
        self.lineBuffered = isatty(fd) == 1
        buffer.reserveCapacity(1 << 16)
    }

    public func write(_ s: String, newline: Bool = false) {
        if let capture { capture(newline ? s + "\n" : s); return }
        var s = s
        s.withUTF8 { buffer.append(contentsOf: $0) }   // a contiguous copy, not byte by byte
        if newline { buffer.append(0x0A) }
        if buffer.count >= 1 << 16 || (lineBuffered && (newline || s.utf8.last == 0x0A)) { flush() }
    }

    public func flush() {
        guard !buffer.isEmpty else { return }
        // A closed pipe or a full disk loses the output; nothing more can be said on it.
        _ = buffer.withUnsafeBytes { SysCall.writeAll(fd, $0) }
        buffer.removeAll(keepingCapacity: true)
    }
}
