/// The sizes the interpreter refuses to build. A script that asks for more gets an error at
/// once — kind `memory` for a list, string or bytes value too big to make (as CPython raises
/// MemoryError), kind `value` for a width or precision out of bounds — instead of allocating
/// until the kernel kills the process, or handing a huge number to Foundation's formatter.
/// grammar.md (§3 Values) documents these numbers; keep them in agreement.
public enum Limits {
    /// The most items a list built from another value may hold: `list`, `sort`, `reverse`,
    /// `map`, `filter`… of a range, a network or a string, and `[x] * N`. At 24 bytes an
    /// item a list this long takes 720 MB, and `sort key:` needs about 3.3 times that — so
    /// it still fits under a 4 GB address-space limit (`ulimit -v 4000000`).
    public static let maxItems = 30_000_000
    /// The most bytes a string or bytes value made by repetition (`"-" * N`) may hold: 1 GiB.
    public static let maxBytes = 1 << 30
    /// The widest field `pad` and `format` fill.
    public static let maxWidth = 1_000_000
    /// The most digits after the point a float format (`{:.Nf}`) may ask for.
    public static let maxPrecision = 100

    static func memory(_ message: String) -> Diagnostic { Diagnostic("memory", message) }

    /// The error for a list of `count` items (a decimal text, since it may exceed Int.max).
    static func tooManyItems(_ what: String, _ count: String?, limit: Int = maxItems) -> Diagnostic {
        let size = count.map { "\($0) items" } ?? "more than \(limit) items"
        return memory("\(what): cannot make a list of \(size) (the limit is \(limit))")
    }

    /// Refuses, before walking it, a value whose items would make a list longer than `limit`:
    /// a range, network or other native whose size is known, a string, bytes.
    static func checkItems(of v: Value, what: String, limit: Int = maxItems) throws {
        switch v {
        case .native(let n):
            if let c = n.itemCount, c.value > Double(limit) { throw tooManyItems(what, c.text, limit: limit) }
        case .string(let s):
            if s.utf8.count > limit {
                let n = s.unicodeScalars.count
                if n > limit { throw tooManyItems(what, String(n), limit: limit) }
            }
        case .bytes(let b):
            if b.count > limit { throw tooManyItems(what, String(b.count), limit: limit) }
        default: break
        }
    }

    /// `piece` repeated `n` times, by doubling: one allocation and about log2(n) copies, so a
    /// gigabyte takes a fraction of a second rather than a billion appends.
    static func repeatBytes(_ piece: UnsafeRawBufferPointer, _ n: Int, into buffer: UnsafeMutableRawBufferPointer) {
        let total = piece.count * n
        guard total > 0, let base = buffer.baseAddress, let src = piece.baseAddress else { return }
        base.copyMemory(from: src, byteCount: piece.count)
        var filled = piece.count
        while filled < total {
            let chunk = Swift.min(filled, total - filled)
            (base + filled).copyMemory(from: base, byteCount: chunk)
            filled += chunk
        }
    }

    /// Checks that `n` copies of a `unit`-sized piece fit in `limit`, and returns the total.
    /// A negative count is a `value` error; a total past the limit (or past Int.max) `memory`.
    static func repetitionSize(_ n: Int, unit: Int, limit: Int, what: String, unitName: String) throws -> Int {
        guard n >= 0 else { throw Diagnostic.value("cannot repeat \(what) \(n) times") }
        let (total, overflow) = n.multipliedReportingOverflow(by: unit)
        if overflow || total > limit {
            let exact = UInt128(n) * UInt128(unit)
            throw memory("repeating \(what) \(n) times would make \(exact) \(unitName) (the limit is \(limit))")
        }
        return total
    }
}
