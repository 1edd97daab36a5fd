/// A program's text and its name, with the line table that turns byte offsets into
/// line and column numbers for diagnostics.
public final class Source: @unchecked Sendable {
    public let name: String
    public let bytes: [UInt8]
    private let lineStarts: [Int]

    public init(name: String, text: String) {
        self.name = name
        self.bytes = Array(text.utf8)
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        self.lineStarts = starts
    }

    /// The 1-based line and column (counted in Unicode scalars) of a byte offset.
    public func lineColumn(of offset: Int) -> (line: Int, column: Int) {
        let o = max(0, min(offset, bytes.count))
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= o { lo = mid } else { hi = mid - 1 }
        }
        var col = 1
        var i = lineStarts[lo]
        while i < o {
            if bytes[i] & 0xC0 != 0x80 { col += 1 }
            i += 1
        }
        // A continuation byte at the start position would overcount; offsets always point at a scalar start.
        return (lo + 1, col)
    }

    /// The text of a 1-based line, without its newline.
    public func lineText(_ line: Int) -> String {
        guard line >= 1, line <= lineStarts.count else { return "" }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
    }

    public func text(_ range: SourceRange) -> String {
        let s = max(0, min(range.start, bytes.count)), e = max(s, min(range.end, bytes.count))
        return String(decoding: bytes[s..<e], as: UTF8.self)
    }
}

/// A span of source text: byte offsets into a `Source`.
public struct SourceRange: Sendable, Equatable {
    public var start: Int
    public var end: Int
    public init(_ start: Int, _ end: Int) { self.start = start; self.end = end }
    public func to(_ other: SourceRange) -> SourceRange { SourceRange(start, max(end, other.end)) }
}

/// Where something happened, resolved to file, line and column for humans.
public struct SourceLocation: Sendable, Equatable {
    public var file: String
    public var line: Int
    public var column: Int
    public var lineText: String
    /// How many columns the caret underline spans.
    public var width: Int

    public init(file: String, line: Int, column: Int, lineText: String, width: Int = 1) {
        self.file = file; self.line = line; self.column = column; self.lineText = lineText; self.width = width
    }

    public init(source: Source, range: SourceRange) {
        let (l, c) = source.lineColumn(of: range.start)
        let text = source.lineText(l)
        let (l2, c2) = source.lineColumn(of: range.end)
        self.init(file: source.name, line: l, column: c, lineText: text,
                  width: l2 == l ? max(1, c2 - c) : max(1, text.unicodeScalars.count - c + 1))
    }

    public static func == (a: SourceLocation, b: SourceLocation) -> Bool {
        a.file == b.file && a.line == b.line && a.column == b.column
    }
}
