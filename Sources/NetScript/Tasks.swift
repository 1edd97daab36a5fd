import Foundation
import Synchronization
import OrderedCollections

/// Tasks (`spawn`, `wait`) and the parallel loops (`parallel for`, `pmap`), built on the
/// interpreter lock `serve tcp` uses: every task runs on a thread of its own, language code
/// runs on one thread at a time, and a thread gives the lock up while it waits on the
/// network, DNS, HTTP, FTP, SMTP or `sleep` (every `blockingCall`).
enum LanguageThreads {
    /// Threads other than the interpreter's own that run, or are about to run, language code
    /// (tasks, `parallel for` workers, `serve tcp` handlers).
    static let live = Atomic<Int>(0)
    /// Set when the interpreter's thread took a Ctrl-C while workers were still running:
    /// the last worker to end clears the interrupt flag (every worker must see it first).
    static let clearWhenIdle = Atomic<Bool>(false)
    /// Thread stacks: deep recursion in a task is a `recursion` error, not a crash. Only
    /// the pages a thread touches cost memory.
    static let stackSize = 1 << 28

    /// What a worker thread is doing, for `trace on` ("task 3", "item 17").
    final class Info {
        var label: String
        let body: () -> Void
        init(_ label: String, _ body: @escaping () -> Void) { self.label = label; self.body = body }
    }
    /// Each worker's Info, in a pthread key (plain pthreads: no Foundation Thread per task).
    static let infoKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static var current: Info? {
        guard let p = pthread_getspecific(infoKey) else { return nil }
        return Unmanaged<Info>.fromOpaque(p).takeUnretainedValue()
    }
    static var isWorker: Bool { pthread_getspecific(infoKey) != nil }

    /// The label that `trace on` puts before a step: the task running it; "main" on the
    /// interpreter's thread once other threads run language code; nil otherwise.
    static var traceLabel: String? {
        if let info = current { return info.label }
        return activeInterpreterLock != nil && live.load(ordering: .relaxed) > 0 ? "main" : nil
    }

    /// Starts `body` on a new thread counted in `live`; a thread the system refuses is an
    /// error of kind `memory`, never a task that silently does not run.
    static func start(label: String, _ body: @escaping () -> Void) throws {
        live.add(1, ordering: .sequentiallyConsistent)
        let info = Unmanaged.passRetained(Info(label, body))
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setstacksize(&attr, stackSize)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attr, { raw in
            guard let raw else { return nil }
            pthread_setspecific(LanguageThreads.infoKey, raw)
            let info = Unmanaged<Info>.fromOpaque(raw)
            info.takeUnretainedValue().body()
            pthread_setspecific(LanguageThreads.infoKey, nil)
            info.release()
            if LanguageThreads.live.subtract(1, ordering: .sequentiallyConsistent).newValue == 0,
               LanguageThreads.clearWhenIdle.exchange(false, ordering: .sequentiallyConsistent) {
                interruptFlag.store(false, ordering: .sequentiallyConsistent)
            }
            return nil
        }, info.toOpaque())
        if rc != 0 {
            info.release()
            let n = live.subtract(1, ordering: .sequentiallyConsistent).newValue
            throw Diagnostic("memory", "cannot start another thread (\(n) running): \(String(cString: strerror(rc)))")
        }
    }

    /// Whether an `interrupted` error may clear the interrupt flag now: only on the
    /// interpreter's thread, and only once no worker still has to see it.
    static func mayClearInterrupt() -> Bool {
        if activeInterpreterLock == nil { return true }
        if isWorker { return false }
        if live.load(ordering: .sequentiallyConsistent) == 0 { return true }
        clearWhenIdle.store(true, ordering: .sequentiallyConsistent)
        if live.load(ordering: .sequentiallyConsistent) == 0 {
            clearWhenIdle.store(false, ordering: .sequentiallyConsistent)
            return true
        }
        return false
    }

    /// The interpreter lock, created (and taken by this thread, which must be running
    /// language code) the first time a task or a parallel loop starts; it stays for the
    /// rest of the run.
    static func lock(_ interp: Interpreter) -> InterpreterLock {
        if let l = activeInterpreterLock { return l }
        let l = InterpreterLock(interp)
        activeInterpreterLock = l
        persistentLock = l
        return l
    }
    /// The lock made by `lock(_:)`: `serve tcp` uses it instead of making its own.
    nonisolated(unsafe) static var persistentLock: InterpreterLock?

    /// Waits (without the interpreter lock) until `done()` holds, polling `cond`; Ctrl-C and
    /// the deadline end the wait early. Returns false at the deadline.
    static func waitUntil(_ cond: NSCondition, deadline: Date, _ done: () -> Bool) throws -> Bool {
        let outcome: Int = blockingCall {
            cond.lock(); defer { cond.unlock() }
            while !done() {
                if interruptFlag.load(ordering: .relaxed) { return 1 }
                let now = Date()
                if now >= deadline { return 2 }
                _ = cond.wait(until: min(deadline, now.addingTimeInterval(0.05)))
            }
            return 0
        }
        if outcome == 1 { throw Interpreter.interrupted() }
        return outcome == 0
    }
}

/// A task started by `spawn`: its value once it ends, or its error.
final class TaskValue: NativeObject, @unchecked Sendable {
    nonisolated(unsafe) static var nextID = 0
    let id: Int
    let cond = NSCondition()
    private var result: Result<Value, Diagnostic>?

    init(id: Int) { self.id = id }

    func finish(_ r: Result<Value, Diagnostic>) {
        cond.lock(); result = r; cond.broadcast(); cond.unlock()
    }
    var outcome: Result<Value, Diagnostic>? { cond.lock(); defer { cond.unlock() }; return result }

    override var typeName: String { "task" }
    override var fieldNames: [String] { ["id", "done", "failed"] }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "id": return .int(id)
        case "done": return .bool(outcome != nil)
        case "failed": if case .failure? = outcome { return .bool(true) } else { return .bool(false) }
        default: return nil
        }
    }
    override var description: String {
        switch outcome {
        case nil: return "<task \(id) running>"
        case .success?: return "<task \(id) done>"
        case .failure(let d)?: return "<task \(id) failed: error[\(d.kind)]>"
        }
    }

    /// The task's value, or its error raised again as it was (kind, fields, location).
    func wait(deadline: Date) throws -> Value {
        if try !LanguageThreads.waitUntil(cond, deadline: deadline, { result != nil }) {
            throw Diagnostic("timeout", "wait: task \(id) did not finish in time")
        }
        switch outcome! {
        case .success(let v): return v
        case .failure(let d): throw d
        }
    }
}

enum TaskBuiltins {
    static func register(in r: Interpreter) {
        r.register("spawn", min: 1, options: nil,
                   usage: "spawn { … }   |   spawn FUNCTION [ARGS…] [OPTIONS…]",
                   summary: "Starts a task: the block (or FUNCTION called with ARGS and options) runs on a thread of its own while the script goes on; `wait t` gives its value or raises its error. Language code runs one task at a time and switches while a task waits on the network, DNS, HTTP, FTP, SMTP or sleep (grammar.md, Concurrency).",
                   example: "t = spawn { recv.line (connect \"127.0.0.1:25\") }; print (wait t)") { a in
            let f = a[0]
            guard case .function = f else { throw Diagnostic.type("spawn: needs a block or a function, not \(f.typeName.withArticle)") }
            let args = Array(a.positional.dropFirst()), options = a.options
            let interp = a.interp
            let lock = LanguageThreads.lock(interp)
            TaskValue.nextID += 1
            let task = TaskValue(id: TaskValue.nextID)
            try LanguageThreads.start(label: "task \(task.id)") {
                lock.enter {
                    do { task.finish(.success(try interp.call(f, args, options: options))) }
                    catch let d as Diagnostic { task.finish(.failure(d)) }
                    catch { task.finish(.failure(Diagnostic("fail", "\(error)"))) }
                }
            }
            return .native(task)
        }
        r.register("wait", min: 1, max: 1, options: ["timeout"],
                   usage: "wait TASK [timeout: SECONDS]   |   wait [TASKS…]",
                   summary: "Waits for a task from spawn and gives its value, or raises its error (the same kind and fields, located where the task failed). With a list of tasks, gives their values in the list's order (the first failure in that order is raised). Waits without limit unless timeout: is given (kind timeout); Ctrl-C interrupts.",
                   example: "ts = map fn(h) { spawn fn() { dns \"A\" h } } hosts; rs = wait ts") { a in
            let deadline = try a.optionNumber("timeout").map { Date().addingTimeInterval($0) } ?? Date.distantFuture
            func task(_ v: Value) throws -> TaskValue {
                guard case .native(let t as TaskValue) = v else {
                    throw Diagnostic.type("wait: needs a task (from spawn) or a list of tasks, not \(v.typeName.withArticle)")
                }
                return t
            }
            a.interp.output.flush()
            if case .list(let l) = a[0] {
                let tasks = try l.items.map(task)
                return .list(try tasks.map { try $0.wait(deadline: deadline) })
            }
            return try task(a[0]).wait(deadline: deadline)
        }

        r.namespace("parallel", summary: "parallel for NAME in ITEMS [concurrency: 100] [errors: \"stop\"|\"collect\"] [rate: OPS_PER_SECOND] { … } — runs the block for many items at once (see help pmap).")
        r.register("parallel.for", min: 2, max: 2, options: ["concurrency", "errors", "rate"],
                   usage: "parallel for NAME in ITEMS [concurrency: 100] [errors: \"stop\"] [rate: N] { … }",
                   summary: "Runs the block for each item, up to concurrency: items at once, each with its own loop variable (the block is a function of it: what it assigns is its own unless `global`; it can append to shared lists and maps). The first error stops the items not yet started and is raised once the running ones end; errors: \"collect\" goes on and gives the list of errors (its value). rate: limits item starts to N a second. break/continue are not allowed in it (return ends one item).",
                   example: "parallel for h in hosts concurrency: 200 { c = connect \"{h}:25\" timeout: 3; print h (recv.line c) }") { a in
            let results = try runParallel(a, items: a[0], fn: a[1], what: "parallel for")
            if case .collect = try errorMode(a) {
                return .list(results.filter { if case .native(is ErrorObject) = $0 { return true } else { return false } })
            }
            return .nil
        }
        r.register("pmap", min: 2, max: 2, options: ["concurrency", "errors", "rate"],
                   usage: "pmap FUNCTION ITEMS [concurrency: 100] [errors: \"stop\"|\"collect\"] [rate: N]",
                   summary: "map, with up to concurrency: calls at once (one thread each; language code one at a time, switching while a call waits on the network or sleeps). Results in input order. The first error stops the items not yet started and is raised; errors: \"collect\" gives a failed item's error as its result. rate: limits calls started to N a second.",
                   example: "banners = pmap fn(h) { recv.line (connect \"{h}:25\" timeout: 3) } hosts concurrency: 200 errors: \"collect\"") { a in
            .list(try runParallel(a, items: a[1], fn: a[0], what: "pmap"))
        }
    }

    enum ErrorMode { case stop, collect }

    static func errorMode(_ a: Args) throws -> ErrorMode {
        switch try a.optionString("errors") ?? "stop" {
        case "stop": return .stop
        case "collect": return .collect
        case let other: throw Diagnostic.value("\(a.callee): errors: must be \"stop\" or \"collect\", not \"\(other)\"")
        }
    }

    /// The state the workers of one parallel run share. Read and changed only under the
    /// interpreter lock, except `done`/`cond`.
    final class Run: @unchecked Sendable {
        var next = 0
        var results: [Value]
        var firstError: Diagnostic?
        var nextSlot = 0.0
        let cond = NSCondition()
        var finished = 0
        init(count: Int) { results = [Value](repeating: .nil, count: count) }
    }

    /// Calls `fn` on every item with up to `concurrency:` threads; results in input order.
    static func runParallel(_ a: Args, items itemsValue: Value, fn: Value, what: String) throws -> [Value] {
        guard case .function(let callee) = fn else { throw Diagnostic.type("\(what): needs a function, not \(fn.typeName.withArticle)") }
        let concurrency = try a.optionInt("concurrency") ?? 100
        guard concurrency >= 1, concurrency <= 10_000 else { throw Diagnostic.value("\(what): concurrency: must be between 1 and 10000") }
        let rate = try a.optionNumber("rate")
        if let r = rate, !(r > 0 && r.isFinite) { throw Diagnostic.value("\(what): rate: must be a positive number of operations a second") }
        let mode = try errorMode(a)
        let interp = a.interp
        let items = try interp.iterateToArray(itemsValue, what: what)
        // Two loop variables take pairs: a map's keys and values, or two-item lists.
        var spread = false
        if let user = callee as? UserFunction, user.code.paramNames.count == 2, what == "parallel for" { spread = true }
        var pairs: [[Value]] = []
        if spread {
            if case .map(let m) = itemsValue { pairs = m.dict.map { [$0.key, $0.value] } }
            else {
                pairs = try items.map {
                    guard case .list(let l) = $0, l.items.count == 2 else {
                        throw Diagnostic.type("\(what): two loop variables need a map or a list of two-item lists, found \($0.typeName.withArticle)")
                    }
                    return l.items
                }
            }
        }
        let count = spread ? pairs.count : items.count
        if count == 0 { return [] }
        let run = Run(count: count)
        let lock = LanguageThreads.lock(interp)
        let interval = rate.map { 1.0 / $0 }
        let start = Date()

        let work: () -> Void = {
            lock.enter {
                while run.firstError == nil, run.next < count {
                    if interruptFlag.load(ordering: .relaxed) { run.firstError = Interpreter.interrupted(); break }
                    let i = run.next
                    run.next += 1
                    LanguageThreads.current?.label = "item \(i)"
                    if let interval {
                        // Each start takes the next free slot of the schedule, so starts never
                        // exceed the rate however many workers wait.
                        let now = Date().timeIntervalSince(start)
                        let slot = max(now, run.nextSlot)
                        run.nextSlot = slot + interval
                        if slot > now {
                            let ok = blockingCall { () -> Bool in
                                while true {
                                    if interruptFlag.load(ordering: .relaxed) { return false }
                                    let left = slot - Date().timeIntervalSince(start)
                                    if left <= 0 { return true }
                                    usleep(UInt32(min(left, 0.05) * 1_000_000))
                                }
                            }
                            if !ok { run.firstError = Interpreter.interrupted(); break }
                            if run.firstError != nil { break }
                        }
                    }
                    do {
                        run.results[i] = try interp.call(fn, spread ? pairs[i] : [items[i]])
                    } catch let d as Diagnostic {
                        if mode == .collect && d.kind != "interrupted" { run.results[i] = .native(ErrorObject(d)) }
                        else if run.firstError == nil { run.firstError = d }
                    } catch {
                        if run.firstError == nil { run.firstError = Diagnostic("fail", "\(error)") }
                    }
                }
            }
            run.cond.lock(); run.finished += 1; run.cond.broadcast(); run.cond.unlock()
        }
        var workers = 0
        for w in 0..<min(concurrency, count) {
            do { try LanguageThreads.start(label: "worker \(w)", work); workers += 1 }
            catch let d as Diagnostic {
                // The ones started see the error and stop at once (they wait for this thread's lock).
                run.firstError = d
                break
            }
        }
        interp.output.flush()
        do {
            _ = try LanguageThreads.waitUntil(run.cond, deadline: .distantFuture) { run.finished == workers }
        } catch let d as Diagnostic {
            // Ctrl-C: every worker sees the flag and stops; wait for them before raising.
            if run.firstError == nil { run.firstError = d }
            interruptFlag.store(true, ordering: .relaxed)
            _ = blockingCall { () -> Bool in
                run.cond.lock(); defer { run.cond.unlock() }
                while run.finished < workers { _ = run.cond.wait(until: Date().addingTimeInterval(0.05)) }
                return true
            }
            throw Interpreter.interrupted()
        }
        if let e = run.firstError {
            if e.kind == "interrupted" { throw Interpreter.interrupted() }
            throw e
        }
        return run.results
    }
}
