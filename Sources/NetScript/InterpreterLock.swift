import Foundation

/// Lets `serve tcp` run a handler in the language for each client at once, the way Python's
/// ThreadingTCPServer does: each client gets its own thread, and a single lock (an
/// interpreter lock, like CPython's GIL) lets one thread at a time run language code. A thread
/// gives the lock up while it waits on the network or sleeps (`blockingCall`), so one slow
/// client never holds the others up; language code itself stays single-threaded, so values
/// shared between handlers (globals, lists, maps) need no locking of their own.
///
/// The interpreter's per-thread state — the call depth and the frames lent per depth — is
/// swapped in whenever a thread takes the lock, so each handler has its own call stack.
final class InterpreterLock: @unchecked Sendable {
    private let mutex = NSLock()
    private unowned let interp: Interpreter

    /// Created and taken by the thread that is running the interpreter.
    init(_ interp: Interpreter) {
        self.interp = interp
        mutex.lock()
    }

    /// Runs `body` without the lock (the caller holds it); takes it back, and this thread's
    /// call state, afterwards. `body` must not touch interpreter values.
    func releasing<T>(_ body: () throws -> T) rethrows -> T {
        let depth = interp.callDepth, frames = interp.depthFrames, capacity = interp.depthFramesCapacity
        mutex.unlock()
        defer {
            mutex.lock()
            interp.callDepth = depth
            interp.depthFrames = frames
            interp.depthFramesCapacity = capacity
        }
        return try body()
    }

    /// Runs `body` on a new thread under the lock, with a fresh call stack of its own.
    func enter<T>(_ body: () throws -> T) rethrows -> T {
        // The frames-per-depth table comes from mmap: its pages are zero (nil) until a call
        // that deep touches them, so 10,000 tasks cost a page each, not 16 KiB each.
        let capacity = interp.maxCallDepth + 2
        let frames = Interpreter.makeDepthFrames(capacity)
        mutex.lock()
        interp.callDepth = 0
        interp.depthFrames = frames
        interp.depthFramesCapacity = capacity
        defer {
            Interpreter.freeDepthFrames(frames, capacity)
            mutex.unlock()
        }
        return try body()
    }

    /// Gives the lock back for good (the interpreter's thread, once every handler is done).
    func finish() { mutex.unlock() }
}

/// The lock while a concurrent `serve tcp` runs; nil otherwise (then nothing is locked).
nonisolated(unsafe) var activeInterpreterLock: InterpreterLock?

/// Runs a blocking wait (network, sleep) without the interpreter lock when handlers run
/// concurrently. The body must not read or change interpreter values.
@inline(__always)
func blockingCall<T>(_ body: () throws -> T) rethrows -> T {
    if let lock = activeInterpreterLock { return try lock.releasing(body) }
    return try body()
}

/// Runs `body` — a wait outside the language, such as the REPL's prompt — without the
/// interpreter lock, so tasks started by `spawn` go on meanwhile.
public func withoutInterpreterLock<T>(_ body: () throws -> T) rethrows -> T {
    try blockingCall(body)
}
