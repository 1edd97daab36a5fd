/// Recursive-descent parser from tokens to the syntax tree, written against the EBNF of
/// `grammar.md` §2 the way Lua's `lparser.c` is written against its grammar: one function per
/// rule, named `parse` + the rule's name in camel case (`or_expr` → `parseOrExpr`), each headed
/// by the rule's EBNF as a doc comment. `GrammarDriftTests` reads grammar.md and these files and
/// fails when a rule has no function, a function's heading differs from its rule, or a quoted
/// terminal has no `TokenType`.
///
/// Statements are in `ParserStatements.swift`, expressions in `ParserExpressions.swift`; this
/// file holds the token cursor and the error helpers.
public struct Parser {
    /// Nesting deeper than this is a syntax error rather than a stack overflow.
    public static let maxDepth = 200

    let source: Source
    var tokens: [Token]
    var i = 0
    /// One entry per open bracket: `true` where newlines are insignificant (inside `( [ {map`),
    /// `false` inside a block, where they separate statements.
    var newlineIgnored: [Bool] = [false]
    /// Set while parsing a `condition` (the head of `if`/`while`/`for`), where `{` opens the
    /// block, not a map argument.
    var noBraceArgs = false
    /// Labels that end a command's arguments instead of joining them, at this bracket level
    /// only: in `parallel for h in ITEMS concurrency: 200 { … }` they are the loop's own.
    var reservedLabels: Set<String> = []
    var depth = 0

    public init(source: Source, range: SourceRange? = nil) throws {
        self.source = source
        self.tokens = try Lexer.tokenize(source, range: range)
    }

    /// Parses a whole program.
    public static func parse(_ source: Source) throws -> [Stmt] {
        var p = try Parser(source: source)
        return try p.parseProgram()
    }

    // MARK: tokens

    var ignoringNewlines: Bool { newlineIgnored.last ?? false }

    mutating func skipIgnoredNewlines() {
        if ignoringNewlines { while tokens[i].kind == .newline { i += 1 } }
    }

    /// The next token, past newlines where they are spaces.
    var peek: Token { mutating get { skipIgnoredNewlines(); return tokens[i] } }

    /// The token `k` places after the next one (newlines skipped where they are spaces).
    func peekAhead(_ k: Int) -> Token {
        var j = i, n = 0
        while j < tokens.count - 1 {
            if ignoringNewlines, tokens[j].kind == .newline { j += 1; continue }
            if n == k { return tokens[j] }
            n += 1; j += 1
        }
        return tokens[tokens.count - 1]
    }

    /// The next token, even a newline that is a separator.
    var current: Token { tokens[i] }

    @discardableResult
    mutating func advance() -> Token {
        skipIgnoredNewlines()
        let t = tokens[i]
        if i < tokens.count - 1 { i += 1 }
        return t
    }

    /// Whether the next token is the keyword or operator `t`.
    mutating func check(_ t: TokenType) -> Bool { peek.kind == .symbol(t) }

    /// Consumes the keyword or operator `t`, or fails with "expected WHAT, found …".
    @discardableResult
    mutating func expect(_ t: TokenType, _ what: String? = nil) throws -> Token {
        guard check(t) else { throw expected(what ?? "'\(t.rawValue)'") }
        return advance()
    }

    mutating func expectIdent(_ what: String) throws -> (String, SourceRange) {
        let t = peek
        if case .ident(let n) = t.kind { advance(); return (n, t.range) }
        throw expected(what)
    }

    /// Where a statement (or a construct continued on the next line: `else`, `catch`,
    /// `finally`, `| cmd`) may go on after newlines: the index of the first token that is not one.
    func indexPastNewlines() -> Int {
        var j = i
        while tokens[j].kind == .newline { j += 1 }
        return j
    }

    var previousRange: SourceRange { tokens[max(0, i - 1)].range }

    // MARK: errors

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .ident(let n): return "name '\(n)'"
        case .label(let n): return "option '\(n):'"
        case .symbol(let s) where s.isKeyword: return "keyword '\(s.rawValue)'"
        case .symbol(let s): return "'\(s.rawValue)'"
        case .int, .float: return "number \(source.text(t.range))"
        case .address(let a): return "address \(a)"
        case .string, .rawString: return "string"
        case .bytes: return "bytes literal"
        case .newline: return "end of line"
        case .eof: return "end of input"
        }
    }

    func error(_ message: String, _ range: SourceRange) -> Diagnostic {
        Diagnostic("syntax", message, location: SourceLocation(source: source, range: range))
    }

    mutating func expected(_ what: String) -> Diagnostic {
        let t = peek
        // At the end of input, point just past the last real token rather than at an empty last line.
        if t.kind == .eof, let last = tokens[..<i].last(where: { $0.kind != .newline && $0.kind != .eof }) {
            return error("expected \(what), found \(describe(t))", SourceRange(last.range.end, last.range.end))
        }
        return error("expected \(what), found \(describe(t))", t.range)
    }

    mutating func enter(_ range: SourceRange) throws {
        depth += 1
        if depth > Parser.maxDepth { throw error("nesting is too deep (more than \(Parser.maxDepth) levels)", range) }
    }
    mutating func leave() { depth -= 1 }

    /// Runs `body` with newlines insignificant (`true`, inside brackets) or separators (`false`,
    /// inside a block), and `{` after an expression an argument again.
    mutating func nested<T>(newlines ignored: Bool, _ body: (inout Parser) throws -> T) rethrows -> T {
        newlineIgnored.append(ignored)
        let saved = (noBraceArgs, reservedLabels)
        noBraceArgs = false
        reservedLabels = []
        defer { newlineIgnored.removeLast(); (noBraceArgs, reservedLabels) = saved }
        return try body(&self)
    }
}

extension TokenKind {
    var isLabel: Bool { if case .label = self { return true } else { return false } }
}
