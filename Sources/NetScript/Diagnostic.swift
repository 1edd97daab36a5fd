/// The one error type of the language: a kind (`syntax`, `name`, `type`, `value`, `io`,
/// `timeout`, `dns.nxdomain`, `smtp.auth`, …), a message, where it happened, and what caused
/// it (a server's reply, an OS error). Scripts catch it with `try … catch e`.
public struct Diagnostic: Error, CustomStringConvertible, @unchecked Sendable {
    public var kind: String
    public var message: String
    public var location: SourceLocation?
    /// The underlying cause, in words: a server's reply line, an errno text.
    public var cause: String?
    /// Extra fields a protocol error carries into the script (`e.code`, `e.reply`, …).
    public var fields: [(String, Value)]

    public init(_ kind: String, _ message: String, location: SourceLocation? = nil,
                cause: String? = nil, fields: [(String, Value)] = []) {
        self.kind = kind; self.message = message; self.location = location
        self.cause = cause; self.fields = fields
    }

    /// Errors that end a script run with exit status 2 rather than 1.
    public var isUsageError: Bool { kind == "syntax" || kind == "usage" }

    public var description: String { render(color: false) }

    /// `FILE:LINE:COL: error[KIND]: MESSAGE`, then the source line and a caret.
    public func render(color: Bool = false) -> String {
        let red = color ? "\u{1B}[1;31m" : "", bold = color ? "\u{1B}[1m" : "", reset = color ? "\u{1B}[0m" : ""
        var out = ""
        if let loc = location {
            out += "\(bold)\(loc.file):\(loc.line):\(loc.column):\(reset) "
        }
        out += "\(red)error[\(kind)]\(reset): \(message)"
        if let cause, !message.contains(cause) { out += "\n  cause: \(cause)" }
        if let loc = location, !loc.lineText.isEmpty {
            let gutter = String(loc.line)
            let pad = String(repeating: " ", count: gutter.count)
            // Tabs in the line are kept so the caret lines up under them.
            var caretPad = ""
            for (i, ch) in loc.lineText.unicodeScalars.enumerated() where i < loc.column - 1 {
                caretPad += ch == "\t" ? "\t" : " "
            }
            let width = max(1, min(loc.width, max(1, loc.lineText.unicodeScalars.count - loc.column + 1)))
            out += "\n\(pad) |\n\(gutter) | \(loc.lineText)\n\(pad) | \(caretPad)\(red)\(String(repeating: "^", count: width))\(reset)"
        }
        return out
    }
}

extension Diagnostic {
    static func type(_ message: String) -> Diagnostic { Diagnostic("type", message) }
    static func value(_ message: String) -> Diagnostic { Diagnostic("value", message) }
    static func name(_ message: String) -> Diagnostic { Diagnostic("name", message) }
    static func io(_ message: String) -> Diagnostic { Diagnostic("io", message) }
}
