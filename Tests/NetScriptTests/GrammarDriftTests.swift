import XCTest
@testable import NetScript

/// grammar.md's EBNF (§2) against the parser and the lexer, so that they cannot drift apart:
/// every rule has its `parseRuleName` function in `Sources/NetScript/Parser*.swift`, headed by
/// the rule as grammar.md writes it; every parse function is a rule; every quoted terminal is a
/// `TokenType` the lexer produces, and every `TokenType` is a terminal; every UPPERCASE token
/// class is one the lexer produces.
final class GrammarDriftTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The token classes the grammar may name, each with a text the lexer turns into it.
    static let tokenClasses: [String: (String, (TokenKind) -> Bool)] = [
        "NAME": ("name", { if case .ident = $0 { return true }; return false }),
        "LABEL": ("name:", { if case .label = $0 { return true }; return false }),
        "NUMBER": ("1_000", { if case .int = $0 { return true }; return false }),
        "STRING": ("\"s {x}\"", { if case .string = $0 { return true }; return false }),
        "RAWSTRING": ("'s'", { if case .rawString = $0 { return true }; return false }),
        "BYTES": ("b\"\\x00\"", { if case .bytes = $0 { return true }; return false }),
        "ADDRESS": ("2001:db8::/32", { if case .address = $0 { return true }; return false }),
        "NEWLINE": ("\n", { $0 == .newline }),
        "EOF": ("", { $0 == .eof }),
        "KEYWORD": ("nil", { $0.type?.isKeyword == true }),
    ]

    // MARK: reading EBNF

    enum EBNFToken: Equatable, CustomStringConvertible {
        case name(String)       // a rule or a token class
        case terminal(String)   // "…"
        case symbol(Character)  // = | { } [ ] ( ) ;
        var description: String {
            switch self {
            case .name(let n): return n
            case .terminal(let t): return "\"\(t)\""
            case .symbol(let c): return String(c)
            }
        }
    }

    struct Rule {
        var name: String
        var body: [EBNFToken]   // from the name to the closing ";", comments left out
    }

    /// Tokens of EBNF text, `(* comments *)` left out.
    static func ebnfTokens(_ text: String) throws -> [EBNFToken] {
        var out: [EBNFToken] = []
        let cs = Array(text)
        var k = 0
        while k < cs.count {
            let c = cs[k]
            if c.isWhitespace { k += 1; continue }
            if c == "(", k + 1 < cs.count, cs[k + 1] == "*" {
                var j = k + 2
                while j + 1 < cs.count, !(cs[j] == "*" && cs[j + 1] == ")") { j += 1 }
                guard j + 1 < cs.count else { throw Problem("unclosed (* comment") }
                k = j + 2
                continue
            }
            if c == "\"" {
                var j = k + 1
                while j < cs.count, cs[j] != "\"" { j += 1 }
                guard j < cs.count else { throw Problem("unclosed quote") }
                out.append(.terminal(String(cs[(k + 1)..<j])))
                k = j + 1
                continue
            }
            if c.isLetter || c == "_" {
                var j = k
                while j < cs.count, cs[j].isLetter || cs[j].isNumber || cs[j] == "_" { j += 1 }
                out.append(.name(String(cs[k..<j])))
                k = j
                continue
            }
            guard "=|{}[]();".contains(c) else { throw Problem("unexpected character \(c) in EBNF") }
            out.append(.symbol(c))
            k += 1
        }
        return out
    }

    struct Problem: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    static func rules(_ ebnf: String) throws -> [Rule] {
        let toks = try ebnfTokens(ebnf)
        var rules: [Rule] = []
        var k = 0
        while k < toks.count {
            guard case .name(let n) = toks[k], k + 1 < toks.count, toks[k + 1] == .symbol("=") else {
                throw Problem("expected `name =` at \(toks[k])")
            }
            guard let end = toks[k...].firstIndex(of: .symbol(";")) else { throw Problem("rule \(n) has no ';'") }
            rules.append(Rule(name: n, body: Array(toks[k...end])))
            k = end + 1
        }
        return rules
    }

    /// The first ```ebnf block of grammar.md (§2, the language; later blocks describe data).
    static func languageEBNF(_ markdown: String) throws -> String {
        guard let open = markdown.range(of: "```ebnf\n"),
              let close = markdown.range(of: "```", range: open.upperBound..<markdown.endIndex) else {
            throw Problem("grammar.md has no ```ebnf block")
        }
        return String(markdown[open.upperBound..<close.lowerBound])
    }

    static func functionName(_ rule: String) -> String {
        "parse" + rule.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// The parse functions of the parser sources, each with the EBNF of its heading comment
    /// (the `///` lines right above it, from `/// rule =` to the `;`).
    static func parseFunctions(_ sources: [String]) throws -> [String: [EBNFToken]?] {
        var out: [String: [EBNFToken]?] = [:]
        for text in sources {
            let lines = text.components(separatedBy: "\n")
            for (n, line) in lines.enumerated() {
                guard let r = line.range(of: #"func parse[A-Z][A-Za-z0-9]*\("#, options: .regularExpression) else { continue }
                let name = String(line[r].dropFirst(5).dropLast())
                var doc: [String] = []
                var j = n - 1
                while j >= 0, lines[j].trimmingCharacters(in: .whitespaces).hasPrefix("///") {
                    doc.insert(String(lines[j].trimmingCharacters(in: .whitespaces).dropFirst(3)), at: 0)
                    j -= 1
                }
                // The heading: from the line with `rule =` up to the first `;` outside quotes.
                var heading: [EBNFToken]? = nil
                if let start = doc.firstIndex(where: { $0.range(of: #"^\s*[a-z_]+\s+=\s"#, options: .regularExpression) != nil }) {
                    var toks: [EBNFToken] = []
                    for l in doc[start...] {
                        toks += (try? ebnfTokens(l)) ?? [.name("<unreadable: \(l)>")]
                        if let semi = toks.firstIndex(of: .symbol(";")) { toks = Array(toks[...semi]); break }
                    }
                    heading = toks
                }
                out[name] = heading
            }
        }
        return out
    }

    /// Everything that differs between the EBNF and the parser and lexer, one line each.
    static func drift(grammar ebnf: String, parserSources: [String]) throws -> [String] {
        var problems: [String] = []
        let rules = try rules(ebnf)
        let ruleNames = Set(rules.map(\.name))
        let functions = try parseFunctions(parserSources)
        for rule in rules {
            let fn = functionName(rule.name)
            guard let heading = functions[fn] else {
                problems.append("rule `\(rule.name)` has no function \(fn) in Sources/NetScript/Parser*.swift")
                continue
            }
            if heading != rule.body {
                problems.append("\(fn) is headed `\((heading ?? []).map(\.description).joined(separator: " "))` but grammar.md has `\(rule.body.map(\.description).joined(separator: " "))`")
            }
        }
        for fn in functions.keys.sorted() where !rules.contains(where: { functionName($0.name) == fn }) {
            problems.append("\(fn) is no rule of grammar.md")
        }
        var terminals = Set<String>()
        for rule in rules {
            for t in rule.body.dropFirst(2) {
                switch t {
                case .terminal(let s):
                    terminals.insert(s)
                    if TokenType(rawValue: s) == nil && ContextualWord(rawValue: s) == nil {
                        problems.append("terminal \"\(s)\" (rule `\(rule.name)`) is no TokenType or ContextualWord")
                    }
                case .name(let n) where n.first!.isUppercase:
                    if tokenClasses[n] == nil { problems.append("token class \(n) (rule `\(rule.name)`) is not one the lexer makes") }
                case .name(let n):
                    if !ruleNames.contains(n) { problems.append("rule `\(rule.name)` names `\(n)`, which is no rule") }
                default: break
                }
            }
        }
        for t in TokenType.allCases where !terminals.contains(t.rawValue) {
            problems.append("TokenType.\(t) (\"\(t.rawValue)\") is lexed but appears in no rule of grammar.md")
        }
        for w in ContextualWord.allCases where !terminals.contains(w.rawValue) {
            problems.append("ContextualWord.\(w) appears in no rule of grammar.md")
        }
        return problems
    }

    static func grammarText() throws -> String {
        try String(contentsOf: root.appendingPathComponent("grammar.md"), encoding: .utf8)
    }

    static func parserSources() throws -> [String] {
        let dir = root.appendingPathComponent("Sources/NetScript")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("Parser") && $0.hasSuffix(".swift") }
        XCTAssertGreaterThanOrEqual(names.count, 3, "Parser.swift, ParserStatements.swift, ParserExpressions.swift")
        return try names.sorted().map { try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8) }
    }

    // MARK: tests

    func testGrammarAndParserAgree() throws {
        let ebnf = try Self.languageEBNF(try Self.grammarText())
        let rules = try Self.rules(ebnf)
        XCTAssertGreaterThan(rules.count, 30)
        XCTAssertEqual(rules.first?.name, "program")
        let problems = try Self.drift(grammar: ebnf, parserSources: try Self.parserSources())
        XCTAssertEqual(problems, [], problems.joined(separator: "\n"))
    }

    /// The check finds a rule, a terminal and a changed heading that grammar.md gains alone.
    func testDriftIsCaught() throws {
        let ebnf = try Self.languageEBNF(try Self.grammarText())
        let sources = try Self.parserSources()
        let added = try Self.drift(grammar: ebnf + "\nunless = \"unless\" condition block ;\n", parserSources: sources)
        XCTAssertEqual(added, ["rule `unless` has no function parseUnless in Sources/NetScript/Parser*.swift",
                               "terminal \"unless\" (rule `unless`) is no TokenType or ContextualWord"])
        let changed = ebnf.replacingOccurrences(of: #"while       = "while" condition block ;"#,
                                                with: #"while       = "while" condition block [ "else" block ] ;"#)
        XCTAssertNotEqual(changed, ebnf)
        let c = try Self.drift(grammar: changed, parserSources: sources)
        XCTAssertEqual(c.count, 1, "\(c)")
        XCTAssertTrue(c.first?.hasPrefix("parseWhile is headed") == true, "\(c)")
        // A token the lexer makes but the grammar never uses is drift too.
        let dropped = ebnf.replacingOccurrences(of: #" | "..." NAME"#, with: "")
        XCTAssertNotEqual(dropped, ebnf)
        XCTAssertEqual(try Self.drift(grammar: dropped, parserSources: sources).last,
                       "TokenType.ellipsis (\"...\") is lexed but appears in no rule of grammar.md")
    }

    /// Each TokenType lexes from its spelling alone, and each token class from its sample.
    func testTokensLexAsTheGrammarNamesThem() throws {
        for t in TokenType.allCases {
            XCTAssertEqual(try Lexer.tokenize(Source(name: "t", text: t.rawValue)).map(\.kind), [.symbol(t), .eof], t.rawValue)
        }
        for (name, (sample, isIt)) in Self.tokenClasses {
            let first = try XCTUnwrap(Lexer.tokenize(Source(name: "t", text: sample)).first)
            XCTAssertTrue(isIt(first.kind), "\(name): \(sample) lexes as \(first.kind)")
        }
        XCTAssertEqual(Set(TokenType.allCases.filter(\.isKeyword).map(\.rawValue)), Lexer.keywords)
        XCTAssertEqual(Lexer.keywords.count, 20)
    }

    /// Characters that are no token are a syntax error naming them, at their place.
    func testUnknownCharactersAreSyntaxErrors() throws {
        for (text, message, column) in [("x = a ~ b", "unexpected character '~'", 7), ("x = a ? b : c", "unexpected character '?'", 7),
                                        ("x = @a", "unexpected character '@'", 5), ("x = $a", "unexpected character '$'", 5),
                                        ("f = x => x", "unexpected '=>': NetScript has no arrow functions (write fn(x) { … })", 7)] {
            do {
                _ = try Parser.parse(Source(name: "t", text: text))
                XCTFail("no error for \(text)")
            } catch let d as Diagnostic {
                XCTAssertEqual(d.kind, "syntax", text)
                XCTAssertEqual(d.message, message, text)
                XCTAssertEqual(d.location?.line, 1, text)
                XCTAssertEqual(d.location?.column, column, text)
            }
        }
    }
}
